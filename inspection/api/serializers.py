"""The API's shapes. They check types, sizes and formats only; the rules live in `inspection.services.part_one`."""

from django.core.validators import RegexValidator
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from inspection import part_one_schema
from inspection.models import MAX_NUMBER_OF_ANIMALS, Certificate, Consignment, ControlPoint, FeeCategory, FeeCheck
from inspection.selectors import consignment_decision, consignment_fees, consignment_lineage, consignment_part_one
from inspection.timeline import importer_timeline

# The CHED types the API knows (the `ched-types` code list), the enum of every `ched_type` in the schema.
CHED_TYPE_CODES = ("CHED-A", "CHED-P", "CHED-PP", "CHED-D", "NAT-PP")
POSITIVE_INT_MAX = part_one_schema.POSITIVE_INT_MAX


def _text(max_length=200, **kw):
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length, **kw)


def _field(field: part_one_schema.PartOneField) -> serializers.Field:
    """The serializer field of a Part I field of the schema: types and sizes only (the rules are the service's)."""
    extra = {"help_text": field.help_text} if field.help_text else {}
    if field.kind == "decimal":
        return serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True, **extra)
    if field.kind == "integer":
        bounds = {"min_value": 1, "max_value": MAX_NUMBER_OF_ANIMALS} if field.key == "number_of_animals" else {}
        return serializers.IntegerField(
            required=False, allow_null=True, **({"min_value": 0, "max_value": POSITIVE_INT_MAX} | bounds), **extra
        )
    if field.kind == "datetime":
        return serializers.DateTimeField(required=False, allow_null=True, **extra)
    if field.kind == "choice":
        return serializers.ChoiceField(choices=field.choices, required=False, allow_blank=True, **extra)
    if field.kind == "country":
        return _text(2, help_text=field.help_text or "ISO 3166-1 alpha-2 code")
    return _text(field.max_length, **extra)


def _serializer(name: str, schema_fields, **more) -> type[serializers.Serializer]:
    """A serializer class of schema fields (named, for the OpenAPI components)."""
    return type(name, (serializers.Serializer,), {f.key: _field(f) for f in schema_fields} | more)


PartySerializer = _serializer("PartySerializer", part_one_schema.fields("consignor"))
PlaceOfDestinationSerializer = _serializer(
    "PlaceOfDestinationSerializer", part_one_schema.fields("place_of_destination")
)
TransporterSerializer = _serializer("TransporterSerializer", part_one_schema.fields("transporter"))
ArrivalSerializer = _serializer("ArrivalSerializer", part_one_schema.fields("arrival"))
TransitSerializer = _serializer("TransitSerializer", part_one_schema.fields("transit"))
AfterBcpSerializer = _serializer("AfterBcpSerializer", part_one_schema.fields("after_bcp"))
CommodityLineSerializer = _serializer("CommodityLineSerializer", part_one_schema.fields(line=True))


# What the rules read as a container number (spaces anywhere, either case), or nothing in a draft; its check
# digit is checked on submit (`inspection.services.part_one_rules`).
CONTAINER_NUMBER_INPUT = r"^ *(?:(?:[A-Za-z] *){3}[UJZRujzr] *(?:[0-9] *){7})?$"


class ContainerSerializer(serializers.Serializer):
    number = _text(
        20,
        validators=[
            RegexValidator(
                CONTAINER_NUMBER_INPUT,
                _("“%(value)s” is not a container number (ISO 6346: 4 letters and 7 digits, e.g. CSQU3054383)."),
            )
        ],
        help_text="ISO 6346 container number: owner code, category (U, J, Z or R), 6 digits and the check digit, "
        "e.g. CSQU3054383 (the check digit is checked on submit)",
    )
    seal = _text(40)


class DocumentReferenceSerializer(serializers.Serializer):
    type = _text(40)
    reference = _text(100)


NESTED = {
    "consignor": PartySerializer,
    "consignee": PartySerializer,
    "place_of_destination": PlaceOfDestinationSerializer,
    "arrival": ArrivalSerializer,
    "transit": TransitSerializer,
    "after_bcp": AfterBcpSerializer,
    "transporter": TransporterSerializer,
}
# CHED Part I, as in the public contract (docs/api.md): the fields of `inspection.part_one_schema`, in its order.
PartOneSerializer = type(
    "PartOneSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "CHED Part I, as in the public contract (docs/api.md).",
        # NAT-PP: the national plant-health entry of plants from mainland France and the Union, not a CHED
        # (docs/regulation.md, section 3)
        "ched_type": serializers.ChoiceField(choices=CHED_TYPE_CODES),
        **{
            (f.group or f.key): (NESTED[f.group](required=False) if f.group else _field(f))
            for f in part_one_schema.PART_ONE
            if not f.on_line and f.path != "ched_type"
        },
        "containers": ContainerSerializer(many=True, required=False),
        "commodities": CommodityLineSerializer(many=True, required=False),
        "accompanying_documents": DocumentReferenceSerializer(many=True, required=False),
    },
)


class PartOneCreateSerializer(PartOneSerializer):
    draft = serializers.BooleanField(required=False, default=False, help_text="Keep as a draft, submit later")


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    step = serializers.CharField()
    label = serializers.CharField()
    outcome = serializers.CharField()


class ArrivalPointSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Its code in `GET /api/v1/reference/control-points/`.")
    name = serializers.CharField()
    address = serializers.CharField()
    kind = serializers.ChoiceField(choices=ControlPoint.Kind.choices)


class ArrivalConfirmationSerializer(serializers.Serializer):
    arrived = serializers.BooleanField()
    arrived_on = serializers.DateField(allow_null=True)
    seals_intact = serializers.BooleanField(allow_null=True)
    confirmed_at = serializers.DateTimeField()


class DecisionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    acceptable = serializers.BooleanField()
    measure = serializers.CharField(allow_null=True)
    measure_deadline = serializers.DateField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    decided_at = serializers.DateTimeField()
    exit_bcp = serializers.CharField(help_text="Transit, temporary admission: the BCP of exit.")
    destination_country = serializers.CharField(help_text="Transit, transhipment: the third country (ISO).")
    destination = serializers.CharField(help_text="Channelled goods: the establishment or control point.")
    warehouse = serializers.CharField(help_text="Specific warehouse: the approved warehouse.")
    control_point = serializers.CharField(help_text="Transfer to a control point (CHED-PP, CHED-D): the control point.")
    control_point_code = serializers.CharField(help_text="Transfer to a control point: its IMSOC code.")
    next_bcp = serializers.CharField(help_text="Onward travel (CHED-A): the next BCP on the same vessel or aircraft.")
    onward_facility = serializers.CharField(
        help_text="Onward transportation (CHED-PP, CHED-D): the onward transportation facility."
    )
    arrival_point = ArrivalPointSerializer(
        allow_null=True,
        help_text="Channelled, transfer, onward transportation, specific warehouse: where the goods must arrive.",
    )
    arrival = ArrivalConfirmationSerializer(
        allow_null=True,
        help_text="The arrival confirmed (or not) by the receiving side, Part III; null until then.",
    )


class CertificateLinkSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=Certificate.Kind.choices)
    status = serializers.ChoiceField(choices=Certificate.Status.choices)
    issued_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="The signed PDF (same authentication as the API).")
    verify_url = serializers.URLField(
        help_text="The public check behind the QR code, with the certificate's verification code."
    )
    sha256 = serializers.CharField()


class FeeLineSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=FeeCategory.choices)
    charges = serializers.ChoiceField(choices=FeeCheck.choices, help_text="The consignment, or one kind of check done.")
    label_fr = serializers.CharField()
    label_en = serializers.CharField()
    fixed = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="EUR")
    per_tonne = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="EUR per tonne")
    tonnes = serializers.DecimalField(max_digits=12, decimal_places=3)
    count = serializers.IntegerField(help_text="How many times the rate applies (samples analysed, for one).")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="EUR")
    source = serializers.CharField(help_text="The text and point the rate comes from.")
    presented = serializers.CharField(
        required=False, help_text="A part of a split consignment: the CHED of the consignment presented at the post."
    )
    share = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, help_text="The part's share (by weight) of that consignment."
    )
    whole_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text="EUR: the amount for the whole consignment."
    )


class FeeStatementSerializer(serializers.Serializer):
    """The fees of the consignment's official controls (Regulation (EU) 2017/625, art. 79), drawn when the
    officer decides; shown once the decision is in force."""

    reference = serializers.CharField(source="consignment.reference")
    ched_type = serializers.CharField(source="consignment.ched_type.code")
    category = serializers.ChoiceField(source="fee_category", choices=FeeCategory.choices)
    weight_tonnes = serializers.DecimalField(source="fee_weight_tonnes", max_digits=12, decimal_places=3)
    total_eur = serializers.DecimalField(source="fee_total_eur", max_digits=12, decimal_places=2)
    currency = serializers.SerializerMethodField()
    stated_at = serializers.DateTimeField(source="decided_at")
    lines = FeeLineSerializer(source="fee_lines", many=True)
    url = serializers.SerializerMethodField(help_text="The statement as a PDF (same authentication as the API).")

    def get_currency(self, statement) -> str:
        return "EUR"

    def get_url(self, statement) -> str:
        path = reverse("fee-statement-pdf", kwargs={"reference": statement.consignment.reference})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, JPEG or PNG (recognised by content), at most PIF_UPLOAD_MAX_BYTES")
    type = serializers.CharField(max_length=40, help_text="Document type code, e.g. PHYTOSANITARY_CERTIFICATE")
    reference = _text(100, help_text="The document's own number; defaults to the file name")


class DocumentFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField(source="document_type.code")
    reference = serializers.CharField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, document) -> str:
        return reverse(
            "consignment-document-file",
            kwargs={"reference": document.consignment.reference, "document_id": document.pk},
        )


class ConsignmentSerializer(PartOneSerializer):
    """A consignment as its importer sees it: Part I, status and the public timeline."""

    reference = serializers.CharField(read_only=True)
    traces_reference = serializers.CharField(read_only=True, help_text="TRACES NT's number of the CHED, when known")
    status = serializers.CharField(read_only=True)
    status_label = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    timeline = TimelineEntrySerializer(many=True, read_only=True)
    decision = DecisionSerializer(read_only=True, allow_null=True)
    certificates = CertificateLinkSerializer(many=True, read_only=True)
    fees = FeeStatementSerializer(read_only=True, allow_null=True, help_text="Once the decision is in force.")
    files = DocumentFileSerializer(many=True, read_only=True, help_text="Uploaded accompanying documents")
    replaces = serializers.CharField(read_only=True, allow_null=True, help_text="The CHED this one replaces (box II.1)")
    replaced_by = serializers.CharField(read_only=True, allow_null=True, help_text="The CHED that replaced this one")
    split_from = serializers.CharField(
        read_only=True, allow_null=True, help_text="The consignment this one is a part of (box II.1)"
    )
    parts = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The parts this consignment was split into (II.24)"
    )

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def to_representation(self, instance: Consignment):
        return super().to_representation(
            {
                **consignment_part_one(instance),
                "reference": instance.reference,
                "traces_reference": instance.traces_reference,
                "status": instance.status,
                "status_label": instance.get_status_display(),
                "created_at": instance.created_at,
                "submitted_at": instance.submitted_at,
                "timeline": importer_timeline(instance.audit_events.all()),
                "decision": consignment_decision(instance),
                "certificates": [
                    {
                        "number": cert.number,
                        "kind": cert.kind,
                        "status": cert.status,
                        "issued_at": cert.issued_at,
                        "url": self._absolute(reverse("certificate-pdf", kwargs={"number": cert.number})),
                        "verify_url": self._absolute(
                            reverse("verify", kwargs={"number": cert.number, "key": cert.verify_key})
                        ),
                        "sha256": cert.sha256,
                    }
                    for cert in instance.certificates.all()
                ],
                "files": [d for d in instance.documents.all() if d.has_file],
                "fees": consignment_fees(instance),
                **consignment_lineage(instance),
            }
        )


class ConsignmentListSerializer(serializers.ModelSerializer):
    ched_type = serializers.CharField(source="ched_type.code")
    bcp = serializers.CharField(source="bcp.code", allow_null=True, default=None)
    status_label = serializers.CharField(source="get_status_display")
    expected_at = serializers.DateTimeField(source="expected_arrival", allow_null=True)  # a draft may have none
    country_of_origin = serializers.CharField()

    class Meta:
        model = Consignment
        fields = [
            "reference",
            "ched_type",
            "status",
            "status_label",
            "bcp",
            "country_of_origin",
            "expected_at",
            "consignor_name",
            "created_at",
            "submitted_at",
        ]


class EphytoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The SPSCertificate XML")


class EphytoImportSerializer(ConsignmentSerializer):
    unmapped = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="What the certificate holds that was not mapped"
    )


class CommodityLinesImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV (comma or semicolon) or Excel .xlsx with the columns cn_code, description, species, "
        "eppo_code, net_weight_kg, packages, package_type (see the template in the portal)"
    )
    replace = serializers.BooleanField(required=False, default=False, help_text="Replace the draft's lines")
