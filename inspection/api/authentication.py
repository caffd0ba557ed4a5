"""API authentication and rate limits per token."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.throttling import SimpleRateThrottle

from inspection.models import ApiToken
from inspection.services.api_tokens import api_token_hash

LAST_USED_PRECISION = datetime.timedelta(minutes=1)  # one write a minute per token, not one per call


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` with an `ApiToken`'s key: made in the portal, or given by
    `POST /api/v1/auth/token/`. Only the key's SHA-256 is looked up; there is no other kind of token."""

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            message = _("This token has expired: ask POST /api/v1/auth/token/ for a new one.")
            raise exceptions.AuthenticationFailed(message)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class TokenRateThrottle(SimpleRateThrottle):
    """A rate per token (`API_THROTTLE_TOKEN`), on top of the rate per user: one runaway system does not use
    up its company's other systems' allowance."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None  # session and anonymous calls have their own limits
        return self.cache_format % {"scope": self.scope, "ident": f"apitoken-{request.auth.pk}"}
