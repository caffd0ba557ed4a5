"""CHED Part I: the checklist shown while it is filled in, and how a checked Part I is written to the database.
The rules themselves are `PartOneCheck`, in `part_one_rules.py`.

Part I travels as the dict of the public contract (`docs/api.md`: `ched_type`, `bcp`, `consignor`, ...), with
typed values (aware datetimes, Decimals, ints) as the API serializer or the portal form produced them.
"""

import datetime
from dataclasses import dataclass

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy

from inspection import part_one_schema
from inspection.models import AccompanyingDocument, CommodityLine, Consignment, Container
from inspection.services.part_one_rules import (
    PartOneCheck,
    container_check_digit,  # noqa: F401  (the demo imports it from here)
)

# The columns a Part I write sets: the stored fields of the schema, and the references.
PART_ONE_COLUMNS = [
    "ched_type",
    "bcp",
    "purpose",
    "updated_at",
    *(field.column for field in part_one_schema.stored_fields()),
]


@dataclass
class ChecklistItem:
    label: str
    done: bool
    messages: list[str]


# The checklist shown while Part I is filled in: each item gathers the submit rules of the fields it names.
CHECKLIST = (
    (gettext_lazy("Consignor and consignee: name, address and country"), ("consignor", "consignee")),
    (gettext_lazy("BCP, country of origin and purpose"), ("ched_type", "bcp", "country_of_origin", "purpose")),
    (gettext_lazy("Arrival, transport and its document, in time for pre-notification"), ("arrival",)),
    (
        gettext_lazy("Place of destination, country of dispatch, transport conditions"),
        tuple(
            name
            for name in dict.fromkeys(f.group or f.key for f in part_one_schema.PART_ONE if not f.on_line)
            if name not in ("ched_type", "bcp", "country_of_origin", "purpose", "consignor", "consignee", "arrival")
        ),
    ),
    (gettext_lazy("Containers and their seals (sea freight)"), ("containers",)),
    (
        gettext_lazy("Commodity lines: CN code, net weight, packages, species, number of animals"),
        ("commodities",),
    ),
    (gettext_lazy("Accompanying documents"), ("accompanying_documents",)),
)


def part_one_checklist(part: dict, *, now: datetime.datetime) -> list[ChecklistItem]:
    """What a submit of this Part I would still refuse, as a checklist: the very rules of `PartOneCheck`
    (one source of truth), grouped so the importer sees what is left before pressing submit."""
    check = PartOneCheck(part, now=now)
    check._resolve_codes()
    if check.ched_type is not None:
        check._check_complete()
    required = []
    if check.ched_type is not None:
        required = sorted(
            dt.name
            for dt in check.document_types.values()
            if any(t.pk == check.ched_type.pk for t in dt.required_for.all()) and dt.code not in check.not_needed
        )
    items = []
    for label, fields in CHECKLIST:
        messages = [
            f"{_path_label(path)}: {message}" if _path_label(path) else message
            for path, found in check.errors.items()
            if path.split(".")[0] in fields
            for message in found
        ]
        if fields == ("accompanying_documents",) and required:
            label = f"{label}: {', '.join(required)}"
        items.append(ChecklistItem(label=str(label), done=not messages, messages=messages))
    return items


PATH_LABELS = {
    "ched_type": gettext_lazy("CHED type"),
    "bcp": gettext_lazy("BCP"),
    "country_of_origin": gettext_lazy("Country of origin"),
    "purpose": gettext_lazy("Purpose"),
    "consignor": gettext_lazy("Consignor"),
    "consignee": gettext_lazy("Consignee"),
    "name": gettext_lazy("name"),
    "address": gettext_lazy("address"),
    "country": gettext_lazy("country"),
    "expected_at": gettext_lazy("Expected arrival"),
    "transport_mode": gettext_lazy("Transport mode"),
    "transport_id": gettext_lazy("Vessel or flight"),
    "transport_document": gettext_lazy("Bill of lading / air waybill"),
    "containers": gettext_lazy("Container %(n)s"),
    "commodities": gettext_lazy("Line %(n)s"),
    "accompanying_documents": gettext_lazy("Document %(n)s"),
    "number": gettext_lazy("number"),
    "seal": gettext_lazy("seal"),
    "cn_code": gettext_lazy("CN code"),
    "net_weight_kg": gettext_lazy("net weight"),
    "packages": gettext_lazy("packages"),
    "number_of_animals": gettext_lazy("number of animals"),
    "package_type": gettext_lazy("package type"),
    "species": gettext_lazy("species"),
    "type": gettext_lazy("type"),
    "reference": gettext_lazy("reference"),
}


# The schema's other fields are labelled by their column's verbose name, their groups by `GROUP_LABELS`.
PATH_LABELS["approval_number"] = gettext_lazy("approval number")
for _field in part_one_schema.PART_ONE:
    PATH_LABELS.setdefault(_field.key, _field.label if _field.group else capfirst(_field.label))
for _group, _label in part_one_schema.GROUP_LABELS.items():
    if _label:
        PATH_LABELS.setdefault(_group, _label)


def _path_label(path: str) -> str:
    """`commodities.0.cn_code` → "Line 1, CN code"; `consignor.name` → "Consignor, name"; "" for a whole list."""
    keys = path.split(".")
    if keys[0] == "arrival":
        keys = keys[1:]
    if keys and keys[0] in ("containers", "commodities", "accompanying_documents"):
        if len(keys) < 3:
            return ""
        return f"{PATH_LABELS[keys[0]] % {'n': int(keys[1]) + 1}}, {PATH_LABELS.get(keys[2], keys[2])}"
    return ", ".join(str(PATH_LABELS.get(key, key)) for key in keys)


def part_one_write(consignment: Consignment, check: PartOneCheck) -> None:
    """Store a checked Part I on the consignment, replacing its containers, lines and documents."""
    part = check.part
    consignment.ched_type = check.ched_type
    consignment.bcp = check.bcp
    consignment.purpose = check.purpose
    part_one_schema.write(consignment, part)
    is_new = consignment.pk is None
    if is_new:
        consignment.save()
    else:  # Part I fields only: the status belongs to the transition helper
        consignment.save(update_fields=PART_ONE_COLUMNS)

    kept = set()
    if not is_new:
        consignment.containers.all().delete()
        consignment.lines.all().delete()
        # Uploaded files stay when Part I is replaced; their listing is matched by type and reference.
        consignment.documents.filter(file="").delete()
        kept = set(consignment.documents.values_list("document_type__code", "reference"))
    Container.objects.bulk_create(
        Container(
            consignment=consignment,
            number=(c.get("number") or "").replace(" ", "").upper(),
            seal=c.get("seal") or "",
        )
        for c in part.get("containers") or []
    )
    lines = []
    for line in part.get("commodities") or []:
        commodity = check.commodities.get(line.get("cn_code") or "")
        row = CommodityLine(
            consignment=consignment,
            commodity=commodity,
            package_type=check.package_types.get(line.get("package_type") or ""),
        )
        part_one_schema.write(row, line)
        # what the catalogue knows fills what the line leaves empty
        row.description = row.description or (commodity.description if commodity else "")
        row.species = row.species or (commodity.species if commodity else "")
        row.eppo_code = row.eppo_code or (commodity.eppo_code if commodity else "")
        lines.append(row)
    CommodityLine.objects.bulk_create(lines)
    AccompanyingDocument.objects.bulk_create(
        AccompanyingDocument(
            consignment=consignment,
            document_type=check.document_types[d["type"]],
            reference=d.get("reference") or "",
        )
        for d in part.get("accompanying_documents") or []
        if d.get("type") and (d["type"], d.get("reference") or "") not in kept
    )
