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
    """`Authorization: Token <key>` with a key made in the portal (stored hashed, revocable), or the key
    `POST /api/v1/auth/token/` gives (DRF's authtoken, as in docs/api.md)."""

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(key)).first()
        if token is None:
            return super().authenticate_credentials(key)
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class TokenRateThrottle(SimpleRateThrottle):
    """A rate per token (`API_THROTTLE_TOKEN`), on top of the rate per user: one runaway system does not use
    up its company's other systems' allowance."""

    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"apitoken-{request.auth.pk}"
        elif request.auth is not None and getattr(request.auth, "user_id", None):
            ident = f"authtoken-{request.auth.user_id}"
        else:
            return None  # session and anonymous calls have their own limits
        return self.cache_format % {"scope": self.scope, "ident": ident}
