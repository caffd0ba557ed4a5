"""API tokens: an importer makes one per system that calls the API, and revokes it when that system goes."""

import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid, NotPermitted
from inspection.models import ApiToken
from inspection.roles import Role
from inspection.services.permissions import require_role

MAX_ACTIVE_TOKENS = 20
KEY_PREFIX = "pif_"


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@atomic_service
def api_token_create(*, actor, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor (an importer), named after the system that will use it. Returns the token
    and its key, which is shown this once: only its SHA-256 is kept."""
    require_role(actor, Role.IMPORTER)
    name = (name or "").strip()
    if not name:
        raise DomainInvalid({"name": [_("Name the system that will use this token.")]})
    if ApiToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise DomainInvalid({"name": [_("At most %(n)s active tokens: revoke one first.") % {"n": MAX_ACTIVE_TOKENS}]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=actor, name=name[:100], prefix=key[:12], key_hash=api_token_hash(key))
    audit_record(actor=actor, action=AuditAction.API_TOKEN_CREATED, data={"token": token.pk, "name": token.name})
    return token, key


@atomic_service
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's own tokens; calls made with it fail from now on. Revoking twice is harmless."""
    if token.user_id != actor.pk:
        raise NotPermitted(_("This token is not yours."))
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        audit_record(actor=actor, action=AuditAction.API_TOKEN_REVOKED, data={"token": token.pk, "name": token.name})
    token.refresh_from_db()
    return token
