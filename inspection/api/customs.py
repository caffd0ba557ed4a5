"""The customs system's API (read-only, `Role.CUSTOMS`): a CHED's decision by its number or its MRN, and the
customs webhook. Anyone else gets a 404, as for a CHED they may not see."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inspection.errors import NotFound
from inspection.roles import Role, user_roles
from inspection.selectors import decision_in_force
from inspection.services.customs import customs_ched_find, customs_payload, customs_webhook_configure


class CustomsDecisionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    acceptable = serializers.BooleanField()
    in_force = serializers.BooleanField()
    decided_at = serializers.DateTimeField()
    countersigned = serializers.BooleanField(help_text="A refusal takes effect once a supervisor countersigns it.")


class CustomsChedSerializer(serializers.Serializer):
    ched = serializers.CharField(help_text="Our CHED number (the local series)")
    traces_reference = serializers.CharField(help_text="TRACES NT's number of the CHED, when known")
    ched_type = serializers.CharField()
    bcp = serializers.CharField()
    status = serializers.CharField()
    customs_status = serializers.CharField()
    customs_procedure = serializers.CharField()
    mrn = serializers.CharField()
    decision = CustomsDecisionSerializer(allow_null=True, help_text="The decision in force; null before it")
    consistent = serializers.BooleanField(help_text="Whether the declared customs procedure fits the decision")
    conflict = serializers.CharField(help_text="Why it does not, when it does not")


EXAMPLE = {
    "ched": "CHEDPP.MQ.2026.0000123",
    "traces_reference": "CHEDPP.FR.2026.0004567",
    "ched_type": "CHED-PP",
    "bcp": "FRFDF1",
    "status": "accepted",
    "customs_status": "non_union",
    "customs_procedure": "free_circulation",
    "mrn": "26FR00000000012349",
    "decision": {
        "code": "acceptable_for_internal_market",
        "label": "Acceptable for internal market",
        "acceptable": True,
        "in_force": True,
        "decided_at": "2026-12-03T10:12:00-04:00",
        "countersigned": False,
    },
    "consistent": True,
    "conflict": "",
}


def _customs_only(request) -> None:
    if Role.CUSTOMS not in user_roles(request.user):
        raise NotFound("Not found.")


class CustomsChedView(APIView):
    """`GET /api/v1/customs/cheds/?number=…` or `?mrn=…`, and `GET /api/v1/customs/cheds/{number}/`."""

    # anyone but customs gets a 404, as does a number or MRN that matches no submitted CHED (the schema says so)
    contract_statuses = ("404",)

    @extend_schema(
        summary="Customs: a CHED's decision by its number or by the MRN of its customs declaration",
        description=(
            "Customs role only (read-only API token). Exactly one of `number` (our CHED number) and `mrn`. "
            "Answers the CHED's numbers, status, customs data and decision in force, nothing else of the "
            "importer's declaration; 404 for an unknown number or a draft, 400 for a malformed MRN. The local "
            "counterpart of the EU Single Window's CHED exchange (Regulation (EU) 2022/2399)."
        ),
        parameters=[
            OpenApiParameter(
                "number", str, description="CHED number, ours (CHEDPP.MQ.2026.0000123) or TRACES NT's (CHEDPP.FR...)"
            ),
            OpenApiParameter("mrn", str, description="MRN of the customs declaration (18 characters)"),
        ],
        responses={200: CustomsChedSerializer},
        examples=[OpenApiExample("Accepted for the internal market", value=EXAMPLE, response_only=True)],
    )
    def get(self, request, reference=None):
        _customs_only(request)
        consignment = customs_ched_find(
            actor=request.user,
            number=reference or request.query_params.get("number", ""),
            mrn="" if reference else request.query_params.get("mrn", ""),
        )
        return Response(CustomsChedSerializer(customs_payload(consignment, decision_in_force(consignment))).data)


class CustomsChedDetailView(CustomsChedView):
    """`GET /api/v1/customs/cheds/{number}/`: the same answer, the number in the path (its own operation)."""

    @extend_schema(
        operation_id="api_v1_customs_cheds_by_number",
        summary="Customs: a CHED's decision by its number",
        description=(
            "Customs role only. `reference`: our CHED number or TRACES NT's. The same answer as the lookup by "
            "`?number=`; 404 for an unknown number or a draft."
        ),
        responses={200: CustomsChedSerializer},
        examples=[OpenApiExample("Accepted for the internal market", value=EXAMPLE, response_only=True)],
    )
    def get(self, request, reference=None):
        return super().get(request, reference=reference)


class CustomsWebhookSerializer(serializers.Serializer):
    url = serializers.CharField(allow_blank=True, max_length=200, help_text="HTTPS URL; empty to remove the webhook")


class CustomsWebhookView(APIView):
    """The customs system's webhook: told when a decision is taken (`decision.taken`) or revoked
    (`decision.revoked`), signed like the operators' (`X-PIF-Signature`)."""

    contract_statuses = ("404",)  # anyone but customs gets a 404

    @extend_schema(summary="Customs: the webhook in place", responses={200: CustomsWebhookSerializer})
    def get(self, request):
        _customs_only(request)
        subscription = getattr(request.user, "customs_subscription", None)
        return Response({"url": subscription.url if subscription else ""})

    @extend_schema(
        summary="Customs: set the webhook (a new secret each time, shown once)",
        request=CustomsWebhookSerializer,
        responses={200: CustomsWebhookSerializer},
    )
    def put(self, request):
        _customs_only(request)
        payload = CustomsWebhookSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        subscription, secret = customs_webhook_configure(actor=request.user, url=payload.validated_data["url"])
        response = Response({"url": subscription.url if subscription else "", "secret": secret})
        response["Cache-Control"] = "no-store"  # the answer holds the secret
        return response
