"""`GET /api/v1/`: the API's version (the OpenAPI document's, bumped in its major by a breaking change: see
CHANGELOG.md) and links to what a client starts from."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, routers, serializers
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.schemas import DefaultSchema


class ApiRootSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="The API's version (semantic: a breaking change bumps the major).")
    schema = serializers.URLField(help_text="The OpenAPI document.")
    docs = serializers.URLField(help_text="The documentation, browsable.")
    auth_token = serializers.URLField()
    consignments = serializers.URLField()
    lab_results = serializers.URLField()
    reference = serializers.CharField(help_text="The code lists, `{list}` one of those the operation names.")


class ApiRootView(routers.APIRootView):
    permission_classes = [permissions.AllowAny]
    schema = DefaultSchema()  # DRF leaves its root out of the schema; this one is part of the contract

    @extend_schema(responses={200: ApiRootSerializer}, auth=[], summary="The API's version and where to start")
    def get(self, request, *args, **kwargs):
        def url(name, **kw):
            return reverse(name, kwargs=kw or None, request=request)

        return Response(
            {
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                "schema": url("api-schema"),
                "docs": url("api-docs"),
                "auth_token": url("api-token"),
                "consignments": url("consignment-list"),
                "lab_results": url("lab-results"),
                "reference": url("reference-list", list="LIST").replace("LIST", "{list}"),
            }
        )


class ApiRouter(routers.DefaultRouter):
    APIRootView = ApiRootView
