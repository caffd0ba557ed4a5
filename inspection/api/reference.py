"""Code lists for API clients: `GET /api/v1/reference/{list}/`, the codes in force today with their French and
English names, the CHED types each applies to, and `?ched_type=` to keep only those of one type (the codes the
forms and the services accept for a consignment of that type: `inspection.applicability`)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination

from inspection import plant_health
from inspection.applicability import for_ched_type
from inspection.certificates.boxes import BOXES, NATIONAL_MODELS, PURPOSE_BOXES
from inspection.models import (
    Analysis,
    Bcp,
    BcpApproval,
    ChedType,
    Commodity,
    ControlPoint,
    DecisionCode,
    DestinationRequirement,
    DocumentType,
    Laboratory,
    Measure,
    PackageType,
    PlantHealthRequirement,
    Purpose,
    RefusalReason,
)
from inspection.models.reference import in_language

from .serializers import CHED_TYPE_CODES


@dataclass(frozen=True)
class CodeList:
    """How one list is read: its rows in force on a day, how `?ched_type=` narrows them, and each row as an
    item (`code`, names, `ched_types`, and what else a client needs of that list in `details`)."""

    rows: Any  # (day) -> QuerySet
    narrow: Any  # (queryset, ched type, day) -> QuerySet
    item: Any  # (row) -> dict


def _types(row) -> list[str]:
    return sorted(t.code for t in row.ched_types.all())


def _coded(row, **details) -> dict:
    return {"code": row.code, "name_fr": row.name_fr, "name_en": row.name_en, "details": details}


def _applicable(model, **details):
    """A list whose rows name the CHED types they apply to (none: every type)."""
    return CodeList(
        rows=lambda day: model.objects.in_force(day).prefetch_related("ched_types"),
        narrow=lambda rows, ched_type, day: for_ched_type(rows, ched_type.pk),
        item=lambda row: {
            **_coded(row, **{name: get(row) for name, get in details.items()}),
            "ched_types": _types(row),
        },
    )


def _every_type(model):
    """A list that does not depend on the CHED type: `?ched_type=` keeps it whole."""
    return CodeList(
        rows=lambda day: model.objects.in_force(day),
        narrow=lambda rows, ched_type, day: rows,
        item=lambda row: {**_coded(row), "ched_types": []},
    )


def _catalogue_users(ched_type: ChedType) -> list[str]:
    """The types whose consignments take this type's commodity lines: itself and those that borrow its
    catalogue (NAT-PP borrows CHED-PP's)."""
    return sorted([ched_type.code, *(t.code for t in ched_type.catalogue_borrowers.all())])


def _plant_health_narrow(rows, ched_type: ChedType, day):
    """CHED-PP: the rows for third countries; NAT-PP: those for the Union; other types: none."""
    origin = PlantHealthRequirement.Origin
    if ched_type.code not in plant_health.GOVERNED:
        return rows.none()
    return rows.filter(origin__in=[origin.ANY, origin.THIRD_COUNTRY if ched_type.is_ched else origin.UNION])


def _purpose_types(code: str) -> list[str]:
    """The CHED types whose model has the purpose's regime box (I.20-I.26: no transit for CHED-D)."""
    box = PURPOSE_BOXES.get(code)
    return sorted(BOXES[box].ched_types) if box else []


def _purposes_of(rows, ched_type, day):
    model = NATIONAL_MODELS.get(ched_type.code, ched_type.code)
    return rows.filter(code__in=[code for code, box in PURPOSE_BOXES.items() if BOXES[box].applies_to(model)])


def _bcp_rows(day) -> QuerySet:
    approvals = BcpApproval.objects.in_force(day).select_related("ched_type")
    return Bcp.objects.in_force(day).prefetch_related(Prefetch("approvals", queryset=approvals, to_attr="in_force"))


LISTS: dict[str, CodeList] = {
    "ched-types": CodeList(
        rows=lambda day: ChedType.objects.all(),
        narrow=lambda rows, ched_type, day: rows.filter(pk=ched_type.pk),
        # `is_ched` False: a national entry (NAT-PP), not a CHED, under its `legal_basis`
        item=lambda row: {
            **_coded(row, is_ched=row.is_ched, legal_basis=row.legal_basis),
            "ched_types": [row.code],
        },
    ),
    "bcps": CodeList(
        rows=_bcp_rows,
        # approved for the type on that day: an approval that ended or has not begun does not count
        narrow=lambda rows, ched_type, day: rows.filter(
            pk__in=BcpApproval.objects.in_force(day).filter(ched_type=ched_type).values("bcp_id")
        ),
        item=lambda row: {
            **_coded(
                row,
                unlocode=row.unlocode,
                kind=row.kind,
                short_notice=sorted(a.ched_type.code for a in row.in_force if a.short_notice),
            ),
            "ched_types": sorted({a.ched_type.code for a in row.in_force}),
        },
    ),
    "commodities": CodeList(
        rows=lambda day: (
            Commodity.objects.in_force(day)
            .select_related("ched_type")
            .prefetch_related("ched_type__catalogue_borrowers")
        ),
        # NAT-PP takes CHED-PP's catalogue (`ChedType.catalogue`): one list of goods for both
        narrow=lambda rows, ched_type, day: rows.filter(ched_type_id=ched_type.catalogue_type_id),
        item=lambda row: {
            "code": row.cn_code,
            "name_fr": row.description_fr,
            "name_en": row.description_en,
            "ched_types": _catalogue_users(row.ched_type),
            "details": {
                "species": row.species,
                "eppo_code": row.eppo_code,
                "identity_rate": row.identity_rate,
                "physical_rate": row.physical_rate,
            },
        },
    ),
    "document-types": CodeList(
        rows=lambda day: DocumentType.objects.in_force(day).prefetch_related("required_for"),
        narrow=lambda rows, ched_type, day: rows,
        item=lambda row: {
            **_coded(row, required_for=sorted(t.code for t in row.required_for.all())),
            "ched_types": [],
        },
    ),
    "purposes": CodeList(
        rows=lambda day: Purpose.objects.in_force(day),
        narrow=_purposes_of,
        item=lambda row: {
            **_coded(row, box=BOXES[PURPOSE_BOXES[row.code]].number if row.code in PURPOSE_BOXES else None),
            "ched_types": _purpose_types(row.code),
        },
    ),
    "package-types": _every_type(PackageType),
    "decisions": _applicable(DecisionCode, acceptable=lambda row: row.acceptable, requires=lambda row: row.requires),
    "measures": _applicable(Measure, part_three_outcomes=lambda row: row.outcomes),
    "refusal-reasons": _applicable(RefusalReason),
    "analyses": _applicable(
        Analysis, result_due_days=lambda row: row.result_due_days, cn_prefixes=lambda row: row.cn_prefixes.split()
    ),
    "laboratories": _every_type(Laboratory),
    # where channelled, transfer, onward transportation and specific warehouse decisions send goods (`kind`)
    "control-points": _applicable(
        ControlPoint,
        kind=lambda row: row.kind,
        address=lambda row: row.address,
        goods=lambda row: row.goods,
        confirmed=lambda row: row.confirmed,
    ),
    # Martinique's plant-health import regime (docs/regulation.md, section 3): by CN prefix and origin
    "plant-health": CodeList(
        rows=lambda day: PlantHealthRequirement.objects.in_force(day),
        narrow=_plant_health_narrow,
        item=lambda row: {
            "code": row.code,
            "name_fr": row.description_fr,
            "name_en": row.description_en,
            "ched_types": sorted(plant_health.GOVERNED),
            "details": {
                "cn_prefix": row.cn_prefix,
                "origin": row.origin,
                "countries": row.countries.split(),
                "requirement": row.requirement,
                "lifted_by": row.lifted_by,
                "legal_reference": row.legal_reference,
                "source_url": row.source_url,
                "annex_read": row.read,
            },
        },
    ),
    # exports: what the destinations' NPPOs require, with their sources (docs/regulation.md, section 9); no CHED type
    "destination-requirements": CodeList(
        rows=lambda day: DestinationRequirement.objects.in_force(day),
        narrow=lambda rows, ched_type, day: rows.none(),
        item=lambda row: {
            "code": row.code,
            "name_fr": row.text_fr,
            "name_en": row.text_en,
            "ched_types": [],
            "details": {
                "destination_country": row.destination_country.code,
                "hs_prefixes": row.hs_prefix.split(),
                "kind": row.kind,
                "legal_reference": row.legal_reference,
                "source": row.source,
                "checked_on": row.checked_on.isoformat(),
                "read": row.read,
                "valid_from": row.valid_from.isoformat(),
                "valid_to": row.valid_to.isoformat() if row.valid_to else None,
            },
        },
    ),
}


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.SerializerMethodField(help_text="The name in the language asked (Accept-Language).")
    name_fr = serializers.CharField()
    name_en = serializers.CharField()
    ched_types = serializers.ListField(
        child=serializers.CharField(), help_text="The CHED types it applies to; empty: every type."
    )
    details = serializers.DictField(required=False, help_text="What else the list says of the code.")

    def get_name(self, item) -> str:
        return in_language(item["name_fr"], item["name_en"])


class CodePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    page_size_query_description = "Codes a page, from 1 (100 when left out); more than 500 gives 500."

    def get_page_size(self, request):
        """DRF's, but a `page_size` that is not a whole number from 1 is a 400, as the schema says, rather than
        quietly the default."""
        value = request.query_params.get(self.page_size_query_param)
        if value and not (value.isascii() and value.isdigit() and int(value) >= 1):
            raise ValidationError({self.page_size_query_param: [_("Give a whole number from 1.")]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class ReferenceListView(ListAPIView):
    """A code list (`list` in the path), paginated (`count`, `next`, `results`; 100 a page, `page_size` up to
    500)."""

    serializer_class = CodeSerializer
    pagination_class = CodePagination
    filter_backends = []

    @extend_schema(
        summary="A code list, in force today",
        description=(
            "The codes the API accepts, with their French and English names. `?ched_type=` keeps those that "
            "apply to one CHED type: the decisions, measures, refusal reasons and analyses an officer may "
            "record for it, the BCPs approved for it, its commodities. Lists: " + ", ".join(f"`{n}`" for n in LISTS)
        ),
        parameters=[
            OpenApiParameter("list", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(LISTS)),
            OpenApiParameter(
                "ched_type",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=CHED_TYPE_CODES,
            ),
        ],
        examples=[
            OpenApiExample(
                "Measures for plants (?ched_type=CHED-PP)",
                response_only=True,
                value={
                    "count": 1,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "code": "destruction",
                            "name": "Destruction",
                            "name_fr": "Destruction",
                            "name_en": "Destruction",
                            "ched_types": [],
                            "details": {"part_three_outcomes": ["destroyed"]},
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        code_list = LISTS.get(kwargs["list"])
        if code_list is None:
            raise NotFound(_("No such code list. Lists: %(lists)s.") % {"lists": ", ".join(LISTS)})
        day = timezone.localdate()
        rows = code_list.rows(day)
        wanted = request.query_params.get("ched_type")
        if wanted:
            ched_type = ChedType.objects.filter(code=wanted).first()
            if ched_type is None:
                raise ValidationError({"ched_type": [_("Unknown CHED type “%(code)s”.") % {"code": wanted[:20]}]})
            rows = code_list.narrow(rows, ched_type, day)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer([code_list.item(row) for row in page], many=True).data)
