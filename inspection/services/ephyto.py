"""Importing an ePhyto phytosanitary certificate (UN/CEFACT SPSCertificate XML, as exchanged through the IPPC
ePhyto hub) as a CHED-PP draft, so the importer does not re-key it. What has no place in Part I, or cannot be
mapped safely, is listed for the importer, never dropped silently."""

import base64
import binascii
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from inspection import part_one_schema
from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.certificates.sps import TRANSPORT_MODES
from inspection.certificates.sps import child as _child
from inspection.certificates.sps import children as _children
from inspection.certificates.sps import local as _local
from inspection.certificates.sps import text as _text
from inspection.certificates.sps import texts_by_language as _texts_by_language
from inspection.errors import UploadRefused
from inspection.models import Bcp, Commodity, Consignment, DocumentType, PackageType, TransportMode
from inspection.services.consignments import _operator_of, consignment_create
from inspection.services.documents import _document_store, _safe_filename, document_check, upload_read

PHYTOSANITARY_CERTIFICATE = "851"  # UN/CEFACT document type code; 657 is a re-export certificate
REEXPORT_CERTIFICATE = "657"
MAX_ATTACHMENTS = 10
WEIGHT_UNITS = {"KGM": Decimal(1), "TNE": Decimal(1000), "GRM": Decimal("0.001")}


@dataclass
class EphytoMapping:
    certificate_number: str
    part_one: dict
    unmapped: list[str] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)


def sps_parse(data: bytes, *, what: str) -> Element:
    """The XML tree of an SPSCertificate, or `UploadRefused`: no DTD, no entity, no external reference is ever
    resolved. `what` names the document expected, in the refusals ("an ePhyto certificate", "a CHED")."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise UploadRefused(
            {
                "file": [
                    _("This XML declares a DTD or entities, which are refused for safety. Send %(what)s as exchanged.")
                    % {"what": what}
                ]
            }
        ) from None
    except (ParseError, ValueError):
        raise UploadRefused({"file": [_("This file is not well-formed XML.")]}) from None
    if _local(root.tag) != "SPSCertificate":
        raise UploadRefused({"file": [_("This XML is not %(what)s (UN/CEFACT SPSCertificate).") % {"what": what}]})
    return root


def ephyto_parse(data: bytes) -> Element:
    return sps_parse(data, what=_("an ePhyto certificate"))


def ephyto_map(root: Element) -> EphytoMapping:
    """Part I of a CHED-PP draft from an SPSCertificate, and the list of what it could not map."""
    document = _child(root, "SPSExchangedDocument")
    consignment = _child(root, "SPSConsignment")
    type_code = _text(document, "TypeCode")
    if type_code not in (PHYTOSANITARY_CERTIFICATE, REEXPORT_CERTIFICATE):
        raise UploadRefused(
            {
                "file": [
                    _("This SPS certificate is not a phytosanitary certificate (type code “%(code)s”).")
                    % {"code": type_code}
                ]
            }
        )
    number = _text(document, "ID")
    if not number or consignment is None:
        raise UploadRefused({"file": [_("This certificate has no number or no consignment: it cannot be imported.")]})
    unmapped: list[str] = []
    part: dict = {"ched_type": "CHED-PP", "containers": [], "commodities": []}
    part["accompanying_documents"] = [{"type": "PHYTOSANITARY_CERTIFICATE", "reference": number[:100]}]

    for note in _children(document, "IncludedSPSNote"):
        unmapped.append(_("Certificate note %(subject)s: %(content)s") % _note(note))
    attachments = []
    for reference in _children(document, "ReferenceSPSReferencedDocument"):
        attachment = _child(reference, "AttachmentBinaryObject")
        described = {
            "id": (_text(reference, "ID") or "?")[:100],
            "info": _texts_by_language(reference, "Information") or "—",
            "filename": (attachment.get("filename") or "") if attachment is not None else "",
        }
        if attachment is not None and (attachment.text or "").strip():
            attachments.append({**described, "base64": attachment.text})
        else:
            unmapped.append(_("Referenced document %(id)s (%(info)s): no file attached.") % described)

    export_country = _country(_text(consignment, "ExportSPSCountry", "ID"), _("export country"), unmapped)
    import_country = _country(_text(consignment, "ImportSPSCountry", "ID"), _("import country"), unmapped)
    part["consignor"] = _party(_child(consignment, "ConsignorSPSParty"), export_country, unmapped)
    part["consignee"] = _party(_child(consignment, "ConsigneeSPSParty"), import_country, unmapped)
    # I.14: for a phytosanitary certificate, the country that exports is the one the goods are dispatched from
    _set(part, "country_of_dispatch", export_country)
    for transit in _children(consignment, "TransitSPSCountry"):
        unmapped.append(_("Transit country %(code)s") % {"code": _text(transit, "ID")})

    mode = _transport(consignment, part, unmapped)
    _unloading(consignment, mode, part, unmapped)
    for equipment in _children(consignment, "UtilizedSPSTransportEquipment"):
        seals = " ".join(_text(seal, "ID") for seal in _children(equipment, "AffixedSPSSeal") if _text(seal, "ID"))
        number = _text(equipment, "ID").replace(" ", "").upper()
        if number or seals:
            part["containers"].append({"number": number[:20], "seal": seals[:40]})

    origins: list[str] = []
    regions: list[str] = []
    for item in _children(consignment, "IncludedSPSConsignmentItem"):
        for line in _children(item, "IncludedSPSTradeLineItem"):
            part["commodities"].append(_line(line, len(part["commodities"]) + 1, origins, regions, unmapped))
    if regions:  # I.12 (a CHED has one region of origin: the first; the others are listed)
        _set(part, "region_of_origin", regions[0])
        for other in sorted(set(regions) - {regions[0]}):
            unmapped.append(_("Another region of origin, %(region)s: a CHED has one; check it.") % {"region": other})
    if origins:
        part["country_of_origin"] = origins[0]
        for other in sorted(set(origins) - {origins[0]}):
            unmapped.append(_("Another country of origin, %(code)s: a CHED has one; check it.") % {"code": other})
    elif export_country:
        part["country_of_origin"] = export_country
    return EphytoMapping(
        certificate_number=number[:100], part_one=part, unmapped=unmapped, attachments=attachments[:MAX_ATTACHMENTS]
    )


def _set(part: dict, path: str, value) -> None:
    """A Part I field of the schema, when the CHED-PP model has its box."""
    field = part_one_schema.BY_PATH[path]
    if value and field.applies_to("CHED-PP"):
        part_one_schema.put(part, field, value)


def _note(note: Element) -> dict:
    return {"subject": _text(note, "Subject") or "?", "content": _texts_by_language(note, "Content") or "—"}


def _country(code: str, what: str, unmapped: list[str]) -> str:
    if code and code not in countries:
        unmapped.append(_("Unknown %(what)s code “%(code)s”") % {"what": what, "code": code})
        return ""
    return code


def _party(party: Element | None, country: str, unmapped: list[str]) -> dict:
    if party is None:
        return {"name": "", "address": "", "country": country}
    address = _child(party, "SpecifiedSPSAddress")
    lines = [
        _text(address, name)
        for name in ("LineOne", "LineTwo", "LineThree", "LineFour", "LineFive", "PostcodeCode", "CityName")
    ]
    own_country = _text(address, "CountryID")
    if own_country and own_country in countries:
        country = own_country
    return {"name": _text(party, "Name")[:200], "address": ", ".join(x for x in lines if x)[:1000], "country": country}


def _transport(consignment: Element, part: dict, unmapped: list[str]) -> str:
    """The main carriage that reaches Martinique: the first by sea or air; the other legs are listed."""
    movements = _children(consignment, "MainCarriageSPSTransportMovement")
    chosen = next(
        (m for m in movements if TRANSPORT_MODES.get(_text(m, "ModeCode")) in (TransportMode.SEA, TransportMode.AIR)),
        movements[0] if movements else None,
    )
    arrival = {"transport_mode": "", "transport_id": "", "transport_document": "", "expected_at": None}
    part["arrival"] = arrival
    for movement in movements:
        mode = TRANSPORT_MODES.get(_text(movement, "ModeCode"), "")
        means = " ".join(
            x
            for x in (_texts_by_language(_child(movement, "UsedSPSTransportMeans"), "Name"), _text(movement, "ID"))
            if x
        )
        if movement is chosen and mode:
            arrival["transport_mode"] = mode
            arrival["transport_id"] = means[:100]
        else:
            unmapped.append(
                _("Other transport leg: %(mode)s %(means)s")
                % {
                    "mode": _child(movement, "ModeCode").get("name", "")
                    if _child(movement, "ModeCode") is not None
                    else "",
                    "means": means or f"(mode {_text(movement, 'ModeCode')})",
                }
            )
    return arrival["transport_mode"]


def _unloading(consignment: Element, mode: str, part: dict, unmapped: list[str]) -> None:
    location = _child(consignment, "UnloadingBaseportSPSLocation")
    code = _text(location, "ID").replace(" ", "").upper()
    if not code:
        return
    kind = {TransportMode.SEA: Bcp.Kind.PORT, TransportMode.AIR: Bcp.Kind.AIRPORT}.get(mode)
    bcp = Bcp.objects.in_force(timezone.localdate()).filter(unlocode=code, kind=kind).first() if kind else None
    if bcp is not None:
        part["bcp"] = bcp.code
    else:
        unmapped.append(
            _("Port of unloading %(code)s (%(name)s) is not a BCP of Martinique: choose the BCP.")
            % {"code": code, "name": _text(location, "Name") or "—"}
        )


def _line(line: Element, n: int, origins: list[str], regions: list[str], unmapped: list[str]) -> dict:
    today = timezone.localdate()
    common = _text(line, "CommonName")
    description = _texts_by_language(line, "Description")
    row = {
        "cn_code": "",
        "description": " — ".join(x for x in (common, description) if x)[:300],
        "species": _text(line, "ScientificName")[:200],
        "eppo_code": "",
        "net_weight_kg": None,
        "packages": None,
        "package_type": "",
    }
    hs = (
        next(
            (
                _text(c, "ClassCode")
                for c in _children(line, "ApplicableSPSClassification")
                if _text(c, "SystemName") == "HS"
            ),
            "",
        )
        .replace(".", "")
        .replace(" ", "")
    )
    if hs:
        matches = list(
            Commodity.objects.in_force(today)
            .filter(ched_type__code="CHED-PP", cn_code__startswith=hs)
            .values_list("cn_code", flat=True)[:2]
        )
        if len(matches) == 1:
            row["cn_code"] = matches[0]
        else:
            unmapped.append(
                _("Line %(n)s: HS code %(hs)s does not name one CN code of the CHED-PP catalogue; choose it.")
                % {"n": n, "hs": hs}
            )
    else:
        unmapped.append(_("Line %(n)s: no HS code; choose the CN code.") % {"n": n})
    for classification in _children(line, "ApplicableSPSClassification"):
        if _text(classification, "SystemName") != "HS":
            unmapped.append(
                _("Line %(n)s: classification %(system)s “%(name)s”")
                % {
                    "n": n,
                    "system": _text(classification, "SystemName"),
                    "name": _texts_by_language(classification, "ClassName"),
                }
            )
    weight = _child(line, "NetWeightMeasure")
    if weight is not None and _text(weight):
        factor = WEIGHT_UNITS.get(weight.get("unitCode", "KGM"))
        try:
            value = Decimal(_text(weight))
        except InvalidOperation:
            value = None
        # NaN, infinity or beyond the column: listed like any unreadable weight (stored, it could not be read)
        if (
            factor is None
            or value is None
            or not value.is_finite()
            or not 0 <= value * factor <= part_one_schema.MAX_WEIGHT_KG
        ):
            unmapped.append(
                _("Line %(n)s: net weight “%(value)s %(unit)s” cannot be read in kg")
                % {"n": n, "value": _text(weight), "unit": weight.get("unitCode", "")}
            )
        else:
            row["net_weight_kg"] = (value * factor).quantize(Decimal("0.001"))
    for other in ("GrossWeightMeasure", "NetVolumeMeasure", "GrossVolumeMeasure", "IntendedUse"):
        element = _child(line, other)
        if element is not None and _text(element):
            unmapped.append(
                _("Line %(n)s: %(what)s %(value)s %(unit)s")
                % {
                    "n": n,
                    "what": {
                        "GrossWeightMeasure": _("gross weight"),
                        "NetVolumeMeasure": _("net volume"),
                        "GrossVolumeMeasure": _("gross volume"),
                        "IntendedUse": _("intended use"),
                    }[other],
                    "value": _text(element),
                    "unit": element.get("unitCode", ""),
                }
            )
    packages = sorted(_children(line, "PhysicalSPSPackage"), key=lambda p: _text(p, "LevelCode") or "9")
    for i, package in enumerate(packages):
        quantity, code = _text(package, "ItemQuantity"), _text(package, "TypeCode")
        if i == 0:
            try:
                count = Decimal(quantity)
                if not count.is_finite() or count != count.to_integral_value() or count < 0:
                    raise InvalidOperation
                row["packages"] = int(count)
            except InvalidOperation:
                unmapped.append(
                    _("Line %(n)s: %(quantity)s packages is not a whole number") % {"n": n, "quantity": quantity}
                )
            if PackageType.objects.in_force(today).filter(code=code).exists():
                row["package_type"] = code
            else:
                unmapped.append(
                    _("Line %(n)s: package type “%(code)s” is not in the list; choose it.") % {"n": n, "code": code}
                )
        else:
            unmapped.append(
                _("Line %(n)s: inner packaging %(quantity)s × %(code)s") % {"n": n, "quantity": quantity, "code": code}
            )
    for origin in _children(line, "OriginSPSCountry"):
        code = _text(origin, "ID")
        if code in countries:
            origins.append(code)
        region = _text(origin, "SubordinateSPSCountrySubDivision", "Name")
        if region:
            regions.append(region[: part_one_schema.BY_PATH["region_of_origin"].max_length])
    for note in _children(line, "AdditionalInformationSPSNote"):
        unmapped.append(_("Line %(n)s, note %(subject)s: %(content)s") % {"n": n, **_note(note)})
    for process in _children(line, "AppliedSPSProcess"):
        details = [
            _text(d)
            for c in _children(process, "ApplicableSPSProcessCharacteristic")
            for d in _children(c, "Description")[:1]
        ]
        unmapped.append(
            _("Line %(n)s: treatment (type %(type)s) %(details)s")
            % {"n": n, "type": _text(process, "TypeCode") or "?", "details": ", ".join(x for x in details if x)}
        )
    return row


@atomic_service
def ephyto_import(*, actor, file) -> tuple[Consignment, list[str]]:
    """Create a CHED-PP draft from an ePhyto certificate: consignor, consignee, origin, transport, commodity
    lines and the phytosanitary certificate as an accompanying document, with the XML as its file. Returns
    the draft and what could not be mapped. Hostile XML (DTDs, entities, external references) is refused."""
    _operator_of(actor)
    data = upload_read(file)
    mapping = ephyto_map(ephyto_parse(data))
    consignment = consignment_create(actor=actor, part_one=mapping.part_one, draft=True)
    document = consignment.documents.get(document_type__code="PHYTOSANITARY_CERTIFICATE")
    _document_store(
        actor=actor,
        consignment=consignment,
        document=document,
        document_type=document.document_type,
        reference=document.reference,
        data=data,
        content_type="application/xml",
        filename=f"ephyto-{re.sub(r'[^A-Za-z0-9_.-]', '_', mapping.certificate_number)}.xml",
        extension=".xml",
    )
    unmapped = mapping.unmapped + _attachments_store(actor=actor, consignment=consignment, mapping=mapping)
    audit_record(
        actor=actor,
        action=AuditAction.CONSIGNMENT_EPHYTO_IMPORTED,
        consignment=consignment,
        data={"certificate": mapping.certificate_number, "unmapped": unmapped},
    )
    return consignment, unmapped


def _attachments_store(*, actor, consignment: Consignment, mapping: EphytoMapping) -> list[str]:
    """The certificate's attached files (a PDF print, scans) become documents of type "other" when they pass
    the same checks as an upload; the others are listed with the reason."""
    other = DocumentType.objects.in_force(timezone.localdate()).filter(code="OTHER").first()
    refused = []
    for attachment in mapping.attachments:
        try:
            content = base64.b64decode(re.sub(r"\s+", "", attachment["base64"]), validate=True)
            content_type, extension, content = document_check(content)
        except (binascii.Error, ValueError):
            reason = _("the attachment is not valid base64")
        except UploadRefused as exc:
            reason = " ".join(sum(exc.errors.values(), []))
        else:
            if other is not None:
                _document_store(
                    actor=actor,
                    consignment=consignment,
                    document_type=other,
                    reference=attachment["id"],
                    data=content,
                    content_type=content_type,
                    filename=_safe_filename(attachment["filename"], extension),
                    extension=extension,
                )
                continue
            reason = _("no document type to file it under")
        refused.append(
            _("Referenced document %(id)s (%(info)s) not imported: %(reason)s") % {**attachment, "reason": reason}
        )
    return refused
