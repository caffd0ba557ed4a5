"""Accompanying documents: PDF, JPEG and PNG recognised by content; everything else, and PDFs that are
encrypted or carry scripts, refused with a clear message and nothing stored; served only to those allowed."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from inspection.models import AccompanyingDocument, AuditEvent
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for
from tests.factories import PNG_BYTES, part_one, pdf_bytes, photo_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(importer):
    return consignment_create(actor=importer, part_one=part_one(), draft=True)


def _upload(client, draft, content: bytes, name="certificate.pdf", type_="PHYTOSANITARY_CERTIFICATE", **extra):
    return client.post(
        f"/api/v1/consignments/{draft.reference}/documents/",
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf"), "type": type_, **extra},
        format="multipart",
    )


def _stored_files(settings):
    root = settings.PRIVATE_ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (pdf_bytes(), "cert.pdf", "application/pdf"),
        (PNG_BYTES, "photo.png", "image/png"),
        (photo_bytes("JPEG"), "x.jpeg", "image/jpeg"),
    ],
)
def test_pdf_jpeg_and_png_are_stored_privately_under_a_random_name(api, draft, settings, content, name, content_type):
    response = _upload(api, draft, content, name=name, reference="DO-2026-77")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == content_type and body["reference"] == "DO-2026-77"
    document = AccompanyingDocument.objects.get(pk=body["id"])
    assert body["size"] == document.size == len(document.file.read())
    if content_type == "application/pdf":  # stored as sent: a signed PDF's signature must stay intact
        assert document.size == len(content)
    assert name.rsplit(".", 1)[0] not in document.file.name  # random, not the uploaded name
    assert str(settings.PRIVATE_ROOT) in document.file.path
    assert str(settings.MEDIA_ROOT) not in document.file.path and "static" not in document.file.path
    assert AuditEvent.objects.filter(action="document.uploaded", consignment=draft).count() == 1
    assert [f["id"] for f in api.get(f"/api/v1/consignments/{draft.reference}/").json()["files"]] == [document.pk]


def test_the_content_decides_not_the_name_or_declared_type(api, draft):
    response = _upload(api, draft, b"MZ\x90\x00 this is a Windows program", name="invoice.pdf")
    assert response.status_code == 400
    assert "Only PDF, JPEG and PNG" in response.json()["file"][0]
    renamed_png = _upload(api, draft, PNG_BYTES, name="scan.pdf")
    assert renamed_png.json()["content_type"] == "image/png" and renamed_png.json()["filename"] == "scan.png"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (pdf_bytes(password="secret"), "Encrypted"),
        (pdf_bytes(javascript="app.alert('x')"), "scripts"),
        (pdf_bytes(attachment=b"MZ evil"), "embedded files"),
        (pdf_bytes(open_action={"/S": "/Launch", "/F": "calc.exe"}), "launch"),
        (pdf_bytes(open_action={"/S": "/JavaScript", "/JS": "app.alert(1)"}), "scripts"),
        (pdf_bytes(open_action={"/S": "/SubmitForm", "/F": "https://evil.example/"}), "form-submission"),
        (pdf_bytes(open_action={"/S": "/GoToR", "/F": "other.pdf"}), "links to other files"),
        (pdf_bytes(open_action={"/S": "/GoToE", "/T": "attached"}), "links to other files"),
        (pdf_bytes(open_action={"/S": "/ImportData", "/F": "data.fdf"}), "form-submission"),
        (b"%PDF-1.7\n garbage that is no PDF at all", "cannot be read"),
        (b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>" * 20, "cannot be read"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9", "cannot be read"),
        (PNG_BYTES[:-20] + b"garbage" * 10, "cannot be read"),
    ],
    ids=[
        "encrypted",
        "javascript",
        "embedded-file",
        "launch",
        "open-action-js",
        "submit-form",
        "goto-remote",
        "goto-embedded",
        "import-data",
        "malformed",
        "png-magic-then-garbage",
        "jpeg-without-pixels",
        "png-truncated-then-garbage",
    ],
)
def test_hostile_or_broken_pdfs_are_refused_and_nothing_is_stored(api, draft, settings, content, message):
    before = _stored_files(settings)

    response = _upload(api, draft, content)

    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not AccompanyingDocument.objects.exclude(file="").exists()
    assert _stored_files(settings) == before
    assert not AuditEvent.objects.filter(action="document.uploaded").exists()


def test_a_pdf_with_a_web_link_is_accepted(api, draft):
    """/URI actions stay: ordinary certificates and invoices link to a website, and a viewer asks first."""
    response = _upload(api, draft, pdf_bytes(open_action={"/S": "/URI", "/URI": "https://www.example.org/"}))
    assert response.status_code == 201, response.content


def test_an_image_document_is_stored_re_encoded_without_its_metadata(api, draft):
    from PIL import Image

    content = photo_bytes("JPEG", gps=True)
    body = _upload(api, draft, content, name="scan.jpg").json()
    stored = AccompanyingDocument.objects.get(pk=body["id"]).file.read()
    assert stored != content and b"GPS" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (40, 20) and not image.getexif()


def test_the_refusal_is_in_french_too(importer, draft):
    response = _upload(api_client_for(importer, "fr"), draft, pdf_bytes(javascript="app.alert(1)"))
    assert response.status_code == 400
    assert "refusés" in response.json()["file"][0]


@override_settings(PIF_UPLOAD_MAX_BYTES=1000)
def test_the_size_limit_is_a_setting(api, draft):
    response = _upload(api, draft, b"%PDF-1.4\n" + b"0" * 2000)
    assert response.status_code == 400
    assert "too large" in response.json()["file"][0]
    assert not AccompanyingDocument.objects.exclude(file="").exists()


def test_unknown_document_type_and_missing_file_are_field_errors(api, draft):
    assert "type" in _upload(api, draft, pdf_bytes(), type_="NOPE").json()
    response = api.post(f"/api/v1/consignments/{draft.reference}/documents/", {"type": "PHYTOSANITARY_CERTIFICATE"})
    assert response.status_code == 400 and "file" in response.json()


def test_uploaded_files_survive_editing_the_draft(api, draft):
    _upload(api, draft, pdf_bytes(), reference="DO-2026-000123")
    part = api.get(f"/api/v1/consignments/{draft.reference}/").json()
    api.put(f"/api/v1/consignments/{draft.reference}/", {k: part[k] for k in part_one(as_json=True)}, format="json")
    documents = AccompanyingDocument.objects.filter(consignment=draft)
    assert [(d.reference, d.has_file) for d in documents] == [("DO-2026-000123", True)]


def test_download_is_an_attachment_with_safe_headers_for_the_company_and_staff(importer, inspector, draft):
    content = pdf_bytes()
    document_id = _upload(api_client_for(importer), draft, content, name='../../etc/"evil".pdf').json()["id"]
    for user in (importer, inspector):
        client = Client()
        client.force_login(user)
        response = client.get(f"/consignments/{draft.reference}/documents/{document_id}/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == content
        assert response["Content-Disposition"].startswith("attachment;")
        assert "/" not in response["Content-Disposition"] and "..\\" not in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
    api_response = api_client_for(importer).get(f"/api/v1/consignments/{draft.reference}/documents/{document_id}/")
    assert api_response.status_code == 200 and api_response["Content-Type"] == "application/pdf"


def test_no_upload_once_decided(api, draft):
    from inspection.models import Consignment

    Consignment.objects.filter(pk=draft.pk).update(status="accepted")
    response = _upload(api, draft, pdf_bytes())
    assert response.status_code == 409


def test_portal_upload_shows_the_refusal_and_the_document(importer, draft):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(importer)
    url = f"/consignments/{draft.reference}/documents/"
    refused = client.post(
        url,
        {"type": "PHYTOSANITARY_CERTIFICATE", "file": SimpleUploadedFile("a.pdf", pdf_bytes(password="x"))},
        follow=True,
    )
    assert "Encrypted or password-protected PDFs are refused" in refused.content.decode()
    page = client.post(
        url,
        {"type": "PHYTOSANITARY_CERTIFICATE", "reference": "PC-1", "file": SimpleUploadedFile("a.pdf", pdf_bytes())},
        follow=True,
    ).content.decode()
    assert "Document a.pdf uploaded." in page and "PC-1" in page


def test_inspectors_see_the_download_beside_their_task(api, draft):
    from django.template.loader import render_to_string

    document_id = _upload(api, draft, pdf_bytes(), name="phyto.pdf").json()["id"]
    html = render_to_string("workflows/_consignment_summary.html", {"consignment": draft})
    assert f'href="/consignments/{draft.reference}/documents/{document_id}/"' in html and "phyto.pdf" in html


def test_a_document_is_removed_from_a_draft_with_its_file(api, draft, settings, django_capture_on_commit_callbacks):
    from pathlib import Path

    document_id = _upload(api, draft, pdf_bytes(), reference="DO-2026-9").json()["id"]
    document = AccompanyingDocument.objects.get(pk=document_id)
    stored, sha256 = Path(document.file.path), document.sha256
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/v1/consignments/{draft.reference}/documents/{document_id}/")

    assert response.status_code == 204
    assert not AccompanyingDocument.objects.filter(pk=document_id).exists() and not stored.exists()
    event = AuditEvent.objects.get(action="document.removed", consignment=draft)
    assert event.data["sha256"] == sha256 and event.data["reference"] == "DO-2026-9"
    again = api.delete(f"/api/v1/consignments/{draft.reference}/documents/{document_id}/")
    assert again.status_code == 404 and again.json()["detail"] == "This consignment has no such document."


def test_a_submitted_consignment_keeps_its_documents(api, draft, django_capture_on_commit_callbacks):
    from pathlib import Path

    from inspection.models import Consignment

    document_id = _upload(api, draft, pdf_bytes()).json()["id"]
    stored = Path(AccompanyingDocument.objects.get(pk=document_id).file.path)
    Consignment.objects.filter(pk=draft.pk).update(status="submitted")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/v1/consignments/{draft.reference}/documents/{document_id}/")
    assert response.status_code == 409 and "Upload the corrected document instead" in response.json()["detail"]
    assert AccompanyingDocument.objects.filter(pk=document_id).exists() and stored.exists()
    assert not AuditEvent.objects.filter(action="document.removed").exists()


def test_only_the_company_removes_its_documents(api, draft, inspector):
    from tests.factories import importer_factory

    document_id = _upload(api, draft, pdf_bytes()).json()["id"]
    url = f"/api/v1/consignments/{draft.reference}/documents/{document_id}/"
    assert api_client_for(importer_factory("mallory")).delete(url).status_code == 404
    assert api_client_for(inspector).delete(url).status_code == 403
    portal = Client()
    portal.force_login(inspector)
    assert portal.post(f"/consignments/{draft.reference}/documents/{document_id}/remove/").status_code == 404
    assert AccompanyingDocument.objects.filter(pk=document_id).exists()


def test_the_portal_removes_a_draft_document(importer, draft):
    from inspection.models import Consignment

    document_id = _upload(api_client_for(importer), draft, pdf_bytes(), reference="PC-7").json()["id"]
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(importer)
    page = client.get(f"/consignments/{draft.reference}/").content.decode()
    remove = f"/consignments/{draft.reference}/documents/{document_id}/remove/"
    assert remove in page
    done = client.post(remove, follow=True).content.decode()
    assert "Document supprimé." in done and "PC-7" not in done
    assert client.get(remove).status_code == 405

    Consignment.objects.filter(pk=draft.pk).update(status="submitted")
    kept = _upload(api_client_for(importer), draft, pdf_bytes(), reference="PC-8").json()["id"]
    page = client.get(f"/consignments/{draft.reference}/").content.decode()
    assert "/remove/" not in page
    refused = client.post(f"/consignments/{draft.reference}/documents/{kept}/remove/", follow=True).content.decode()
    assert "Les documents ne peuvent être retirés que d&#x27;un brouillon" in refused
    assert AccompanyingDocument.objects.filter(pk=kept).exists()
