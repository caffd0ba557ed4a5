"""CHED Part I, declared once: each field of the public contract (docs/api.md) with the box of the official model
it fills (`inspection.certificates.boxes`, Implementing Regulation (EU) 2019/1715, Annex II), the model column that
stores it, the CHED types whose model has that box and those for which a submit requires it.

The API serializer, the portal form, the commodity-line import, the ePhyto mapping, the submit rules
(`services/part_one_rules.py`), the read and the write of Part I and the CHED PDF all take their fields from
`PART_ONE`: a new box is one entry here (and, if it is new, a model field and its migration).

A field's `path` is where it sits in the Part I dict: `country_of_dispatch`, `consignor.name`,
`commodities.establishment_of_origin` (a field of each commodity line). Its label, in French and English, is the
`verbose_name` of its model column.

Containers (I.17) and accompanying documents (I.9) are lists of rows of their own models, kept by hand in the
services; they are `SECTIONS` here so that every reader knows their box.
"""

import dataclasses
from decimal import Decimal

from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext_lazy

from inspection.certificates.boxes import BOXES, CHED_TYPES, NATIONAL_MODELS
from inspection.models import CommodityLine, Consignment

ALL = CHED_TYPES
NOT_CHED_A = frozenset({"CHED-P", "CHED-PP", "CHED-D"})
# Goods that only cross the Union have no place of final unloading in a Member State (box I.7's note).
PASSING_THROUGH = frozenset({"transit", "transhipment", "transfer"})
# Box I.27 is compulsory for CHED-A (Regulation (EC) No 1/2005) and for goods under transhipment, transit,
# re-entry or delivery to a control point or an onward transportation facility (its note in 2019/1715 Annex II).
LEAVING_UNDER_CONTROL = frozenset({"transit", "transhipment", "transfer", "re_entry", "onward_transportation"})
CHED_A = frozenset({"CHED-A"})
# The largest weight a decimal(12, 3) column holds, and then some margin below it: a typing error, not a cargo.
MAX_WEIGHT_KG = Decimal("999999999.999")
# The bound of a PositiveIntegerField column on PostgreSQL: a larger count is a 400, not a database error.
POSITIVE_INT_MAX = BaseDatabaseOperations.integer_field_ranges["PositiveIntegerField"][1]


@dataclasses.dataclass(frozen=True)
class PartOneField:
    path: str
    box: str
    column: str
    kind: str = "text"  # text | long_text | country | decimal | integer | choice | datetime | reference
    max_length: int = 200
    required: frozenset[str] = frozenset()
    # purposes (reference codes) under which a submit does not need it, whatever `required` says
    not_required_for: frozenset[str] = frozenset()
    # purposes (reference codes) under which a submit needs it, for every type whose model has the box
    required_with: frozenset[str] = frozenset()
    # the CHED types whose model has the box; defaults to the box's own (`boxes.py`)
    only: frozenset[str] | None = None
    help_text: str = ""
    # hand-written in the services (reference codes, the CHED type): the generic read/write skips them
    custom: bool = False

    @property
    def group(self) -> str:
        return self.path.rsplit(".", 1)[0] if "." in self.path else ""

    @property
    def key(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def on_line(self) -> bool:
        return self.group == "commodities"

    @property
    def model(self):
        return CommodityLine if self.on_line else Consignment

    @property
    def model_field(self):
        return self.model._meta.get_field(self.column)

    @property
    def label(self):
        """The column's verbose name (lazy: French or English as the reader's language)."""
        return self.model_field.verbose_name

    @property
    def ched_types(self) -> frozenset[str]:
        return self.only if self.only is not None else BOXES[self.box].ched_types

    @property
    def number(self) -> str:
        return BOXES[self.box].number

    def applies_to(self, ched_type: str) -> bool:
        # a national entry (NAT-PP) has the boxes of the CHED model it follows (`NATIONAL_MODELS`)
        return NATIONAL_MODELS.get(ched_type, ched_type) in self.ched_types

    def required_for(self, ched_type: str, purpose: str | None) -> bool:
        ched_type = NATIONAL_MODELS.get(ched_type, ched_type)
        if (purpose or "") in self.required_with and ched_type in self.ched_types:
            return True
        return ched_type in self.required and (purpose or "") not in self.not_required_for

    @property
    def choices(self) -> list[tuple[str, str]]:
        return list(self.model_field.choices or [])

    @property
    def form_name(self) -> str:
        """The flat name of the portal form's field: `consignor_name`, `expected_at` (arrival's fields go bare)."""
        if self.group in ("", "arrival"):
            return self.key
        return f"{self.group}_{self.key}"


F = PartOneField
PARTY = ("name", "address", "country")

PART_ONE: tuple[PartOneField, ...] = (
    F("ched_type", "ched_reference", "ched_type", kind="reference", required=ALL, custom=True),
    F("bcp", "bcp", "bcp", kind="reference", max_length=40, required=ALL, custom=True),
    F("consignor.name", "consignor", "consignor_name", required=ALL),
    F("consignor.address", "consignor", "consignor_address", kind="long_text", max_length=1000, required=ALL),
    F("consignor.country", "consignor", "consignor_country", kind="country", required=ALL),
    F("consignee.name", "consignee", "consignee_name", required=ALL),
    F("consignee.address", "consignee", "consignee_address", kind="long_text", max_length=1000, required=ALL),
    F("consignee.country", "consignee", "consignee_country", kind="country", required=ALL),
    # I.7: where the goods are finally unloaded in the Union, with its registration or approval number
    F(
        "place_of_destination.name",
        "place_of_destination",
        "destination_name",
        required=ALL,
        not_required_for=PASSING_THROUGH,
    ),
    F(
        "place_of_destination.address",
        "place_of_destination",
        "destination_address",
        kind="long_text",
        max_length=1000,
        required=ALL,
        not_required_for=PASSING_THROUGH,
    ),
    F(
        "place_of_destination.country",
        "place_of_destination",
        "destination_country",
        kind="country",
        required=ALL,
        not_required_for=PASSING_THROUGH,
    ),
    F(
        "place_of_destination.approval_number",
        "place_of_destination",
        "destination_approval_number",
        max_length=50,
        help_text="Registration or approval number of the place of destination, where it has one",
    ),
    F("country_of_origin", "country_of_origin", "country_of_origin", kind="country", required=ALL),
    F(
        "region_of_origin",
        "region_of_origin",
        "region_of_origin",
        max_length=100,
        help_text="Code of the region, zone or pest-free area of origin, where regionalisation applies",
    ),
    F(
        "country_of_dispatch",
        "country_of_dispatch",
        "country_of_dispatch",
        kind="country",
        required=NOT_CHED_A,
        help_text="Where the goods were loaded on the last means of transport to the Union (not CHED-A)",
    ),
    F(
        "transport_conditions",
        "transport_conditions",
        "transport_conditions",
        kind="choice",
        required=frozenset({"CHED-P", "CHED-D"}),
        help_text="CHED-P and CHED-D: ambient, chilled or frozen",
    ),
    F(
        "conformity",
        "conformity",
        "conformity",
        kind="choice",
        help_text="CHED-P: conforming, or non-conforming (for a specific warehouse, free zone or vessel)",
    ),
    F("purpose", "for_internal_market", "purpose", kind="reference", max_length=40, required=ALL, custom=True),
    # I.21 and I.22: the details of the regime the purpose asks for
    F(
        "onward_transportation_facility",
        "for_onward_transportation",
        "onward_facility",
        required_with=frozenset({"onward_transportation"}),
        help_text="CHED-PP, CHED-D: the authorised onward transportation facility (purpose onward_transportation)",
    ),
    F(
        "transit.third_country",
        "for_transit",
        "transit_country",
        kind="country",
        required_with=frozenset({"transit"}),
        help_text="The third country the goods in transit go to (purpose transit; not CHED-D)",
    ),
    F(
        "transit.exit_bcp",
        "for_transit",
        "transit_exit_bcp",
        max_length=100,
        help_text="The exit BCP, for goods crossing the Union by road, rail or waterway",
    ),
    F("arrival.expected_at", "prior_notification", "expected_arrival", kind="datetime", required=ALL),
    F("arrival.transport_mode", "means_of_transport", "transport_mode", kind="choice", required=ALL),
    F(
        "arrival.transport_id",
        "means_of_transport",
        "transport_id",
        max_length=100,
        required=ALL,
        help_text="Vessel name and voyage, or flight number",
    ),
    F(
        "arrival.transport_document",
        "accompanying_documents",
        "transport_document",
        max_length=100,
        required=ALL,
        help_text="Bill of lading or air waybill number",
    ),
    # I.27: how the goods leave the BCP, when they leave under control (and every CHED-A)
    F(
        "after_bcp.transport_mode",
        "transport_after_bcp",
        "after_bcp_transport_mode",
        kind="choice",
        required=CHED_A,
        required_with=LEAVING_UNDER_CONTROL,
    ),
    F(
        "after_bcp.transport_id",
        "transport_after_bcp",
        "after_bcp_transport_id",
        max_length=100,
        required=CHED_A,
        required_with=LEAVING_UNDER_CONTROL,
        help_text="Vessel, flight or vehicle registration after the BCP",
    ),
    # I.29: CHED-A, compulsory with I.27
    F(
        "after_bcp.departure_at",
        "departure_date",
        "departure_at",
        kind="datetime",
        required=CHED_A,
        help_text="CHED-A: estimated date and time of departure from the BCP, after the arrival",
    ),
    # I.28: CHED-A, compulsory with I.27
    F("transporter.name", "transporter", "transporter_name", required=CHED_A),
    F(
        "transporter.address",
        "transporter",
        "transporter_address",
        kind="long_text",
        max_length=1000,
        required=CHED_A,
    ),
    F(
        "transporter.approval_number",
        "transporter",
        "transporter_approval_number",
        max_length=50,
        help_text="Approval number of the transporter (Regulation (EC) No 1/2005)",
    ),
    # I.30: CHED-A, animals under Regulation (EC) No 1/2005
    F(
        "journey_log",
        "journey_log",
        "journey_log",
        kind="choice",
        help_text="CHED-A: whether a journey log (Regulation (EC) No 1/2005) travels with the animals",
    ),
    F(
        "total_gross_weight_kg",
        "total_weight",
        "total_gross_weight_kg",
        kind="decimal",
        help_text="Total gross weight in kg (CHED-A, CHED-P, CHED-D); at least the total net weight",
    ),
    # I.31, per line
    F("commodities.cn_code", "description", "cn_code", max_length=10, required=ALL),
    F("commodities.description", "description", "description", max_length=300),
    F("commodities.species", "description", "species"),
    F("commodities.eppo_code", "description", "eppo_code", max_length=12),
    F("commodities.net_weight_kg", "description", "net_weight_kg", kind="decimal", required=ALL),
    F("commodities.packages", "description", "packages", kind="integer", required=ALL),
    F(
        "commodities.package_type",
        "description",
        "package_type",
        kind="reference",
        max_length=40,
        required=ALL,
        custom=True,
    ),
    F(
        "commodities.number_of_animals",
        "description",
        "number_of_animals",
        kind="integer",
        required=frozenset({"CHED-A"}),
        only=frozenset({"CHED-A"}),
        help_text="CHED-A lines only, required on submit: the number of animals (box I.31); null on other types",
    ),
    # I.15: the approved establishment the goods come from (CHED-P: the establishment's approval number)
    F(
        "commodities.establishment_of_origin",
        "establishment_of_origin",
        "establishment_of_origin",
        max_length=100,
        required=frozenset({"CHED-P"}),
        help_text="Name and approval number of the establishment of origin (required for CHED-P)",
    ),
)

# The customs side (issue 20): what customs matches the BCP's decision against. TRACES NT records the customs
# document with the accompanying documents (box I.9); the MRN's format is checked in `part_one_rules`.
PART_ONE += (
    F(
        "customs_status",
        "accompanying_documents",
        "customs_status",
        kind="choice",
        max_length=10,
        only=ALL,
        help_text="Customs status of the goods: non_union or union (Union Customs Code, art. 5(23) and (24))",
    ),
    F(
        "customs_procedure",
        "accompanying_documents",
        "customs_procedure",
        kind="choice",
        max_length=20,
        only=ALL,
        help_text="The customs procedure declared: free_circulation, transit, customs_warehouse, free_zone, "
        "inward_processing, outward_processing or temporary_admission; it must fit the BCP's decision",
    ),
    F(
        "customs_mrn",
        "accompanying_documents",
        "customs_mrn",
        max_length=18,
        only=ALL,
        help_text="MRN of the customs declaration, when lodged: 18 characters with its check character "
        "(Delegated Regulation (EU) 2015/2446, Annex B)",
    ),
)

SECTIONS = {"containers": "containers", "accompanying_documents": "accompanying_documents"}

BY_PATH = {f.path: f for f in PART_ONE}
GROUPS = ("consignor", "consignee", "place_of_destination", "arrival", "transit", "after_bcp", "transporter")


def fields(group: str | None = None, *, line: bool = False) -> list[PartOneField]:
    """The fields of one group (`"consignor"`; `""` for the top level), or of a commodity line."""
    if line:
        return [f for f in PART_ONE if f.on_line]
    return [f for f in PART_ONE if f.group == group]


def stored_fields(*, line: bool = False) -> list[PartOneField]:
    """The fields the generic read and write handle: all but the hand-written references."""
    return [f for f in PART_ONE if f.on_line == line and not f.custom]


def get(part: dict, field: PartOneField):
    """A field's value in a Part I dict (or a line's dict, for a line field)."""
    if field.on_line or not field.group:
        return part.get(field.key)
    return (part.get(field.group) or {}).get(field.key)


def put(part: dict, field: PartOneField, value) -> None:
    if field.on_line or not field.group:
        part[field.key] = value
    else:
        part.setdefault(field.group, {})[field.key] = value


def read(instance) -> dict:
    """A consignment's (or a commodity line's) stored fields in the contract's shape (without references)."""
    part: dict = {}
    line = isinstance(instance, CommodityLine)
    for field in stored_fields(line=line):
        value = getattr(instance, field.column)
        if field.kind == "country":
            value = value.code or ""
        put(part, field, value)
    return part


def write(instance, part: dict) -> list[str]:
    """Set a consignment's (or a line's) stored fields from a Part I dict; the columns written."""
    line = isinstance(instance, CommodityLine)
    columns = []
    for field in stored_fields(line=line):
        value = get(part, field)
        if field.kind in ("decimal", "integer", "datetime"):
            value = value if value not in ("", None) else None
        else:
            value = value or ""
        setattr(instance, field.column, value)
        columns.append(field.column)
    return columns


def is_empty(value) -> bool:
    return value is None or value == ""


def boxes_for(ched_type: str) -> list[str]:
    """The boxes of `PART_ONE` this CHED type's model has, in box order (I.7 before I.12)."""
    seen = {f.box for f in PART_ONE if f.applies_to(ched_type)}
    return sorted(seen, key=lambda name: [int(x) for x in BOXES[name].number.split(".")[1:]])


# Labels of the groups, for the portal and the messages.
GROUP_LABELS = {
    "consignor": gettext_lazy("Consignor"),
    "consignee": gettext_lazy("Consignee"),
    "place_of_destination": gettext_lazy("Place of destination"),
    "arrival": "",
    "transporter": gettext_lazy("Transporter"),
    "transit": gettext_lazy("Transit"),
    "after_bcp": gettext_lazy("After the border control post"),
}
