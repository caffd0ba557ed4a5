"""ePhyto import: the reference certificate becomes a CHED-PP draft with what maps, the rest listed; hostile
or malformed XML is refused with a clear 400 and nothing stored."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from inspection.models import AccompanyingDocument, AuditEvent, Consignment
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

SAMPLE = (Path(__file__).resolve().parent / "data" / "ephyto-certificate-sample.xml").read_bytes()
URL = "/api/v1/consignments/import-ephyto/"


def _post(client, body: bytes, content_type="application/xml"):
    return client.generic("POST", URL, body, content_type=content_type)


def test_the_reference_certificate_becomes_a_ched_pp_draft(api, importer):
    response = _post(api, SAMPLE)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["ched_type"] == "CHED-PP"
    assert body["consignor"] == {
        "name": "Juan Perez",
        "address": "El trébol 853, Brandsen, Buenos Aires, Argentina",
        "country": "AR",
    }
    assert body["consignee"]["name"] == "Importer SA" and body["consignee"]["country"] == "EC"
    assert body["country_of_origin"] == "AR"
    # boxes I.14 and I.12: the exporting country dispatched the goods; the region of origin of the first line
    assert body["country_of_dispatch"] == "AR" and body["region_of_origin"] == "Valles de la RegiónPatagónica"
    assert body["arrival"]["transport_mode"] == "sea"
    assert body["arrival"]["transport_id"] == "Ocean Vessel: Black Pearl Voyage N° 18"
    assert body["containers"] == [{"number": "", "seal": "G2382564"}]
    first, second = body["commodities"]
    assert first["species"] == "Ribes" and first["description"].startswith("Ribes — LIVE TREES")
    assert first["net_weight_kg"] == "10.000" and first["packages"] == 100 and first["package_type"] == "BG"
    assert second["species"] == "Ribes" and second["net_weight_kg"] is None
    assert body["accompanying_documents"][0] == {"type": "PHYTOSANITARY_CERTIFICATE", "reference": "123ABC"}
    assert len(body["accompanying_documents"]) == 5  # and the four attachments kept (below)
    certificate, *attached = body["files"]
    assert certificate["content_type"] == "application/xml" and certificate["type"] == "PHYTOSANITARY_CERTIFICATE"
    assert AccompanyingDocument.objects.get(pk=certificate["id"]).file.read() == SAMPLE
    # the attached PDF, PNG and JPEG pass the upload checks and are kept; the GIF and broken base64 are listed
    assert [(f["type"], f["reference"], f["filename"], f["content_type"]) for f in attached] == [
        ("OTHER", "PC-UG-1234513467", "TestPdf.pdf", "application/pdf"),
        ("OTHER", "US-F-12345-13467-7N", "US-F-12345-13467-7N.png", "image/png"),
        ("OTHER", "PC-ZA-1234513467", "TestJpeg.jpg", "image/jpeg"),
        ("OTHER", "PC-UG-1234513467", "TestIngenFiltypeINavn.pdf", "application/pdf"),
    ]

    unmapped = body["unmapped"]
    for expected in (
        "Line 1: HS code 06029048",  # not in the CHED-PP catalogue: the importer chooses
        "Line 2: no HS code",
        "Line 1: intended use Planting",
        "Line 1: inner packaging 20.0000 × BX",
        "Line 1: gross weight 60 KGM",
        "Transit country US",
        "Port of unloading USSEA",
        "Other transport leg: Road transport",
        "Referenced document PC-UK-1234513467 (GIF of Authority) not imported: Only PDF, JPEG and PNG",
        "Referenced document Rar-fil (Hva i all verden er dette for noe rart?) not imported: the attachment is not",
        "Line 2, note OPTND: 100 Bags of 20 Cardboard Boxes",
        "Another country of origin, US",
        "Line 1: treatment (type ZZZ)",
        "Certificate note ADEDL: Phyllocnistiscitrella is absent in Argentina",
    ):
        assert any(item.startswith(expected) for item in unmapped), (expected, unmapped)
    consignment = Consignment.objects.get(reference=body["reference"])
    assert consignment.operator == importer.membership.operator
    assert (
        AuditEvent.objects.get(action="consignment.ephyto_imported", consignment=consignment).data["unmapped"]
        == unmapped
    )


def test_a_catalogue_hs_code_and_a_bcp_locode_are_mapped(api):
    xml = SAMPLE.replace(
        b"<ns1:ClassCode>06029048</ns1:ClassCode>", b"<ns1:ClassCode>060290</ns1:ClassCode>", 1
    ).replace(b"USSEA", b"MQFDF")
    body = _post(api, xml).json()
    assert body["bcp"] == "FRFDF1"
    # 060290 names several catalogue lines: the importer must choose
    assert body["commodities"][0]["cn_code"] == ""
    xml = SAMPLE.replace(b"<ns1:ClassCode>06029048</ns1:ClassCode>", b"<ns1:ClassCode>06029070</ns1:ClassCode>", 1)
    assert _post(api, xml).json()["commodities"][0]["cn_code"] == "06029070"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<SPSCertificate>&lol3;</SPSCertificate>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SPSCertificate><SPSExchangedDocument><ID>&xxe;</ID></SPSExchangedDocument></SPSCertificate>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE SPSCertificate SYSTEM "http://127.0.0.1:9/evil.dtd"><SPSCertificate/>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x">%remote;]><SPSCertificate/>"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BILLION_LAUGHS, "refused for safety"),
        (EXTERNAL_ENTITY, "refused for safety"),
        (EXTERNAL_DTD, "refused for safety"),
        (PARAMETER_ENTITY, "refused for safety"),
        (b"<SPSCertificate><unclosed></SPSCertificate>", "not well-formed"),
        (b"", "Choose a file"),
        (b"<Invoice/>", "not an ePhyto certificate"),
        (SAMPLE.replace(b"<ns1:TypeCode>851</ns1:TypeCode>", b"<ns1:TypeCode>636</ns1:TypeCode>"), "type code"),
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "external-dtd",
        "parameter-entity",
        "malformed",
        "empty",
        "wrong-root",
        "not-phyto",
    ],
)
def test_hostile_or_malformed_xml_is_refused_and_nothing_is_stored(api, body, message):
    response = _post(api, body)

    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not Consignment.objects.exists()
    assert not AccompanyingDocument.objects.exists()


@override_settings(PIF_UPLOAD_MAX_BYTES=10_000)
def test_a_certificate_over_the_size_limit_is_refused(api):
    response = _post(api, SAMPLE)
    assert response.status_code == 400 and "too large" in response.json()["file"][0]
    assert not Consignment.objects.exists()


def test_multipart_upload_and_french_messages(importer):
    client = api_client_for(importer, "fr")
    ok = client.post(URL, {"file": SimpleUploadedFile("c.xml", SAMPLE)}, format="multipart")
    assert ok.status_code == 201
    refused = _post(client, BILLION_LAUGHS)
    assert "refusé" in refused.json()["file"][0]


def test_only_importers_import(lab, inspector):
    assert _post(api_client_for(lab), SAMPLE).status_code == 403
    assert _post(api_client_for(inspector), SAMPLE).status_code == 403
    assert _post(api_client_for(None), SAMPLE).status_code in (401, 403)
    assert not Consignment.objects.exists()


def test_portal_import_shows_what_was_not_mapped(importer):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    assert "ePhyto" in client.get("/consignments/import-ephyto/").content.decode()
    page = client.post(
        "/consignments/import-ephyto/", {"file": SimpleUploadedFile("c.xml", SAMPLE)}, follow=True
    ).content.decode()
    assert "created from the ePhyto certificate" in page
    assert "Not imported from the ePhyto certificate" in page and "Transit country US" in page
    refused = client.post("/consignments/import-ephyto/", {"file": SimpleUploadedFile("c.xml", BILLION_LAUGHS)})
    assert refused.status_code == 200 and "refused for safety" in refused.content.decode()
    assert Consignment.objects.count() == 1


def test_a_script_bearing_attachment_is_listed_not_kept(api):
    import base64
    import re

    from tests.factories import pdf_bytes

    hostile = base64.b64encode(pdf_bytes(javascript="app.alert(1)")).decode()
    xml = re.sub(
        rb'(<ns1:AttachmentBinaryObject filename="TestPdf.pdf">)[^<]*',
        lambda m: m.group(1) + hostile.encode(),
        SAMPLE,
    )
    body = _post(api, xml).json()
    assert "TestPdf.pdf" not in [f["filename"] for f in body["files"]]
    assert any(
        item.startswith("Referenced document PC-UG-1234513467 (PDF of Authority) not imported: PDFs containing scripts")
        for item in body["unmapped"]
    )


@pytest.mark.parametrize(
    ("element", "value", "listed"),
    [
        ('NetWeightMeasure unitCode="KGM"', "NaN", "net weight"),
        ('NetWeightMeasure unitCode="KGM"', "Infinity", "net weight"),
        ('NetWeightMeasure unitCode="KGM"', "1e30", "net weight"),
        ("ItemQuantity", "Infinity", "packages is not a whole number"),
    ],
)
def test_a_number_no_ched_holds_is_listed_not_a_500(api, element, value, listed):
    tag = element.split()[0]
    start = SAMPLE.index(f"<ns1:{element}>".encode())
    end = SAMPLE.index(f"</ns1:{tag}>".encode(), start)
    xml = SAMPLE[:start] + f"<ns1:{element}>{value}".encode() + SAMPLE[end:]
    response = _post(api, xml)
    assert response.status_code == 201, response.content
    assert any(listed in message for message in response.json()["unmapped"])
