"""REST API v1: thin adapters over the services (the public contract: docs/api.md)."""

import datetime

from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from inspection.downloads import document_response
from inspection.selectors import consignment_sps_xml, consignment_with_part_one, consignments_visible_to
from inspection.services.amendments import consignment_amend
from inspection.services.commodity_import import commodity_lines_import
from inspection.services.consignments import (
    consignment_cancel,
    consignment_clone,
    consignment_create,
    consignment_submit,
    consignment_update_draft,
)
from inspection.services.customs import consignment_traces_reference_set
from inspection.services.documents import document_remove, document_upload
from inspection.services.ephyto import ephyto_import
from inspection.services.sps_import import SPS_XML_MAX_BYTES, consignment_sps_import, sps_xml_too_large

from .filters import ConsignmentApiFilter
from .idempotency import IDEMPOTENCY_KEY, idempotent
from .parsers import BoundedJSONParser, TextXmlBodyParser, XmlBodyParser
from .schema import ERROR
from .serializers import (
    CommodityLinesImportSerializer,
    ConsignmentListSerializer,
    ConsignmentSerializer,
    DocumentFileSerializer,
    DocumentUploadSerializer,
    EphytoImportSerializer,
    EphytoUploadSerializer,
    PartOneCreateSerializer,
    PartOneSerializer,
)
from .successors import SuccessorActions

# An XML document as the body, or as a multipart `file` (the imports of ePhyto and SPS XML).
XML_UPLOAD_PARSERS = [XmlBodyParser, TextXmlBodyParser, MultiPartParser]


def _in_three_days() -> str:
    """An arrival three days from today, 08:00 in Martinique: the worked example stays valid whatever the day the
    schema is read (a submit needs an arrival in the future, and within the BCP's notice)."""
    day = timezone.localdate() + datetime.timedelta(days=3)
    return datetime.datetime.combine(
        day, datetime.time(8), tzinfo=datetime.timezone(datetime.timedelta(hours=-4))
    ).isoformat()


PART_ONE_EXAMPLE = {
    "ched_type": "CHED-PP",
    "bcp": "FRFDF1",
    "consignor": {"name": "Finca La Esperanza", "address": "Km 4 Carretera Norte, Santo Domingo", "country": "DO"},
    "consignee": {"name": "Antilles Primeurs SARL", "address": "ZI de la Lézarde, 97232 Le Lamentin", "country": "FR"},
    "country_of_origin": "DO",
    "country_of_dispatch": "DO",
    "place_of_destination": {
        "name": "Antilles Primeurs SARL, entrepôt du Lamentin",
        "address": "ZI de la Lézarde, 97232 Le Lamentin",
        "country": "MQ",
    },
    "purpose": "internal_market",
    "arrival": {
        "expected_at": lazy(_in_three_days, str)(),
        "transport_mode": "sea",
        "transport_id": "CMA CGM FORT SAINT PIERRE 0MQ2NS",
        "transport_document": "CMDU DOM 1234567",
    },
    "containers": [{"number": "CMAU1234564", "seal": "FX123456"}],
    "commodities": [
        {
            "cn_code": "08045000",
            "description": "Mangues fraîches",
            "species": "Mangifera indica",
            "eppo_code": "MNGIN",
            "net_weight_kg": "12000.000",
            "packages": 2400,
            "package_type": "CT",
        }
    ],
    "accompanying_documents": [{"type": "PHYTOSANITARY_CERTIFICATE", "reference": "DO-2026-000123"}],
}


def _plain_dicts(value):
    """DRF's validated data (OrderedDicts, nested) as plain dicts and lists."""
    if isinstance(value, dict):
        return {key: _plain_dicts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_dicts(item) for item in value]
    return value


class TracesReferenceSerializer(serializers.Serializer):
    traces_reference = serializers.CharField(
        allow_blank=True,
        max_length=30,
        help_text="TRACES NT's CHED number, e.g. CHEDPP.FR.2026.0004567; empty to clear",
    )


# A document's id in a path: anything else than a number the database can hold is a 404 in JSON like any other,
# not the URL resolver's HTML page.
DOCUMENT_ID_MAX = 2**63 - 1
DOCUMENT_ID = OpenApiParameter(
    "document_id", {"type": "integer", "minimum": 1, "maximum": DOCUMENT_ID_MAX}, OpenApiParameter.PATH
)


DOCUMENT_MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png", "application/xml")


def _document_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= DOCUMENT_ID_MAX:
        raise NotFound()
    return int(value)


# What the schema cannot say of Part I: the rules that depend on other fields, on the reference data in force or
# on the clock (inspection.services.part_one_rules). A body the schema allows may still be refused for them.
PART_ONE_RULES = (
    "The schema gives Part I's types and sizes; a submit (and a draft, for what it holds) is also checked against "
    "rules it cannot carry, each refused with a 400 naming the field: the boxes required by the CHED type "
    "(`place_of_destination`, `country_of_dispatch`, `transport_conditions`…) and by the transport mode (sea "
    "freight needs a container and its seal); codes from the code lists in force today (`GET "
    "/api/v1/reference/{list}/`: BCPs approved for the type, CN codes of the type, document and package types, "
    "purposes); countries as ISO 3166-1 alpha-2 codes; a container number's ISO 6346 check digit, each container "
    "once; an arrival in the future and at least one working day ahead (4 hours at a BCP with short notice for "
    "the type); a CHED-PP of Union origin is a `NAT-PP`."
)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ConsignmentViewSet(SuccessorActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Consignments (CHEDs). Importers see their own company's only; another company's is a 404."""

    lookup_field = "reference"
    lookup_value_regex = r"[^/]+"
    filterset_class = ConsignmentApiFilter

    def get_parsers(self):
        # Part I is nested (parties, lines, containers): JSON only, which the schema then says too. (DRF calls
        # this before it sets `action`, hence the method's own action from the router's map.)
        request = getattr(self, "request", None)
        action = getattr(self, "action", None) or self.action_map.get(getattr(request, "method", "").lower())
        if action in ("create", "update"):
            return [BoundedJSONParser()]
        return super().get_parsers()

    def get_queryset(self):
        qs = consignments_visible_to(self.request.user)
        if self.action == "list":
            return qs.order_by("-created_at", "-id")
        return consignment_with_part_one(qs).prefetch_related("audit_events", "certificates")

    @extend_schema(
        summary="The company's consignments, newest first",
        description=(
            "Paginated (`count`, `next`, `previous`, `results`; 25 a page, `?page=`) and filtered like the portal's "
            "list: `reference` (part of it), `status`, `ched_type`, `bcp`, `arrival_from` and `arrival_to` "
            "(dates). Counts and searches only ever cover the caller's company."
        ),
        examples=[
            OpenApiExample(
                "Drafts of CHED-PP arriving in December",
                response_only=True,
                value={
                    "count": 1,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "reference": "CHEDPP.FR.2026.0000123",
                            "ched_type": "CHED-PP",
                            "status": "draft",
                            "status_label": "Draft",
                            "bcp": "FRFDF1",
                            "country_of_origin": "DO",
                            "expected_at": "2026-12-03T08:00:00-04:00",
                            "consignor_name": "Finca La Esperanza",
                            "created_at": "2026-11-25T10:12:00-04:00",
                            "submitted_at": None,
                        }
                    ],
                },
            )
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_serializer_class(self):
        return ConsignmentListSerializer if self.action == "list" else ConsignmentSerializer

    def _detail(self, consignment, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=consignment.pk)
        return Response(ConsignmentSerializer(fresh).data, status=code)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=PartOneCreateSerializer,
        responses={201: ConsignmentSerializer},
        examples=[OpenApiExample("CHED-PP by sea", value=PART_ONE_EXAMPLE, request_only=True)],
        summary="Pre-notify a consignment (CHED Part I)",
        description=PART_ONE_RULES
        + ' With `"draft": true` a missing box is no error yet: the rules apply to what the draft holds, the '
        "rest on submit.",
    )
    @idempotent
    def create(self, request):
        payload = PartOneCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        part_one = dict(payload.validated_data)
        draft = part_one.pop("draft")
        consignment = consignment_create(actor=request.user, part_one=part_one, draft=draft)
        return self._detail(consignment, status.HTTP_201_CREATED)

    @extend_schema(
        request=PartOneSerializer,
        responses={200: ConsignmentSerializer},
        summary="Replace a draft's Part I",
        description="Only while the consignment is a draft (409 after); its CHED type stays. " + PART_ONE_RULES,
    )
    def update(self, request, reference=None):
        consignment = self.get_object()
        payload = PartOneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        consignment_update_draft(actor=request.user, consignment=consignment, part_one=dict(payload.validated_data))
        return self._detail(consignment)

    @extend_schema(
        request=PartOneSerializer(partial=True),
        responses={200: ConsignmentSerializer},
        summary="Amend a submitted CHED's Part I",
        description=(
            "A partial Part I: a group (`consignor`, `arrival`, ...) is merged field by field, a list "
            "(`commodities`, `containers`, `accompanying_documents`) replaced whole. Before the BCP's checks start, "
            "any field but `ched_type`, `bcp`, `country_of_origin` and the CN codes may change, under the submit's "
            "rules (400 naming each field). After, only `arrival.expected_at` may move (until the goods are "
            "recorded at the post, before the decision); any other change answers 409: submit a replacement CHED. "
            "Each change is in the timeline (`amended`, `arrival_moved`) and the audit trail, old and new."
        ),
        examples=[
            OpenApiExample(
                "The ship is two days late",
                request_only=True,
                value={"arrival": {"expected_at": _in_three_days()}},
            )
        ],
    )
    def partial_update(self, request, reference=None):
        consignment = self.get_object()
        payload = PartOneSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        consignment_amend(actor=request.user, consignment=consignment, changes=_plain_dicts(payload.validated_data))
        return self._detail(consignment)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={200: ConsignmentSerializer},
        summary="Submit a draft",
        description="A draft only (409 otherwise), and complete: " + PART_ONE_RULES,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def submit(self, request, reference=None):
        consignment = consignment_submit(actor=request.user, consignment=self.get_object())
        return self._detail(consignment)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=TracesReferenceSerializer,
        responses={200: ConsignmentSerializer},
        summary="Staff: record TRACES NT's number of the CHED",
        description=(
            "Inspectors, certifying officers and supervisors. A TRACES NT number of the same CHED type, in a member "
            "state's series (not ours, `PIF_REFERENCE_SERIES`), that no other CHED has; 400 otherwise. Audited."
        ),
    )
    @action(detail=True, methods=["post"], url_path="traces-reference", url_name="traces-reference")
    @idempotent
    def traces_reference(self, request, reference=None):
        consignment = self.get_object()
        payload = TracesReferenceSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        consignment_traces_reference_set(
            actor=request.user, consignment=consignment, traces_reference=payload.validated_data["traces_reference"]
        )
        return self._detail(consignment)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=CancelSerializer,
        responses={200: ConsignmentSerializer},
        summary="Cancel a draft",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, reference=None):
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        consignment = consignment_cancel(
            actor=request.user, consignment=self.get_object(), reason=payload.validated_data["reason"]
        )
        return self._detail(consignment)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentFileSerializer},
        summary="Upload an accompanying document (PDF, JPEG or PNG)",
        description=(
            "Accepted until the BCP decides. The format is recognised from the content; encrypted PDFs and "
            "PDFs with scripts, launch actions or embedded files are refused with a 400 naming the reason."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    @idempotent
    def documents(self, request, reference=None):
        consignment = self.get_object()
        payload = DocumentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        document = document_upload(
            actor=request.user,
            consignment=consignment,
            document_type=payload.validated_data["type"],
            file=payload.validated_data["file"],
            reference=payload.validated_data.get("reference", ""),
        )
        document.consignment = consignment
        return Response(DocumentFileSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[DOCUMENT_ID],
        request=None,
        responses={
            (200, media_type): bytes for media_type in ("application/pdf", "image/jpeg", "image/png", "application/xml")
        },
        summary="Download an uploaded document (as an attachment)",
        description=(
            "The file as it was stored, with its own content type: PDF, JPEG or PNG as uploaded, the XML of an "
            "imported ePhyto certificate."
        ),
    )
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<document_id>[^/]+)", url_name="document-file")
    def document_file(self, request, reference=None, document_id=None):
        return document_response(self.get_object(), _document_id(document_id))

    @extend_schema(
        parameters=[DOCUMENT_ID],
        request=None,
        responses={204: None},
        summary="Remove an accompanying document from a draft",
        description=(
            "The document's listing and its file. Only while the consignment is a draft (409 after); once Part I "
            "is submitted, upload the corrected document instead. 404 for a document the consignment does not have."
        ),
    )
    @document_file.mapping.delete
    def document_remove(self, request, reference=None, document_id=None):
        document_remove(actor=request.user, consignment=self.get_object(), document_id=_document_id(document_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request={
            "application/xml": {"type": "string", "format": "binary"},
            "multipart/form-data": EphytoUploadSerializer,
        },
        responses={201: EphytoImportSerializer},
        summary="Import an ePhyto phytosanitary certificate as a CHED-PP draft",
        description=(
            "The body is an UN/CEFACT SPSCertificate XML (as exchanged through the IPPC ePhyto hub), or a multipart "
            "`file`. The draft gets the consignor, consignee, origin, transport, commodity lines and the certificate "
            "as an accompanying document; `unmapped` lists what could not be mapped. XML with a DTD, entities or "
            "external references is refused with a 400."
        ),
        examples=[
            OpenApiExample(
                "Imported, with what was not mapped",
                response_only=True,
                status_codes=["201"],
                value={
                    "reference": "CHEDPP.FR.2026.0000124",
                    "status": "draft",
                    "unmapped": ["Line 1: intended use Planting", "Transit country US"],
                },
            )
        ],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import-ephyto",
        url_name="import-ephyto",
        parser_classes=XML_UPLOAD_PARSERS,
    )
    @idempotent
    def import_ephyto(self, request):
        return self._imported(*ephyto_import(actor=request.user, file=request.data.get("file")))

    @extend_schema(
        request=None,
        responses={(200, "application/xml"): OpenApiTypes.BINARY},
        summary="The CHED as UN/CEFACT SPS XML (the standard of TRACES NT and ePhyto)",
        description=(
            "An SPSCertificate: the whole Part I (parties, BCP, transport, containers, commodity lines with their CN "
            "and EPPO codes, documents; every other box as an `IncludedSPSNote` whose subject is `PIF:` and the "
            "box's path in Part I) and, once decided, the decision in force and its signatory. "
            "`POST /api/v1/consignments/import-sps/` reads it back. The mapping: "
            "docs/decisions/0016-traces-exchange.md."
        ),
    )
    @action(detail=True, methods=["get"], url_path="sps-xml", url_name="sps-xml")
    def sps_xml(self, request, reference=None):
        consignment = self.get_object()
        response = HttpResponse(consignment_sps_xml(consignment), content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{consignment.reference}.xml"'
        return response

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request={
            "application/xml": {"type": "string", "format": "binary"},
            "multipart/form-data": EphytoUploadSerializer,
        },
        responses={
            201: EphytoImportSerializer,
            413: OpenApiResponse(ERROR.ref, description=f"A body larger than {SPS_XML_MAX_BYTES // 1024} KiB."),
        },
        summary="Import a CHED's SPS XML as a draft of the same type",
        description=(
            "The body is a CHED as `GET /api/v1/consignments/{reference}/sps-xml/` writes it (or a multipart `file`): "
            "a new draft of the caller's company, of the same CHED type and with the same Part I; Part II is not "
            "imported. `unmapped` lists what could not be mapped. Not a CHED, XML with a DTD, entities or external "
            "references, or badly formed: 400, nothing stored."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import-sps",
        url_name="import-sps",
        parser_classes=XML_UPLOAD_PARSERS,
    )
    @idempotent
    def import_sps(self, request):
        file = request.data.get("file")
        if file is not None and (getattr(file, "size", 0) or 0) > SPS_XML_MAX_BYTES:
            return Response({"detail": sps_xml_too_large()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        return self._imported(*consignment_sps_import(actor=request.user, file=file))

    def _imported(self, consignment, unmapped) -> Response:
        """201 with the draft an import made and what it could not map."""
        fresh = self.get_queryset().get(pk=consignment.pk)
        return Response({**ConsignmentSerializer(fresh).data, "unmapped": unmapped}, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": CommodityLinesImportSerializer},
        responses={200: ConsignmentSerializer},
        summary="Import a draft's commodity lines from a CSV or Excel file",
        description=(
            "All or nothing: when any row is bad, nothing is imported and the 400 names each error by row "
            "(as numbered in the spreadsheet, the header being row 1) and column: "
            '`{"rows": {"3": {"net_weight_kg": ["…"]}}}`.'
        ),
        examples=[
            OpenApiExample(
                "A bad row",
                response_only=True,
                status_codes=["400"],
                value={"rows": {"3": {"cn_code": ["CN code 99999999 is not in the catalogue for CHED-PP."]}}},
            )
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="commodities/import",
        url_name="commodities-import",
        parser_classes=[MultiPartParser, FormParser],
    )
    @idempotent
    def commodities_import(self, request, reference=None):
        consignment = self.get_object()
        payload = CommodityLinesImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        consignment = commodity_lines_import(
            actor=request.user,
            consignment=consignment,
            file=payload.validated_data["file"],
            replace=payload.validated_data["replace"],
        )
        return self._detail(consignment)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={201: ConsignmentSerializer},
        summary="Copy a consignment as a new draft",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def clone(self, request, reference=None):
        clone = consignment_clone(actor=request.user, consignment=self.get_object())
        return self._detail(clone, status.HTTP_201_CREATED)
