"""Importing a CHED from its UN/CEFACT SPSCertificate XML (`certificates/ched_xml.py`'s, from this service or
from TRACES NT) as a draft of the same CHED type with the same Part I. Part II is not imported (a draft has
none): the decision it carries is listed, like anything else that has no place in Part I."""

import datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from django.utils.translation import gettext as _

from inspection import part_one_schema
from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.certificates.ched_xml import AGENCY, NOTE_PREFIX, PARTIES, TRANSPORT_DOCUMENT_CODES
from inspection.certificates.sps import TRANSPORT_MODES, child, children, raw_text, text
from inspection.errors import UploadRefused
from inspection.models import ChedType, Consignment
from inspection.services.consignments import _operator_of, consignment_create
from inspection.services.documents import upload_read
from inspection.services.ephyto import sps_parse

MAX_LINES = 500
# A CHED's SPS XML is some kilobytes, a hundred lines some hundred: 2 MiB leaves room and no more.
SPS_XML_MAX_BYTES = 2 * 1024 * 1024


def sps_xml_too_large() -> str:
    return _("This XML is too large: a CHED's SPS XML is at most %(size)s KB.") % {"size": SPS_XML_MAX_BYTES // 1024}


def ched_sps_map(root: Element) -> tuple[dict, list[str]]:
    """Part I from a CHED's SPSCertificate, and the list of what it could not map. Values are typed as the API
    serializer types them (aware datetimes, Decimals, ints); the submit's rules check them when submitted."""
    document = child(root, "SPSExchangedDocument")
    consignment = child(root, "SPSConsignment")
    ched_type = text(document, "TypeCode")
    if not ChedType.objects.filter(code=ched_type).exists() or consignment is None:
        raise UploadRefused(
            {
                "file": [
                    _("This SPS certificate is not a CHED (type code “%(code)s”): send a CHED's SPS XML.")
                    % {"code": ched_type[:20]}
                ]
            }
        )
    unmapped: list[str] = []
    part: dict = {"ched_type": ched_type, "containers": [], "commodities": [], "accompanying_documents": []}
    for note in children(document, "IncludedSPSNote"):
        _note_put(part, note, unmapped, ched_type=ched_type)
    for referenced in children(document, "ReferenceSPSReferencedDocument"):
        code, reference = text(referenced, "TypeCode"), text(referenced, "ID")[:100]
        if child(referenced, "TypeCode") is not None and child(referenced, "TypeCode").get("listAgencyID") == AGENCY:
            part["accompanying_documents"].append({"type": code, "reference": reference})
        elif code in TRANSPORT_DOCUMENT_CODES.values():
            part.setdefault("arrival", {})["transport_document"] = reference
        else:
            unmapped.append(_("Referenced document %(code)s %(id)s") % {"code": code, "id": reference})
    if child(document, "SignatorySPSAuthentication") is not None:
        unmapped.append(_("Part II (the decision) is not imported: the draft is a new CHED."))

    for group, name in PARTIES.items():
        element = child(consignment, name)
        if element is not None:
            address = child(element, "SpecifiedSPSAddress")
            lines = [raw_text(address, line) for line in ("LineOne", "LineTwo", "LineThree", "LineFour", "LineFive")]
            values = {
                "name": text(element, "Name"),
                "address": "\n".join(line for line in lines if line),
                "country": text(address, "CountryID"),
                "approval_number": text(element, "ID"),
            }
            for key, value in values.items():
                _put(part, f"{group}.{key}", value, ched_type)
    _put(part, "country_of_dispatch", text(consignment, "ExportSPSCountry", "ID"), ched_type)
    _put(part, "bcp", text(consignment, "UnloadingBaseportSPSLocation", "ID"), ched_type)
    movement = child(consignment, "MainCarriageSPSTransportMovement")
    if movement is not None:
        _put(part, "arrival.transport_mode", TRANSPORT_MODES.get(text(movement, "ModeCode"), ""), ched_type)
        _put(part, "arrival.transport_id", text(movement, "UsedSPSTransportMeans", "Name"), ched_type)
    for equipment in children(consignment, "UtilizedSPSTransportEquipment"):
        part["containers"].append(
            {"number": text(equipment, "ID")[:20], "seal": text(equipment, "AffixedSPSSeal", "ID")[:40]}
        )
    for item in children(consignment, "IncludedSPSConsignmentItem"):
        for line in children(item, "IncludedSPSTradeLineItem"):
            if len(part["commodities"]) >= MAX_LINES:
                raise UploadRefused({"file": [_("At most %(n)s commodity lines.") % {"n": MAX_LINES}]})
            part["commodities"].append(_line(line, part, unmapped, ched_type=ched_type))
    return part, unmapped


def _put(part: dict, path: str, value, ched_type: str) -> None:
    field = part_one_schema.BY_PATH.get(path)  # a party without an approval number in Part I: its ID is left
    if field is not None and not part_one_schema.is_empty(value) and field.applies_to(ched_type):
        part_one_schema.put(part, field, value[: field.max_length] if isinstance(value, str) else value)


def _typed(field: part_one_schema.PartOneField, value: str, *, element: str):
    """A note's or an element's text as the field's type; ValueError when it is not one, and a refusal naming the
    element when it is a number no CHED holds (NaN, infinity, beyond its column): stored, it could not be read."""
    if field.kind == "decimal":
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(value) from None
        if not number.is_finite() or abs(number) > part_one_schema.MAX_WEIGHT_KG:
            raise _out_of_bounds(element, value, part_one_schema.MAX_WEIGHT_KG)
        return number
    if field.kind == "integer":
        number = int(value)
        if not 0 <= number <= part_one_schema.POSITIVE_INT_MAX:
            raise _out_of_bounds(element, value, part_one_schema.POSITIVE_INT_MAX)
        return number
    if field.kind == "datetime":
        parsed = datetime.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(value)
        return parsed
    return value[: field.max_length]


def _out_of_bounds(element: str, value: str, maximum) -> UploadRefused:
    return UploadRefused(
        {
            "file": [
                _("%(element)s: “%(value)s” is not a value a CHED holds (at most %(max)s).")
                % {"element": element, "value": value[:50], "max": maximum}
            ]
        }
    )


def _note_put(target: dict, note: Element, unmapped: list[str], *, ched_type: str, line: bool = False) -> None:
    subject, content = text(note, "Subject"), raw_text(note, "Content")
    path = subject.removeprefix(NOTE_PREFIX)
    field = part_one_schema.BY_PATH.get(f"commodities.{path}" if line else path)
    if not subject.startswith(NOTE_PREFIX) or field is None:
        if not subject.startswith(f"{NOTE_PREFIX}decision.") and subject != f"{NOTE_PREFIX}traces_reference":
            unmapped.append(_("Note %(subject)s: %(content)s") % {"subject": subject[:50], "content": content[:200]})
        return
    try:
        value = _typed(field, content, element=subject[:50])
    except ValueError:
        unmapped.append(_("%(field)s: “%(value)s” cannot be read.") % {"field": path, "value": content[:50]})
        return
    if line:
        target[field.key] = value
    else:
        _put(target, field.path, value, ched_type)


def _line(line: Element, part: dict, unmapped: list[str], *, ched_type: str) -> dict:
    row: dict = {
        "description": text(line, "Description")[:300],
        "species": text(line, "ScientificName")[:200],
        "cn_code": "",
        "eppo_code": "",
    }
    for classification in children(line, "ApplicableSPSClassification"):
        system, code = text(classification, "SystemName"), text(classification, "ClassCode")
        if system in ("CN", "HS"):
            row["cn_code"] = code.replace(".", "").replace(" ", "")[:10]
        elif system == "EPPO":
            row["eppo_code"] = code[:12]
    number = len(part["commodities"]) + 1
    weight = child(line, "NetWeightMeasure")
    if weight is not None and text(weight):
        try:
            row["net_weight_kg"] = _typed(
                part_one_schema.BY_PATH["commodities.net_weight_kg"],
                text(weight),
                element=_("NetWeightMeasure of line %(n)s") % {"n": number},
            )
        except ValueError:
            unmapped.append(_("Net weight “%(value)s” cannot be read.") % {"value": text(weight)[:50]})
    package = child(line, "PhysicalSPSPackage")
    if package is not None:
        row["package_type"] = text(package, "TypeCode")[:40]
        quantity = text(package, "ItemQuantity")
        try:
            row["packages"] = (
                _typed(
                    part_one_schema.BY_PATH["commodities.packages"],
                    quantity,
                    element=_("ItemQuantity of line %(n)s") % {"n": number},
                )
                if quantity
                else None
            )
        except ValueError:
            unmapped.append(_("Packages “%(value)s” cannot be read.") % {"value": quantity[:50]})
    for note in children(line, "AdditionalInformationSPSNote"):
        _note_put(row, note, unmapped, ched_type=ched_type, line=True)
    origin = child(line, "OriginSPSCountry")
    if origin is not None and not part.get("country_of_origin"):
        _put(part, "country_of_origin", text(origin, "ID"), ched_type)
        _put(part, "region_of_origin", text(origin, "SubordinateSPSCountrySubDivision", "Name"), ched_type)
    return row


@atomic_service
def consignment_sps_import(*, actor, file) -> tuple[Consignment, list[str]]:
    """Create a draft from a CHED's SPS XML: same CHED type, same Part I (checked as any draft is; submitting
    it checks the rest). Returns the draft and what could not be mapped. Hostile XML (DTDs, entities, external
    references) is refused; nothing is stored when anything is refused. Audited with the source's number."""
    _operator_of(actor)
    data = upload_read(file)
    if len(data) > SPS_XML_MAX_BYTES:
        raise UploadRefused({"file": [sps_xml_too_large()]})
    root = sps_parse(data, what=_("a CHED"))
    part, unmapped = ched_sps_map(root)
    consignment = consignment_create(actor=actor, part_one=part, draft=True)
    audit_record(
        actor=actor,
        action=AuditAction.CONSIGNMENT_SPS_IMPORTED,
        consignment=consignment,
        data={"source": text(child(root, "SPSExchangedDocument"), "ID")[:40], "unmapped": unmapped},
    )
    return consignment, unmapped
