"""Labs' reports: checked as importers' PDFs are, stored privately under a random name, given to staff only
as attachments; nothing under MEDIA_ROOT is served by the site."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, clear_url_caches, resolve

from inspection.models import LabResult
from inspection.services.consignments import consignment_create
from tests.conftest import api_client_for
from tests.factories import PNG_BYTES, part_one, pdf_bytes
from tests.test_workflow_paths import IDENTITY_OK, _do, _documentary_ok, _physical_with_sample, _rates
from workflows.flows import InspectionFlow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def roots(settings, tmp_path):
    """MEDIA_ROOT in a fresh folder, and the private reports as found before the test (the field's storage is
    the one the project configures)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    private = Path(LabResult._meta.get_field("report").storage.location)
    assert private == Path(settings.PRIVATE_ROOT).resolve()
    return {"media": tmp_path / "media", "private": private, "before": set(_files(private / "lab-reports"))}


@pytest.fixture
def sample(importer, inspector):
    import pif.urls  # noqa: F401  (Node.reverse needs the URLconf built)

    _rates("08045000", 0, 100)
    consignment = consignment_create(actor=importer, part_one=part_one())
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(inspector, consignment, InspectionFlow.identity_check, IDENTITY_OK)
    _do(inspector, consignment, InspectionFlow.physical_check, _physical_with_sample(detained=True))
    return consignment.samples.get()


def _post(lab, sample, content: bytes, name: str = "report.pdf"):
    return api_client_for(lab).post(
        "/api/v1/lab-results/",
        {"sample": sample.number, "conclusion": "satisfactory", "report": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_report_is_stored_privately_under_a_random_name(roots, lab, sample):
    posted = _post(lab, sample, pdf_bytes(), name="<script>.html.pdf")

    assert posted.status_code == 201, posted.json()
    report = LabResult.objects.get(sample=sample).report
    assert report.name.startswith("lab-reports/") and "script" not in report.name
    assert set(_files(roots["private"] / "lab-reports")) - roots["before"] == {roots["private"] / report.name}
    assert _files(roots["media"]) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (pdf_bytes(javascript="app.alert(1)"), "scripts"),
        (pdf_bytes(open_action={"/S": "/Launch", "/F": "cmd.exe"}), "launch"),
        (pdf_bytes(open_action={"/S": "/SubmitForm", "/F": "https://evil.example/"}), "form-submission"),
        (PNG_BYTES, "Only PDF"),
        (b"%PDF-1.7\n<html><script>alert(1)</script></html>", "cannot be read"),
    ],
)
def test_a_report_that_is_not_a_plain_pdf_is_refused_and_nothing_stored(roots, lab, sample, content, message):
    posted = _post(lab, sample, content)

    assert posted.status_code == 400
    assert message in " ".join(posted.json()["report"])
    assert not LabResult.objects.filter(sample=sample).exists()
    assert set(_files(roots["private"] / "lab-reports")) == roots["before"]
    assert _files(roots["media"]) == []


def test_staff_download_a_report_as_an_attachment_and_no_one_else(roots, lab, sample, inspector, importer):
    assert _post(lab, sample, pdf_bytes()).status_code == 201
    result = LabResult.objects.get(sample=sample)
    url = f"/workflow/lab-results/{result.pk}/report/"

    staff = Client()
    staff.force_login(inspector)
    response = staff.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    for outsider in (lab, importer):
        other = Client()
        other.force_login(outsider)
        assert other.get(url).status_code == 404
    assert Client().get(url).status_code in (302, 404)


def test_nothing_under_media_root_is_routed_even_in_debug(settings):
    import pif.urls

    settings.DEBUG = True
    try:
        clear_url_caches()
        importlib.reload(pif.urls)
        with pytest.raises(Resolver404):
            resolve("/media/lab-reports/2026/01/report.pdf")
    finally:
        settings.DEBUG = False
        importlib.reload(pif.urls)
        clear_url_caches()


def test_the_migration_moves_public_reports_to_private_storage(roots, lab, sample):
    migration = importlib.import_module("inspection.migrations.0023_lab_reports_private")
    assert _post(lab, sample, pdf_bytes()).status_code == 201
    result = LabResult.objects.get(sample=sample)
    old = storages["default"].save("lab-reports/2025/12/analyse client.pdf", ContentFile(pdf_bytes()))
    LabResult.objects.filter(pk=result.pk).update(report=old)

    migration.reports_to_private_storage(apps, None)

    result.refresh_from_db()
    assert result.report.name != old and result.report.name.startswith("lab-reports/2025/12/")
    assert storages["private"].exists(result.report.name)
    assert _files(roots["media"]) == []
