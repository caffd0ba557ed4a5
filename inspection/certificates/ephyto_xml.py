"""The ePhyto form of a phytosanitary certificate: a UN/CEFACT SPSCertificate (the schema the IPPC ePhyto hub
exchanges, TypeCode 851 for export, 657 for re-export), written with the standard library from the same data
as the PDF. `inspection.services.ephyto` reads it back (tests/test_exports_certificate.py, the round trip)."""

import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from django.utils import timezone

from inspection.models import ExportApplication, ExportKind

from .phyto import NPPO
from .sps import MODE_CODES, RSM, UDT, date_time, party, ram, rsm

TYPE_CODES = {ExportKind.EXPORT: "851", ExportKind.REEXPORT: "657"}
ISSUED = "70"  # the status code of an issued certificate in the hub's exchanges
EXPORT_COUNTRY = "FR"  # the contracting party whose NPPO certifies (Martinique is part of France)


def ephyto_xml(
    *, application: ExportApplication, number: str, issued_at: datetime.datetime, officer: str, replaces=None
) -> bytes:
    """The SPSCertificate of an issued certificate, as UTF-8 bytes; `replaces`, the certificate it replaces."""
    a = application
    root = Element(f"{{{RSM}}}SPSCertificate")
    document = rsm(root, "SPSExchangedDocument")
    ram(document, "Name", "Phytosanitary Certificate" if a.kind == ExportKind.EXPORT else "Re-export Certificate")
    ram(document, "ID", number)
    ram(document, "TypeCode", TYPE_CODES[a.kind])
    ram(document, "StatusCode", ISSUED)
    date_time(document, "IssueDateTime", issued_at)
    ram(ram(document, "IssuerSPSParty"), "Name", NPPO.en)
    if a.additional_declarations:
        note = ram(document, "IncludedSPSNote")
        ram(note, "Subject", "ADEDL")  # additional declaration, document level
        ram(note, "Content", a.additional_declarations, languageID="en")
    if replaces is not None:  # the replacement notes of the hub's exchanges: the number replaced, its date
        for subject, content in (
            ("ADRPN", replaces.number),
            ("ADRD", timezone.localtime(replaces.issued_at).isoformat(timespec="seconds")),
        ):
            note = ram(document, "IncludedSPSNote")
            ram(note, "Subject", subject)
            ram(note, "Content", content)
    signatory = ram(document, "SignatorySPSAuthentication")
    date_time(signatory, "ActualDateTime", issued_at)
    ram(ram(signatory, "IssueSPSLocation"), "Name", "Fort-de-France, Martinique")
    provider = ram(signatory, "ProviderSPSParty")
    ram(provider, "Name", NPPO.en)
    ram(ram(provider, "SpecifiedSPSPerson"), "Name", officer)
    if a.kind == ExportKind.REEXPORT:
        original = ram(document, "ReferenceSPSReferencedDocument")
        ram(original, "RelationshipTypeCode", "AAY")  # the certificate of the country of origin
        ram(original, "ID", a.original_certificate)
        ram(
            original,
            "Information",
            f"Original phytosanitary certificate ({a.original_country}); CHED-PP {a.ched_reference}",
            languageID="en",
        )

    consignment = rsm(root, "SPSConsignment")
    party(consignment, "ConsignorSPSParty", party_name=a.consignor_name, address=a.consignor_address, country="MQ")
    party(
        consignment,
        "ConsigneeSPSParty",
        party_name=a.consignee_name,
        address=a.consignee_address,
        country=str(a.consignee_country),
    )
    ram(ram(consignment, "ExportSPSCountry"), "ID", EXPORT_COUNTRY)
    if a.kind == ExportKind.REEXPORT and a.original_country:
        ram(ram(consignment, "ReExportSPSCountry"), "ID", EXPORT_COUNTRY)
    ram(ram(consignment, "ImportSPSCountry"), "ID", str(a.destination_country))
    unloading = ram(consignment, "UnloadingBaseportSPSLocation")
    if a.point_of_entry_unlocode:
        ram(unloading, "ID", a.point_of_entry_unlocode)
    ram(unloading, "Name", a.point_of_entry)
    movement = ram(consignment, "MainCarriageSPSTransportMovement")
    ram(movement, "ModeCode", MODE_CODES.get(a.transport_mode, ""))
    if a.transport_id:
        ram(ram(movement, "UsedSPSTransportMeans"), "Name", a.transport_id, languageID="en")
    item = ram(consignment, "IncludedSPSConsignmentItem")
    for line in a.lines.all():
        trade = ram(item, "IncludedSPSTradeLineItem")
        ram(trade, "SequenceNumeric", str(line.position))
        ram(trade, "Description", line.description, languageID="fr")
        ram(trade, "ScientificName", line.botanical_name)
        ram(trade, "NetWeightMeasure", f"{line.net_weight_kg}", unitCode="KGM")
        classification = ram(trade, "ApplicableSPSClassification")
        ram(classification, "SystemName", "HS")
        ram(classification, "ClassCode", line.hs_code)
        package = ram(trade, "PhysicalSPSPackage")
        ram(package, "LevelCode", "1")
        ram(package, "TypeCode", line.package_type)
        ram(package, "ItemQuantity", str(line.packages))
        origin = ram(trade, "OriginSPSCountry")
        ram(origin, "ID", str(line.country_of_origin))
        if line.place_of_production:
            ram(ram(origin, "SubordinateSPSCountrySubDivision"), "Name", line.place_of_production)
        if a.treatment:
            process = ram(trade, "AppliedSPSProcess")
            ram(process, "TypeCode", "ZZZ")
            if a.treatment_date:
                period = ram(process, "CompletionSPSPeriod")
                start = ram(period, "StartDateTime")
                SubElement(start, f"{{{UDT}}}DateString").text = a.treatment_date.isoformat()
            for text in (
                a.treatment,
                a.treatment_chemical,
                a.treatment_duration_temperature,
                a.treatment_concentration,
                a.treatment_information,
            ):
                if text:
                    ram(ram(process, "ApplicableSPSProcessCharacteristic"), "Description", text, languageID="fr")
    return tostring(root, encoding="utf-8", xml_declaration=True)
