"""Private files go with their rows (issue 15): a certificate, document or photo written in a transaction that
rolls back, whoever rolls it back, leaves no file; the files a dead process left behind, which no row records,
are deleted by the daily sweep once past the grace period, and nothing else is."""

import io
import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction

from inspection.models import AccompanyingDocument, CheckPhoto
from inspection.services.certificates import certificate_issue
from inspection.services.documents import document_upload
from inspection.tasks import files_sweep
from tests.factories import part_one, pdf_bytes, photo_bytes
from tests.test_photos import _documentary, _upload
from tests.test_workflow_paths import ACCEPT, _do, _documentary_ok, _rates, _submit
from workflows.flows import InspectionFlow

pytestmark = pytest.mark.django_db


class CallerFailed(Exception):
    pass


def _draft(importer):
    from inspection.services.consignments import consignment_create

    return consignment_create(actor=importer, part_one=part_one(), draft=True)


def _upload_document(importer, draft):
    return document_upload(
        actor=importer,
        consignment=draft,
        document_type="PHYTOSANITARY_CERTIFICATE",
        file=SimpleUploadedFile("phyto.pdf", pdf_bytes()),
    )


def test_a_document_whose_transaction_rolls_back_leaves_no_file(importer):
    draft = _draft(importer)
    with pytest.raises(CallerFailed), transaction.atomic():
        document = _upload_document(importer, draft)
        path = Path(document.file.path)
        assert path.is_file()
        raise CallerFailed("the caller fails after the upload")
    assert not path.exists()


def test_a_document_in_a_savepoint_rolled_back_goes_and_one_kept_stays(importer):
    draft = _draft(importer)
    with transaction.atomic():
        kept = Path(_upload_document(importer, draft).file.path)
        with pytest.raises(CallerFailed), transaction.atomic():
            undone = Path(_upload_document(importer, draft).file.path)
            raise CallerFailed("the savepoint rolls back")
        assert not undone.exists()
    assert kept.is_file() and AccompanyingDocument.objects.filter(consignment=draft).exclude(file="").count() == 1


def test_check_photos_whose_transaction_rolls_back_leave_no_file(inspector, consignment):
    with pytest.raises(CallerFailed), transaction.atomic():
        _documentary(inspector, consignment, [_upload(photo_bytes()), _upload(photo_bytes("PNG"), "b.png")])
        paths = [Path(photo.file.path) for photo in CheckPhoto.objects.filter(consignment=consignment)]
        assert len(paths) == 2 and all(p.is_file() for p in paths)
        raise CallerFailed("routing the flow on fails")
    assert not any(p.exists() for p in paths)


def test_a_certificate_whose_transaction_rolls_back_leaves_no_file(importer, inspector, officer):
    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(officer, consignment, InspectionFlow.decide, ACCEPT)
    with pytest.raises(CallerFailed), transaction.atomic():
        [certificate] = certificate_issue(consignment=consignment)
        path = Path(certificate.file.path)
        assert path.is_file()
        raise CallerFailed("the job's routing fails after the issue")
    assert not path.exists()


@pytest.fixture
def private_root(settings, tmp_path):
    """The private storage in a folder of this test's own (the sweep looks at everything in it)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/no-public-url/"},
        },
    }
    settings.PIF_FILE_SWEEP_GRACE_SECONDS = 3600
    return tmp_path


def _file(root: Path, name: str, *, hours_old: float) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.7 left behind")
    then = time.time() - hours_old * 3600
    os.utime(path, (then, then))
    return path


def test_the_sweep_removes_old_orphans_and_keeps_recorded_and_young_files(private_root, consignment):
    listed = consignment.documents.first()
    listed.file = "documents/2026/11/recorded.pdf"
    listed.save(update_fields=["file"])
    recorded = _file(private_root, "documents/2026/11/recorded.pdf", hours_old=48)
    orphan = _file(private_root, "documents/2026/11/orphan.pdf", hours_old=48)
    orphan_certificate = _file(private_root, "certificates/2026/11/orphan.pdf", hours_old=2)
    young = _file(private_root, "check-photos/2026/12/being-written.jpg", hours_old=0.1)
    elsewhere = _file(private_root, "lab-posts/raw.json", hours_old=48)  # no file field keeps files there

    out = io.StringIO()
    call_command("sweep_files", "--dry-run", stdout=out)
    assert "documents/2026/11/orphan.pdf" in out.getvalue() and "2 file(s)" in out.getvalue()
    assert orphan.exists() and orphan_certificate.exists()

    assert files_sweep.run() == 2
    assert not orphan.exists() and not orphan_certificate.exists()
    assert recorded.exists() and young.exists() and elsewhere.exists()
