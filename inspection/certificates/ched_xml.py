"""A CHED as a UN/CEFACT SPSCertificate, the standard of TRACES NT's certificate web services (and of ePhyto):
the whole of Part I (every box of `part_one_schema.PART_ONE` the type's model has) and, once decided, the
decision in force. `services/sps_import.py` reads it back into a draft with the same Part I.

The mapping (docs/decisions/0016-traces-exchange.md): what UN/CEFACT has an element for goes in that element
(the parties, the countries, the BCP as the port of unloading, the main carriage, the containers and seals,
the commodity lines with their CN and EPPO classifications, the accompanying documents); every other box is an
`IncludedSPSNote` (a line's: `AdditionalInformationSPSNote`) whose subject is `PIF:` and the box's path in the
public contract (`PIF:arrival.expected_at`, `PIF:customs_mrn`), as TRACES NT's own mapping was not published
where we could read it. A new box of the schema is exported and imported without a change here."""

import datetime
from xml.etree.ElementTree import Element, tostring

from django.utils import timezone

from inspection import part_one_schema
from inspection.models import Consignment

from .documents import person_name
from .sps import MODE_CODES, RSM, date_time, note, party, ram, rsm

NOTE_PREFIX = "PIF:"
AGENCY = "PIF"  # codes of our own lists (CHED type, status, document types), as `listAgencyID`
# UN/CEFACT document name codes (UNCL 1001) of the transport document, by the main carriage's mode
TRANSPORT_DOCUMENT_CODES = {"sea": "705", "air": "740", "road": "730"}  # bill of lading, air waybill, road note
IMPORT_COUNTRY = "FR"
PARTIES = {
    "consignor": "ConsignorSPSParty",
    "consignee": "ConsigneeSPSParty",
    "place_of_destination": "DeliverySPSParty",  # I.7
    "transporter": "CarrierSPSParty",  # I.28
}
# The fields the standard elements carry; the others travel as notes.
IN_ELEMENTS = frozenset(
    {f"{group}.{key}" for group in PARTIES for key in ("name", "address", "country", "approval_number")}
    | {
        "ched_type",
        "bcp",
        "country_of_origin",
        "region_of_origin",
        "country_of_dispatch",
        "arrival.transport_mode",
        "arrival.transport_id",
        "arrival.transport_document",
        "commodities.cn_code",
        "commodities.description",
        "commodities.species",
        "commodities.eppo_code",
        "commodities.net_weight_kg",
        "commodities.packages",
        "commodities.package_type",
    }
)


def note_text(value) -> str:
    """A value as a note carries it: times in ISO 8601 at the post's offset, dates ISO, decimals as written."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def ched_xml(consignment: Consignment, *, part_one: dict, decision=None) -> bytes:
    """The SPSCertificate of a CHED, as UTF-8 bytes. `part_one` is `selectors.consignment_part_one`'s; `decision`
    the decision in force (`selectors.decision_in_force`), or None before it."""
    ched_type = part_one["ched_type"]
    root = Element(f"{{{RSM}}}SPSCertificate")
    document = rsm(root, "SPSExchangedDocument")
    ram(document, "Name", ched_type)
    ram(document, "ID", consignment.reference)
    ram(document, "TypeCode", ched_type, listAgencyID=AGENCY)
    ram(document, "StatusCode", consignment.status, listAgencyID=AGENCY)
    date_time(document, "IssueDateTime", consignment.submitted_at or consignment.created_at)
    if consignment.traces_reference:
        note(document, "IncludedSPSNote", f"{NOTE_PREFIX}traces_reference", consignment.traces_reference)
    for field in part_one_schema.PART_ONE:
        if field.on_line or field.path in IN_ELEMENTS or not field.applies_to(ched_type):
            continue
        value = part_one_schema.get(part_one, field)
        if not part_one_schema.is_empty(value):
            note(document, "IncludedSPSNote", f"{NOTE_PREFIX}{field.path}", note_text(value))
    arrival = part_one.get("arrival") or {}
    if arrival.get("transport_document"):
        transport = ram(document, "ReferenceSPSReferencedDocument")
        ram(transport, "TypeCode", TRANSPORT_DOCUMENT_CODES.get(arrival.get("transport_mode"), "705"))
        ram(transport, "RelationshipTypeCode", "AAS")  # transport document
        ram(transport, "ID", arrival["transport_document"])
    for accompanying in part_one.get("accompanying_documents") or []:
        referenced = ram(document, "ReferenceSPSReferencedDocument")
        ram(referenced, "TypeCode", accompanying["type"], listAgencyID=AGENCY)
        ram(referenced, "ID", accompanying["reference"])
    if decision is not None:
        _decision(document, decision)

    consignment_element = rsm(root, "SPSConsignment")
    for group, name in PARTIES.items():
        values = part_one.get(group) or {}
        if any(values.values()) and part_one_schema.BY_PATH[f"{group}.name"].applies_to(ched_type):
            party(
                consignment_element,
                name,
                party_name=values.get("name", ""),
                address=values.get("address", ""),
                country=values.get("country", ""),
                approval=values.get("approval_number", ""),
            )
    if part_one.get("country_of_dispatch"):
        ram(ram(consignment_element, "ExportSPSCountry"), "ID", part_one["country_of_dispatch"])
    ram(ram(consignment_element, "ImportSPSCountry"), "ID", IMPORT_COUNTRY)
    if part_one.get("bcp"):
        unloading = ram(consignment_element, "UnloadingBaseportSPSLocation")
        ram(unloading, "ID", part_one["bcp"], listAgencyID="TRACES")
        if consignment.bcp is not None:
            ram(unloading, "Name", consignment.bcp.name)
    if arrival.get("transport_mode") or arrival.get("transport_id"):
        movement = ram(consignment_element, "MainCarriageSPSTransportMovement")
        ram(movement, "ModeCode", MODE_CODES.get(arrival.get("transport_mode"), ""))
        if arrival.get("transport_id"):
            ram(ram(movement, "UsedSPSTransportMeans"), "Name", arrival["transport_id"])
    for container in part_one.get("containers") or []:
        equipment = ram(consignment_element, "UtilizedSPSTransportEquipment")
        ram(equipment, "ID", container["number"])
        if container.get("seal"):
            ram(ram(equipment, "AffixedSPSSeal"), "ID", container["seal"])
    item = ram(consignment_element, "IncludedSPSConsignmentItem")
    for position, line in enumerate(part_one.get("commodities") or [], start=1):
        _line(item, position, line, part_one, ched_type)
    return tostring(root, encoding="utf-8", xml_declaration=True)


def _line(item: Element, position: int, line: dict, part_one: dict, ched_type: str) -> None:
    trade = ram(item, "IncludedSPSTradeLineItem")
    ram(trade, "SequenceNumeric", str(position))
    if line.get("description"):
        ram(trade, "Description", line["description"], languageID="fr")
    if line.get("species"):
        ram(trade, "ScientificName", line["species"])
    if line.get("net_weight_kg") is not None:
        ram(trade, "NetWeightMeasure", f"{line['net_weight_kg']}", unitCode="KGM")
    for system, code in (("CN", line.get("cn_code")), ("EPPO", line.get("eppo_code"))):
        if code:
            classification = ram(trade, "ApplicableSPSClassification")
            ram(classification, "SystemName", system)
            ram(classification, "ClassCode", code)
    for field in part_one_schema.fields(line=True):
        if field.path in IN_ELEMENTS or not field.applies_to(ched_type):
            continue
        value = line.get(field.key)
        if not part_one_schema.is_empty(value):
            note(trade, "AdditionalInformationSPSNote", f"{NOTE_PREFIX}{field.key}", note_text(value))
    if line.get("packages") is not None or line.get("package_type"):
        package = ram(trade, "PhysicalSPSPackage")
        ram(package, "LevelCode", "1")
        ram(package, "TypeCode", line.get("package_type") or "")
        if line.get("packages") is not None:
            ram(package, "ItemQuantity", str(line["packages"]))
    if part_one.get("country_of_origin"):
        origin = ram(trade, "OriginSPSCountry")
        ram(origin, "ID", part_one["country_of_origin"])
        if part_one.get("region_of_origin"):
            ram(ram(origin, "SubordinateSPSCountrySubDivision"), "Name", part_one["region_of_origin"])


def _decision(document: Element, decision) -> None:
    """Part II: the decision in force, its measure and reasons, signed by its certifying officer."""
    values = {
        "decision.code": decision.code.code,
        "decision.acceptable": "true" if decision.code.acceptable else "false",
        "decision.measure": decision.measure.code if decision.measure else "",
        "decision.measure_deadline": note_text(decision.measure_deadline) if decision.measure_deadline else "",
        "decision.reasons": " ".join(sorted(reason.code for reason in decision.reasons.all())),
        "decision.countersigned_at": note_text(decision.countersigned_at) if decision.countersigned_at else "",
    }
    for path, value in values.items():
        if value:
            note(document, "IncludedSPSNote", f"{NOTE_PREFIX}{path}", value)
    signatory = ram(document, "SignatorySPSAuthentication")
    date_time(signatory, "ActualDateTime", decision.decided_at)
    provider = ram(signatory, "ProviderSPSParty")
    ram(provider, "Name", decision.consignment.bcp.name if decision.consignment.bcp else "")
    ram(ram(provider, "SpecifiedSPSPerson"), "Name", person_name(decision.officer))
