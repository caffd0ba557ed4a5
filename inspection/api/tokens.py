"""`POST /api/v1/auth/token/`: a user's API token for their username and password."""

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle


class LoginLockedTokenView(ObtainAuthToken):
    """DRF's view, with the anonymous rate limit it turns off, and its `authenticate()` given Django's
    request so that django-axes counts failures and refuses a locked account (`inspection.login_lockout`)."""

    throttle_classes = [AnonRateThrottle]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "request": self.request._request}
