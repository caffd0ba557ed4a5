"""REST API v1, exports: an exporter's applications for phytosanitary certificates (`/api/v1/exports/`).
Thin adapters over `inspection.services.exports`; another company's application is a 404."""

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inspection.models import AuditEvent, DestinationRequirement, HubStatus, PhytosanitaryCertificate, Sample
from inspection.ports import export_step
from inspection.selectors import destination_requirements, export_applications_visible_to
from inspection.services.export_decisions import export_decision_record
from inspection.services.export_samples import export_inspection_record
from inspection.services.exports import (
    export_application_create,
    export_application_data,
    export_application_submit,
    export_application_update,
    export_check_record,
)
from inspection.services.hub import hub_prefetch, hub_state
from inspection.services.phyto import phyto_certificate_replace, phyto_certificate_withdraw
from inspection.timeline import export_timeline

from .idempotency import IDEMPOTENCY_KEY, idempotent

EXPORT_EXAMPLE = {
    "kind": "export",
    "draft": True,
    "consignor": {"name": "Banamart SAS", "address": "Habitation Lareinty, 97232 Le Lamentin, Martinique"},
    "consignee": {"name": "Fresh Tropics Inc.", "address": "2100 Rue Notre-Dame O, Montréal QC", "country": "CA"},
    "destination": {"country": "CA", "point_of_entry": "Montréal", "unlocode": "CAMTR"},
    "conveyance": {"mode": "sea", "id": "CMA CGM FORT SAINT LOUIS 0MQ3NS"},
    "distinguishing_marks": "BANAMART MQ 2026-48",
    "treatment": {"date": None, "name": "", "chemical": "", "duration_temperature": "", "concentration": ""},
    "additional_declarations": "",
    "lines": [
        {
            "description": "Bananes fraîches / Fresh bananas",
            "hs_code": "08039010",
            "botanical_name": "Musa acuminata",
            "eppo_code": "MUBAC",
            "net_weight_kg": "18000.000",
            "packages": 1000,
            "package_type": "CT",
            "place_of_production": "Habitation Lareinty, Le Lamentin (MQ)",
        }
    ],
}


class _Party(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, required=False)
    address = serializers.CharField(allow_blank=True, required=False)
    country = serializers.CharField(allow_blank=True, required=False)


class _Destination(serializers.Serializer):
    country = serializers.CharField(allow_blank=True)
    point_of_entry = serializers.CharField(allow_blank=True)
    unlocode = serializers.CharField(allow_blank=True, required=False)


class _Conveyance(serializers.Serializer):
    mode = serializers.CharField(allow_blank=True, help_text="sea, air or road")
    id = serializers.CharField(allow_blank=True, required=False, help_text="vessel and voyage, flight or vehicle")


class _Treatment(serializers.Serializer):
    date = serializers.DateField(allow_null=True, required=False)
    name = serializers.CharField(allow_blank=True, required=False)
    chemical = serializers.CharField(allow_blank=True, required=False)
    duration_temperature = serializers.CharField(allow_blank=True, required=False)
    concentration = serializers.CharField(allow_blank=True, required=False)
    information = serializers.CharField(allow_blank=True, required=False)


class _Reexport(serializers.Serializer):
    original_certificate = serializers.CharField(allow_blank=True, required=False)
    original_country = serializers.CharField(allow_blank=True, required=False)
    ched_reference = serializers.CharField(allow_blank=True, required=False)


class _Line(serializers.Serializer):
    description = serializers.CharField()
    hs_code = serializers.CharField()
    botanical_name = serializers.CharField()
    eppo_code = serializers.CharField(allow_blank=True, required=False)
    net_weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    packages = serializers.IntegerField(min_value=1)
    package_type = serializers.CharField()
    place_of_production = serializers.CharField()
    country_of_origin = serializers.CharField(required=False, help_text="ISO 3166 code; MQ when not given")


class ExportApplicationInput(serializers.Serializer):
    """The application's content (documents the body; the service checks every rule and names each error)."""

    kind = serializers.ChoiceField(choices=["export", "reexport"], required=False)
    draft = serializers.BooleanField(required=False, default=True, help_text="false: submit at once")
    consignor = _Party(required=False)
    consignee = _Party()
    destination = _Destination()
    conveyance = _Conveyance()
    distinguishing_marks = serializers.CharField(allow_blank=True, required=False)
    treatment = _Treatment(required=False)
    additional_declarations = serializers.CharField(allow_blank=True, required=False)
    reexport = _Reexport(required=False)
    lines = _Line(many=True)


class ExportSampleInput(serializers.Serializer):
    analysis = serializers.CharField(max_length=40, help_text="an analysis code of plant health")
    laboratory = serializers.CharField(max_length=40, help_text="a laboratory code")
    # the choices as text (the service checks them): a ChoiceField would name a second "Conservation" enum
    reason = serializers.CharField(max_length=20, help_text=" | ".join(Sample.Reason.values))
    conservation = serializers.CharField(max_length=20, help_text=" | ".join(Sample.Conservation.values))


class ExportCheckInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["documentary", "inspection"])
    result = serializers.ChoiceField(choices=["satisfactory", "not_satisfactory"])
    notes = serializers.CharField(allow_blank=True, required=False, help_text="required when not satisfactory")
    requirements_met = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="a satisfactory documentary check confirms every requirement of the destination (their ids)",
    )
    sample = ExportSampleInput(
        required=False, help_text="inspection only: the sample taken (the certificate waits for its lab result)"
    )

    def validate(self, attrs):
        if attrs.get("sample") and attrs["kind"] != "inspection":
            raise serializers.ValidationError({"sample": ["A sample is taken at the inspection."]})
        return attrs


class ExportRefuseInput(serializers.Serializer):
    reason = serializers.CharField()


class CertificateReplaceInput(serializers.Serializer):
    reason = serializers.CharField()
    changes = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="corrections: consignee_name, consignee_address, point_of_entry, distinguishing_marks, "
        "additional_declarations",
    )


class _Hub(serializers.Serializer):
    status = serializers.ChoiceField(choices=HubStatus.choices)
    status_label = serializers.CharField()
    event = serializers.ChoiceField(choices=["issued", "replaced", "withdrawn"], help_text="what the envelope told")
    to = serializers.CharField(help_text="the importing country's NPPO (ISO 3166 code)")
    delivery_number = serializers.CharField(help_text="the hub's delivery number; empty until the hub took it")
    tracking = serializers.CharField(help_text="the hub's tracking info (PendingDelivery, Delivered, ...)")
    error = serializers.CharField(help_text="why it failed, as the hub or the importing country said")
    updated_at = serializers.DateTimeField()


class _Certificate(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    url = serializers.URLField()
    ephyto_url = serializers.URLField()
    sha256 = serializers.CharField()
    verify_url = serializers.URLField()
    issued_at = serializers.DateTimeField()
    hub = _Hub(allow_null=True, help_text="its delivery through the IPPC ePhyto hub; null when none is owed")


class _Step(serializers.Serializer):
    at = serializers.DateTimeField()
    step = serializers.CharField()
    label = serializers.CharField()
    outcome = serializers.CharField()


class ExportApplicationListItem(serializers.Serializer):
    reference = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    destination_country = serializers.CharField()
    consignee_name = serializers.CharField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    certificates = _Certificate(many=True)

    def to_representation(self, instance):
        return {
            "reference": instance.reference,
            "kind": instance.kind,
            "status": instance.status,
            "status_label": str(instance.get_status_display()),
            "destination_country": str(instance.destination_country),
            "consignee_name": instance.consignee_name,
            "created_at": serializers.DateTimeField().to_representation(instance.created_at),
            "submitted_at": serializers.DateTimeField().to_representation(instance.submitted_at)
            if instance.submitted_at
            else None,
            "certificates": [certificate_links(c) for c in instance.certificates.all()],
        }


class _Requirement(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=DestinationRequirement.Kind.choices)
    text = serializers.CharField()
    legal_reference = serializers.CharField(help_text="the text and its article or section")
    source = serializers.URLField()
    checked_on = serializers.DateField(help_text="the day the source was read")
    read = serializers.BooleanField(help_text="false: an assumption, the text itself was not read")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)


class ExportApplicationDetail(ExportApplicationListItem, ExportApplicationInput):
    refusal_reason = serializers.CharField()
    timeline = _Step(many=True)
    requirements = _Requirement(many=True, help_text="the destination's requirements in force: a checklist")

    def to_representation(self, instance):
        data = ExportApplicationListItem.to_representation(self, instance)
        data.update(export_application_data(instance))
        data["refusal_reason"] = instance.refusal_reason
        data["requirements"] = [requirement_data(r) for r in destination_requirements(instance)]
        data["timeline"] = [
            {**step, "at": serializers.DateTimeField().to_representation(step["at"]), "outcome": str(step["outcome"])}
            for step in export_timeline(self.context["events"])
        ]
        return data


def requirement_data(requirement: DestinationRequirement) -> dict:
    """A destination requirement for the checklist, with its source and whether it was read."""
    return {
        "id": requirement.pk,
        "code": requirement.code,
        "kind": requirement.kind,
        "text": requirement.text,
        "legal_reference": requirement.legal_reference,
        "source": requirement.source,
        "checked_on": requirement.checked_on.isoformat(),
        "read": requirement.read,
        "valid_from": requirement.valid_from.isoformat(),
        "valid_to": requirement.valid_to.isoformat() if requirement.valid_to else None,
    }


def certificate_links(certificate: PhytosanitaryCertificate) -> dict:
    from inspection.certificates.documents import verify_url

    site = settings.SITE_URL.rstrip("/")
    return {
        "number": certificate.number,
        "kind": certificate.kind,
        "status": certificate.status,
        "url": site + reverse("phyto-pdf", kwargs={"number": certificate.number}),
        "ephyto_url": site + reverse("phyto-ephyto", kwargs={"number": certificate.number}),
        "sha256": certificate.sha256,
        "verify_url": verify_url(certificate.number, certificate.verify_key),
        "issued_at": serializers.DateTimeField().to_representation(certificate.issued_at),
        "hub": _hub_representation(certificate),
    }


def _hub_representation(certificate: PhytosanitaryCertificate) -> dict | None:
    state = hub_state(certificate)
    if state is not None:
        state["updated_at"] = serializers.DateTimeField().to_representation(state["updated_at"])
    return state


class ExportApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Applications for phytosanitary certificates. An exporter sees its own company's only; another company's
    is a 404."""

    lookup_field = "reference"
    lookup_url_kwarg = "application"
    lookup_value_regex = r"[^/]+"
    serializer_class = ExportApplicationListItem

    def get_queryset(self):
        return export_applications_visible_to(self.request.user).prefetch_related(
            Prefetch(
                "certificates",
                queryset=PhytosanitaryCertificate.objects.order_by("issued_at", "pk").prefetch_related(hub_prefetch()),
            ),
            "lines",
        )

    def _detail(self, application, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=application.pk)
        events = AuditEvent.objects.filter(consignment=None, data__export=fresh.reference).order_by("seq")
        return Response(ExportApplicationDetail(fresh, context={"events": events}).data, status=code)

    @extend_schema(summary="The company's export applications, newest first (paginated, 25 a page)")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ExportApplicationDetail}, summary="One export application")
    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=ExportApplicationInput,
        responses={201: ExportApplicationDetail},
        examples=[OpenApiExample("Bananas to Montréal", value=EXPORT_EXAMPLE, request_only=True)],
        summary="Apply for a phytosanitary certificate (as a draft, or submitted at once)",
    )
    @idempotent
    def create(self, request):
        data = request.data if isinstance(request.data, dict) else None
        draft = data.get("draft", True) if data is not None else True
        if not isinstance(draft, bool):
            raise serializers.ValidationError({"draft": ["true or false."]})
        body = {k: v for k, v in data.items() if k != "draft"} if data is not None else request.data
        application = export_application_create(actor=request.user, application=body, draft=draft)
        return self._detail(application, status.HTTP_201_CREATED)

    @extend_schema(request=ExportApplicationInput, responses={200: ExportApplicationDetail}, summary="Replace a draft")
    def update(self, request, application=None):
        found = self.get_object()
        export_application_update(actor=request.user, application=found, data=request.data)
        return self._detail(found)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={200: ExportApplicationDetail},
        summary="Submit a draft to the post",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def submit(self, request, application=None):
        found = export_application_submit(actor=request.user, application=self.get_object())
        return self._detail(found)

    # --- the post: checks and decision (inspectors, certifying officers), each a step of the export flow ----
    # (`inspection.ports.export_step`: the step's open task is claimed and completed, as its task form would)

    @extend_schema(
        request=ExportCheckInput,
        responses={201: ExportApplicationDetail},
        summary="Staff: record the documentary check or the inspection",
        description="The step's task in the export flow is claimed and completed: 409 when it is not open (done, "
        "or the documentary check not yet recorded before an inspection).",
    )
    @action(detail=True, methods=["post"])
    def checks(self, request, application=None):
        found = self.get_object()
        body = ExportCheckInput(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        check = body.validated_data
        export_step(
            user=request.user,
            application=found,
            step=check["kind"],
            record=lambda: (
                export_check_record(
                    actor=request.user,
                    application=found,
                    kind=check["kind"],
                    result=check["result"],
                    notes=check.get("notes", ""),
                    requirements_met=check.get("requirements_met"),
                )
                if check["kind"] == "documentary"
                else export_inspection_record(
                    actor=request.user,
                    application=found,
                    result=check["result"],
                    notes=check.get("notes", ""),
                    sample=check.get("sample"),
                )
            ),
        )
        return self._detail(found, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={202: ExportApplicationDetail},
        summary="Certifying officer: issue the certificate",
        description="Decides the issue (the export flow's decision task); the signed certificate follows within "
        "seconds, made by a worker: the application then reads `issued`, with its certificate.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def issue(self, request, application=None):
        found = self.get_object()
        export_step(
            user=request.user,
            application=found,
            step="decision",
            record=lambda: export_decision_record(actor=request.user, application=found, issue=True),
        )
        return self._detail(found, status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=ExportRefuseInput,
        responses={200: ExportApplicationDetail},
        summary="Certifying officer: refuse the certificate",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def refuse(self, request, application=None):
        found = self.get_object()
        body = request.data if isinstance(request.data, dict) else {}
        reason = str(body.get("reason", "") or "")
        export_step(
            user=request.user,
            application=found,
            step="decision",
            record=lambda: export_decision_record(actor=request.user, application=found, issue=False, reason=reason),
        )
        return self._detail(found)

    @extend_schema(
        request=CertificateReplaceInput,
        responses={201: ExportApplicationDetail},
        summary="Certifying officer or supervisor: replace the valid certificate (ISPM 12 §1.3.1)",
    )
    @action(detail=True, methods=["post"], url_path="replace-certificate", url_name="replace-certificate")
    @idempotent
    def replace_certificate(self, request, application=None):
        found = self.get_object()
        body = request.data if isinstance(request.data, dict) else {}
        phyto_certificate_replace(
            actor=request.user,
            application=found,
            reason=str(body.get("reason", "") or ""),
            changes=body.get("changes") or {},
        )
        return self._detail(found, status.HTTP_201_CREATED)

    @extend_schema(
        request=ExportRefuseInput,
        responses={200: ExportApplicationDetail},
        summary="Certifying officer or supervisor: withdraw the valid certificate",
    )
    @action(detail=True, methods=["post"], url_path="withdraw-certificate", url_name="withdraw-certificate")
    @idempotent
    def withdraw_certificate(self, request, application=None):
        found = self.get_object()
        body = request.data if isinstance(request.data, dict) else {}
        phyto_certificate_withdraw(actor=request.user, application=found, reason=str(body.get("reason", "") or ""))
        return self._detail(found)
