"""The ePhyto form of a phytosanitary certificate: a UN/CEFACT SPSCertificate (the schema the IPPC ePhyto hub
exchanges, TypeCode 851 for export, 657 for re-export), written with the standard library from the same data
as the PDF. `inspection.services.ephyto` reads it back (tests/test_exports_certificate.py, the round trip)."""

import datetime
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from django.utils import timezone

from inspection.models import ExportApplication, ExportKind, TransportMode

from .phyto import NPPO

RSM = "urn:un:unece:uncefact:data:standard:SPSCertificate:17"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:21"
for prefix, uri in (("rsm", RSM), ("ram", RAM), ("udt", UDT)):
    register_namespace(prefix, uri)

TYPE_CODES = {ExportKind.EXPORT: "851", ExportKind.REEXPORT: "657"}
# UN/ECE Recommendation 19
MODE_CODES = {TransportMode.SEA: "1", TransportMode.ROAD: "3", TransportMode.AIR: "4"}
ISSUED = "70"  # the status code of an issued certificate in the hub's exchanges
EXPORT_COUNTRY = "FR"  # the contracting party whose NPPO certifies (Martinique is part of France)


def _ram(parent: Element, name: str, text: str | None = None, **attributes) -> Element:
    element = SubElement(parent, f"{{{RAM}}}{name}", {k: v for k, v in attributes.items() if v})
    if text is not None:
        element.text = text
    return element


def _party(parent: Element, name: str, *, party_name: str, address: str, country: str) -> None:
    party = _ram(parent, name)
    _ram(party, "Name", party_name)
    specified = _ram(party, "SpecifiedSPSAddress")
    lines = [line.strip() for line in address.replace("\r", "").split("\n") if line.strip()] or [""]
    for label, line in zip(("LineOne", "LineTwo", "LineThree", "LineFour", "LineFive"), lines, strict=False):
        _ram(specified, label, line)
    if country:
        _ram(specified, "CountryID", country)


def ephyto_xml(
    *, application: ExportApplication, number: str, issued_at: datetime.datetime, officer: str, replaces=None
) -> bytes:
    """The SPSCertificate of an issued certificate, as UTF-8 bytes; `replaces`, the certificate it replaces."""
    a = application
    root = Element(f"{{{RSM}}}SPSCertificate")
    document = SubElement(root, f"{{{RSM}}}SPSExchangedDocument")
    _ram(document, "Name", "Phytosanitary Certificate" if a.kind == ExportKind.EXPORT else "Re-export Certificate")
    _ram(document, "ID", number)
    _ram(document, "TypeCode", TYPE_CODES[a.kind])
    _ram(document, "StatusCode", ISSUED)
    issue = _ram(document, "IssueDateTime")
    SubElement(issue, f"{{{UDT}}}DateTimeString").text = timezone.localtime(issued_at).isoformat(timespec="seconds")
    _ram(_ram(document, "IssuerSPSParty"), "Name", NPPO.en)
    if a.additional_declarations:
        note = _ram(document, "IncludedSPSNote")
        _ram(note, "Subject", "ADEDL")  # additional declaration, document level
        _ram(note, "Content", a.additional_declarations, languageID="en")
    if replaces is not None:  # the replacement notes of the hub's exchanges: the number replaced, its date
        for subject, content in (
            ("ADRPN", replaces.number),
            ("ADRD", timezone.localtime(replaces.issued_at).isoformat(timespec="seconds")),
        ):
            note = _ram(document, "IncludedSPSNote")
            _ram(note, "Subject", subject)
            _ram(note, "Content", content)
    signatory = _ram(document, "SignatorySPSAuthentication")
    when = _ram(signatory, "ActualDateTime")
    SubElement(when, f"{{{UDT}}}DateTimeString").text = timezone.localtime(issued_at).isoformat(timespec="seconds")
    _ram(_ram(signatory, "IssueSPSLocation"), "Name", "Fort-de-France, Martinique")
    provider = _ram(signatory, "ProviderSPSParty")
    _ram(provider, "Name", NPPO.en)
    _ram(_ram(provider, "SpecifiedSPSPerson"), "Name", officer)
    if a.kind == ExportKind.REEXPORT:
        original = _ram(document, "ReferenceSPSReferencedDocument")
        _ram(original, "RelationshipTypeCode", "AAY")  # the certificate of the country of origin
        _ram(original, "ID", a.original_certificate)
        _ram(
            original,
            "Information",
            f"Original phytosanitary certificate ({a.original_country}); CHED-PP {a.ched_reference}",
            languageID="en",
        )

    consignment = SubElement(root, f"{{{RSM}}}SPSConsignment")
    _party(consignment, "ConsignorSPSParty", party_name=a.consignor_name, address=a.consignor_address, country="MQ")
    _party(
        consignment,
        "ConsigneeSPSParty",
        party_name=a.consignee_name,
        address=a.consignee_address,
        country=str(a.consignee_country),
    )
    _ram(_ram(consignment, "ExportSPSCountry"), "ID", EXPORT_COUNTRY)
    if a.kind == ExportKind.REEXPORT and a.original_country:
        _ram(_ram(consignment, "ReExportSPSCountry"), "ID", EXPORT_COUNTRY)
    _ram(_ram(consignment, "ImportSPSCountry"), "ID", str(a.destination_country))
    unloading = _ram(consignment, "UnloadingBaseportSPSLocation")
    if a.point_of_entry_unlocode:
        _ram(unloading, "ID", a.point_of_entry_unlocode)
    _ram(unloading, "Name", a.point_of_entry)
    movement = _ram(consignment, "MainCarriageSPSTransportMovement")
    _ram(movement, "ModeCode", MODE_CODES.get(a.transport_mode, ""))
    if a.transport_id:
        _ram(_ram(movement, "UsedSPSTransportMeans"), "Name", a.transport_id, languageID="en")
    item = _ram(consignment, "IncludedSPSConsignmentItem")
    for line in a.lines.all():
        trade = _ram(item, "IncludedSPSTradeLineItem")
        _ram(trade, "SequenceNumeric", str(line.position))
        _ram(trade, "Description", line.description, languageID="fr")
        _ram(trade, "ScientificName", line.botanical_name)
        _ram(trade, "NetWeightMeasure", f"{line.net_weight_kg}", unitCode="KGM")
        classification = _ram(trade, "ApplicableSPSClassification")
        _ram(classification, "SystemName", "HS")
        _ram(classification, "ClassCode", line.hs_code)
        package = _ram(trade, "PhysicalSPSPackage")
        _ram(package, "LevelCode", "1")
        _ram(package, "TypeCode", line.package_type)
        _ram(package, "ItemQuantity", str(line.packages))
        origin = _ram(trade, "OriginSPSCountry")
        _ram(origin, "ID", str(line.country_of_origin))
        if line.place_of_production:
            _ram(_ram(origin, "SubordinateSPSCountrySubDivision"), "Name", line.place_of_production)
        if a.treatment:
            process = _ram(trade, "AppliedSPSProcess")
            _ram(process, "TypeCode", "ZZZ")
            if a.treatment_date:
                period = _ram(process, "CompletionSPSPeriod")
                start = _ram(period, "StartDateTime")
                SubElement(start, f"{{{UDT}}}DateString").text = a.treatment_date.isoformat()
            for text in (
                a.treatment,
                a.treatment_chemical,
                a.treatment_duration_temperature,
                a.treatment_concentration,
                a.treatment_information,
            ):
                if text:
                    _ram(_ram(process, "ApplicableSPSProcessCharacteristic"), "Description", text, languageID="fr")
    return tostring(root, encoding="utf-8", xml_declaration=True)
