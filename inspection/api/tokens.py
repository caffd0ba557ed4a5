"""`POST /api/v1/auth/token/`: an API token for a username and password (an `ApiToken`, stored hashed)."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from inspection.services.api_tokens import api_token_login


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class LoginTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key, shown this once: send it as `Authorization: Token <key>`")
    expires_at = serializers.DateTimeField()


class LoginTokenView(APIView):
    """A new key for the user's username and password, valid `API_LOGIN_TOKEN_DAYS` days. The anonymous rate
    limit applies, and `authenticate()` is given Django's request so that django-axes counts the failures and
    refuses a locked account (`inspection.login_lockout`)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(request=LoginSerializer, responses={200: LoginTokenSerializer}, auth=[])
    def post(self, request):
        login = LoginSerializer(data=request.data)
        login.is_valid(raise_exception=True)
        user = authenticate(request._request, **login.validated_data)
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]}, code="authorization"
            )
        token, key = api_token_login(actor=user)
        response = Response(LoginTokenSerializer({"token": key, "expires_at": token.expires_at}).data)
        response["Cache-Control"] = "no-store"  # the answer is a key
        return response
