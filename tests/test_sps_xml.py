"""A CHED as UN/CEFACT SPS XML (docs/decisions/0016-traces-exchange.md): every CHED type exports its whole Part I
and, once decided, its decision; the XML imports back as a draft of the same type with the same Part I; the
importer of another company learns nothing; hostile or foreign XML is refused with a 4xx and nothing stored."""

import datetime
import re
from decimal import Decimal

import pytest
from defusedxml.ElementTree import fromstring
from django.test import Client
from django.utils import timezone

from inspection.certificates.sps import child, children, text
from inspection.models import AuditEvent, Consignment
from inspection.selectors import consignment_part_one
from inspection.services.consignments import consignment_create
from inspection.services.sps_import import SPS_XML_MAX_BYTES
from tests.conftest import api_client_for
from tests.factories import arrival_in, part_one
from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/consignments/import-sps/"
# Part I differs between the source and its copy only where a copy must: nothing
NOT_COPIED: set[str] = set()


@pytest.fixture(autouse=True)
def _urls():
    import pif.urls  # noqa: F401


def _url(consignment) -> str:
    return f"/api/v1/consignments/{consignment.reference}/sps-xml/"


def _national_entry() -> dict:
    """The demo's national plant-health entry (NAT-PP): goods of mainland France."""
    part = part_one(
        "CHED-PP",
        country_of_origin="FR",
        country_of_dispatch="FR",
        consignor={"name": "Vergers du Tarn", "address": "Route de Moissac\n82200 Moissac", "country": "FR"},
    )
    part["ched_type"] = "NAT-PP"
    return part


def _every_box(ched_type: str) -> dict:
    """Part I of the factories, with the optional boxes filled too (customs, region, gross weight...)."""
    extra = {
        "region_of_origin": "DO-25",
        "customs_status": "non_union",
        "customs_procedure": "free_circulation",
        "customs_mrn": "26FR00000000012349",
        "containers": [] if ched_type == "CHED-A" else [{"number": "CSQU3054383", "seal": "FX123456 FX123457"}],
    }
    part = part_one(ched_type, **extra)
    part["consignor"]["address"] = "Av. Duarte 120\nSantiago de los Caballeros"
    part["consignee"]["address"] = "\n".join(
        ["Antilles Primeurs SARL", "Bât. C", "ZI de la Lézarde", "Lot 12", "BP 401", "97232 Le Lamentin", "Martinique"]
    )  # more than five lines
    part["accompanying_documents"].append({"type": "COMMERCIAL_INVOICE", "reference": "INV-2026-77"})
    part["commodities"][0]["eppo_code"] = "MNGIN" if ched_type == "CHED-PP" else ""
    if ched_type == "CHED-P":
        part["total_gross_weight_kg"] = Decimal("1400.250")
    return part


def _transit() -> dict:
    """Goods crossing Martinique to Dominica: boxes I.22 and I.27, no place of destination."""
    part = _every_box("CHED-PP")
    part.update(
        purpose="transit",
        transit={"third_country": "DM", "exit_bcp": ""},
        after_bcp={"transport_mode": "sea", "transport_id": "CMA CGM DOMINICA 77"},
        customs_procedure="transit",
        place_of_destination={"name": "", "address": "", "country": "", "approval_number": ""},
    )
    return part


PARTS = {
    "CHED-PP in transit": _transit,
    "CHED-A": lambda: _every_box("CHED-A"),
    "CHED-P": lambda: _every_box("CHED-P"),
    "CHED-PP": lambda: _every_box("CHED-PP"),
    "CHED-D": lambda: _every_box("CHED-D"),
    "NAT-PP": _national_entry,
}


@pytest.mark.parametrize("case", sorted(PARTS))
def test_every_ched_type_goes_to_sps_xml_and_back_with_the_same_part_one(importer, case):
    source = consignment_create(actor=importer, part_one=PARTS[case]())
    ched_type = source.ched_type.code
    api = api_client_for(importer)

    exported = api.get(_url(source))
    assert exported.status_code == 200, exported.content
    assert exported["Content-Type"].startswith("application/xml")
    imported = api.generic("POST", IMPORT, exported.content, content_type="application/xml")

    assert imported.status_code == 201, imported.content
    body = imported.json()
    assert body["status"] == "draft" and body["ched_type"] == ched_type and body["reference"] != source.reference
    assert body["unmapped"] == []
    copy = Consignment.objects.get(reference=body["reference"])
    assert consignment_part_one(copy) == consignment_part_one(Consignment.objects.get(pk=source.pk))
    event = AuditEvent.objects.get(consignment=copy, action="consignment.sps_imported")
    assert event.data["source"] == source.reference


def test_the_xml_names_the_ched_its_parties_lines_and_bcp(importer):
    source = consignment_create(actor=importer, part_one=_every_box("CHED-PP"))
    root = fromstring(api_client_for(importer).get(_url(source)).content)

    document, consignment = child(root, "SPSExchangedDocument"), child(root, "SPSConsignment")
    assert text(document, "ID") == source.reference and text(document, "TypeCode") == "CHED-PP"
    assert text(consignment, "ConsignorSPSParty", "Name") == "Frutas del Cibao SRL"
    assert text(consignment, "UnloadingBaseportSPSLocation", "ID") == "FRFDF1"
    assert text(consignment, "MainCarriageSPSTransportMovement", "ModeCode") == "1"
    [line] = children(child(consignment, "IncludedSPSConsignmentItem"), "IncludedSPSTradeLineItem")
    assert {text(c, "SystemName"): text(c, "ClassCode") for c in children(line, "ApplicableSPSClassification")} == {
        "CN": "08045000",
        "EPPO": "MNGIN",
    }
    assert text(line, "NetWeightMeasure") == "1250.500" and text(line, "OriginSPSCountry", "ID") == "DO"
    notes = {text(n, "Subject"): text(n, "Content") for n in children(document, "IncludedSPSNote")}
    assert notes["PIF:customs_mrn"] == "26FR00000000012349" and notes["PIF:purpose"] == "internal_market"
    assert datetime.datetime.fromisoformat(notes["PIF:arrival.expected_at"]) == source.expected_arrival


def test_a_decided_ched_carries_its_decision_which_the_import_leaves_out(importer, inspector, officer):
    _rates("08045000", 0, 0)
    source = _submit(importer)
    _do(inspector, source, InspectionFlow.documentary_check, _documentary_ok(source))
    _do(officer, source, InspectionFlow.decide, ACCEPT)
    xml = api_client_for(officer).get(_url(source)).content  # staff read every CHED's

    document = child(fromstring(xml), "SPSExchangedDocument")
    notes = {text(n, "Subject"): text(n, "Content") for n in children(document, "IncludedSPSNote")}
    assert notes["PIF:decision.code"] == "acceptable_for_internal_market"
    assert notes["PIF:decision.acceptable"] == "true"
    assert text(document, "StatusCode") == "accepted"
    assert text(document, "SignatorySPSAuthentication", "ProviderSPSParty", "SpecifiedSPSPerson", "Name")

    imported = api_client_for(importer).generic("POST", IMPORT, xml, content_type="application/xml")
    assert imported.status_code == 201, imported.content
    assert imported.json()["decision"] is None and imported.json()["status"] == "draft"
    assert any("Part II" in message for message in imported.json()["unmapped"])


def test_another_company_and_no_one_get_404_or_401(importer, other_importer, customs, lab):
    source = consignment_create(actor=importer, part_one=part_one())
    assert api_client_for(other_importer).get(_url(source)).status_code == 404
    assert api_client_for(customs).get(_url(source)).status_code == 404
    assert api_client_for(lab).get(_url(source)).status_code == 404
    assert api_client_for(None).get(_url(source)).status_code == 401
    assert api_client_for(importer).get("/api/v1/consignments/CHEDPP.MQ.2026.9999999/sps-xml/").status_code == 404


def test_only_an_importer_imports(importer, officer, customs):
    xml = api_client_for(importer).get(_url(consignment_create(actor=importer, part_one=part_one()))).content
    before = Consignment.objects.count()
    for user in (officer, customs):
        response = api_client_for(user).generic("POST", IMPORT, xml, content_type="application/xml")
        assert response.status_code in (403, 404), response.content
    assert Consignment.objects.count() == before


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<SPSCertificate>&lol2;</SPSCertificate>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><SPSCertificate>&x;</SPSCertificate>"""
EPHYTO = (
    b'<rsm:SPSCertificate xmlns:rsm="urn:un:unece:uncefact:data:standard:SPSCertificate:17" '
    b'xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21">'
    b"<rsm:SPSExchangedDocument><ram:ID>X</ram:ID><ram:TypeCode>851</ram:TypeCode></rsm:SPSExchangedDocument>"
    b"<rsm:SPSConsignment/></rsm:SPSCertificate>"
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BILLION_LAUGHS, "DTD or entities"),
        (EXTERNAL, "DTD or entities"),
        (b"<SPSCertificate><unclosed></SPSCertificate>", "not well-formed"),
        (b"", "Choose a file"),
        (b"<Invoice/>", "not a CHED"),
        (EPHYTO, "not a CHED"),  # an ePhyto certificate goes to import-ephyto
        (b"\xff\xfe<\x00", "not well-formed"),
    ],
)
def test_hostile_or_foreign_xml_is_a_400_and_nothing_is_stored(importer, body, message):
    before = Consignment.objects.count()
    response = api_client_for(importer).generic("POST", IMPORT, body, content_type="application/xml")
    assert response.status_code == 400, response.content
    assert message in str(response.json())
    assert Consignment.objects.count() == before


def test_a_body_too_large_is_a_413_and_another_content_type_a_415(importer):
    api = api_client_for(importer)
    big = b"<SPSCertificate>" + b" " * SPS_XML_MAX_BYTES + b"</SPSCertificate>"
    response = api.generic("POST", IMPORT, big, content_type="application/xml")
    assert response.status_code == 413 and "too large" in response.json()["detail"]
    response = api.generic("POST", IMPORT, b"{}", content_type="application/json")
    assert response.status_code == 415


def test_a_bad_value_in_a_note_is_listed_and_bad_part_one_is_a_400(importer):
    source = consignment_create(actor=importer, part_one=part_one())
    xml = api_client_for(importer).get(_url(source)).content.decode()
    expected = timezone.localtime(source.expected_arrival).isoformat()
    assert expected in xml
    response = api_client_for(importer).generic(
        "POST", IMPORT, xml.replace(expected, "next tuesday").encode(), content_type="application/xml"
    )
    assert response.status_code == 201, response.content
    assert any("arrival.expected_at" in m for m in response.json()["unmapped"])
    # a country that is none: the draft's own rules refuse it, naming the field
    bad = xml.replace("<ram:CountryID>DO</ram:CountryID>", "<ram:CountryID>ZZ</ram:CountryID>", 1)
    before = Consignment.objects.count()
    response = api_client_for(importer).generic("POST", IMPORT, bad.encode(), content_type="application/xml")
    assert response.status_code == 400 and "consignor" in response.json(), response.content
    assert Consignment.objects.count() == before


def test_a_late_arrival_still_imports_as_a_draft(importer):
    """A CHED exported weeks ago names an arrival now past: the draft keeps it, the submit will ask for a new
    one (drafts are not held to the arrival rules)."""
    source = consignment_create(actor=importer, part_one=part_one(arrival={**part_one()["arrival"]}))
    xml = api_client_for(importer).get(_url(source)).content.decode()
    past = timezone.localtime(arrival_in(-3)).isoformat()
    xml = xml.replace(timezone.localtime(source.expected_arrival).isoformat(), past)
    response = api_client_for(importer).generic("POST", IMPORT, xml.encode(), content_type="application/xml")
    assert response.status_code == 201, response.content


def test_the_consignment_page_links_its_sps_xml_which_the_session_downloads(importer):
    source = consignment_create(actor=importer, part_one=part_one())
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(importer)
    page = browser.get(f"/consignments/{source.reference}/").content.decode()
    assert _url(source) in page and "SPS XML (TRACES NT)" in page
    response = browser.get(_url(source))
    assert response.status_code == 200 and source.reference.encode() in response.content


@pytest.mark.parametrize(
    ("element", "value", "named"),
    [
        ("NetWeightMeasure", "NaN", "NetWeightMeasure of line 1"),
        ("NetWeightMeasure", "sNaN", "NetWeightMeasure of line 1"),
        ("NetWeightMeasure", "-Infinity", "NetWeightMeasure of line 1"),
        ("NetWeightMeasure", "1e20", "NetWeightMeasure of line 1"),
        ("NetWeightMeasure", "-1e20", "NetWeightMeasure of line 1"),
        ("ItemQuantity", "9" * 30, "ItemQuantity of line 1"),
        ("ItemQuantity", "-4", "ItemQuantity of line 1"),
        ("Content", "NaN", "PIF:total_gross_weight_kg"),
        ("Content", "1e20", "PIF:total_gross_weight_kg"),
    ],
)
def test_a_number_no_ched_holds_is_a_400_naming_its_element_and_nothing_is_stored(importer, element, value, named):
    """NaN, infinities and numbers beyond their column are refused: stored, the draft could not be read back."""
    source = consignment_create(actor=importer, part_one=part_one("CHED-P", total_gross_weight_kg=Decimal("1400")))
    xml = api_client_for(importer).get(_url(source)).content.decode()
    pattern = (
        r"(<ram:Subject>PIF:total_gross_weight_kg</ram:Subject>\s*<ram:Content>)[^<]*(</ram:Content>)"
        if element == "Content"
        else rf"(<ram:{element}[^>]*>)[^<]*(</ram:{element}>)"
    )
    xml, replaced = re.subn(pattern, rf"\g<1>{value}\g<2>", xml)
    assert replaced == 1
    before = Consignment.objects.count()
    response = api_client_for(importer).generic("POST", IMPORT, xml.encode(), content_type="application/xml")
    assert response.status_code == 400, response.content
    assert named in " ".join(response.json()["file"])
    assert Consignment.objects.count() == before


def test_the_largest_numbers_a_ched_holds_import_and_read_back(importer):
    source = consignment_create(actor=importer, part_one=part_one())
    xml = api_client_for(importer).get(_url(source)).content.decode()
    xml = re.sub(r"(<ram:NetWeightMeasure[^>]*>)[^<]*<", r"\g<1>999999999.999<", xml)
    xml = re.sub(r"(<ram:ItemQuantity>)[^<]*<", r"\g<1>2147483647<", xml)
    response = api_client_for(importer).generic("POST", IMPORT, xml.encode(), content_type="application/xml")
    assert response.status_code == 201, response.content
    draft = Consignment.objects.get(reference=response.json()["reference"])
    line = consignment_part_one(draft)["commodities"][0]
    assert (line["net_weight_kg"], line["packages"]) == (Decimal("999999999.999"), 2147483647)
    assert api_client_for(importer).get(f"/api/v1/consignments/{draft.reference}/").status_code == 200
