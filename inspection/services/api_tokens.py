"""API tokens, the one kind of key the API takes: an importer makes one per system that calls the API in the
portal, and revokes it when that system goes; any user gets one that expires from `POST /api/v1/auth/token/`."""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import DomainInvalid, NotPermitted
from inspection.models import ApiToken
from inspection.roles import Role
from inspection.services.permissions import require_role

MAX_ACTIVE_TOKENS = 20
# A script that logs in on every run makes a key each time: its older login keys are revoked beyond this.
MAX_LOGIN_TOKENS = 10
KEY_PREFIX = "pif_"


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _api_token_make(*, user, name: str, expires_at=None) -> tuple[ApiToken, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=key[:12], key_hash=api_token_hash(key), expires_at=expires_at
    )
    return token, key


@atomic_service
def api_token_create(*, actor, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor (an importer or an exporter), named after the system that will use it.
    Returns the token and its key, which is shown this once: only its SHA-256 is kept."""
    require_role(actor, Role.IMPORTER, Role.EXPORTER)
    name = (name or "").strip()
    if not name:
        raise DomainInvalid({"name": [_("Name the system that will use this token.")]})
    # The login endpoint's tokens expire and are capped on their own: they never use up this allowance.
    active = ApiToken.objects.select_for_update(no_key=True).filter(
        user=actor, revoked_at__isnull=True, expires_at__isnull=True
    )
    if active.count() >= MAX_ACTIVE_TOKENS:
        raise DomainInvalid({"name": [_("At most %(n)s active tokens: revoke one first.") % {"n": MAX_ACTIVE_TOKENS}]})
    token, key = _api_token_make(user=actor, name=name)
    audit_record(actor=actor, action=AuditAction.API_TOKEN_CREATED, data={"token": token.pk, "name": token.name})
    return token, key


@atomic_service
def api_token_login(*, actor) -> tuple[ApiToken, str]:
    """A token for a user who has just given their password to `POST /api/v1/auth/token/` (the caller
    authenticates them, through django-axes's lockout). Any active user may have one, as with the portal's
    session. It expires after `API_LOGIN_TOKEN_DAYS` days; the key is shown once. Each call makes a new key
    (a hashed key cannot be given again): of the user's unexpired login tokens, the `MAX_LOGIN_TOKENS` newest
    stay valid and older ones are revoked, so a script that logs in on every run leaves no pile of keys."""
    if not actor.is_active:
        raise NotPermitted(_("User inactive or deleted."))
    now = timezone.now()
    token, key = _api_token_make(
        user=actor,
        name=_("API login"),
        expires_at=now + datetime.timedelta(days=settings.API_LOGIN_TOKEN_DAYS),
    )
    older = (
        ApiToken.objects.select_for_update(no_key=True)
        .filter(user=actor, revoked_at__isnull=True, expires_at__gt=now)
        .exclude(pk=token.pk)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[MAX_LOGIN_TOKENS - 1 :]
    )
    ApiToken.objects.filter(pk__in=list(older)).update(revoked_at=now)
    audit_record(
        actor=actor,
        action=AuditAction.API_TOKEN_CREATED,
        data={"token": token.pk, "name": token.name, "expires_at": token.expires_at.isoformat()},
    )
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
