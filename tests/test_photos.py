"""Photo evidence of the checks: recognised by content, stored upright without any metadata (no GPS), listed in
the check's audit event, refused with a clear message and nothing written, shown to staff only."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inspection.errors import UploadRefused
from inspection.models import AuditEvent, CheckPhoto, Consignment, DocumentaryCheck, IdentityCheck, PhysicalCheck
from inspection.services.checks import documentary_check_record, identity_check_record
from inspection.services.consignments import consignment_create
from inspection.services.sampling import physical_check_record
from tests.factories import PNG_BYTES, part_one, pdf_bytes, photo_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def consignment(importer) -> Consignment:
    return consignment_create(actor=importer, part_one=part_one())


def _upload(content: bytes, name: str = "IMG_0001.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def _documentary(inspector, consignment, photos, **kwargs):
    verdicts = {d.pk: (True, True) for d in consignment.documents.all()}
    return documentary_check_record(
        actor=inspector, consignment=consignment, verdicts=verdicts, result="satisfactory", photos=photos, **kwargs
    )


def _stored_photos(settings) -> list:
    root = settings.PRIVATE_ROOT / "check-photos"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_stored_photo_has_no_gps_or_any_metadata_and_is_upright(inspector, consignment):
    _documentary(inspector, consignment, [_upload(photo_bytes(orientation=6, gps=True))])

    photo = CheckPhoto.objects.get(consignment=consignment)
    data = photo.file.read()
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG" and photo.content_type == "image/jpeg"
    assert not stored.getexif() and not stored.getexif().get_ifd(0x8825)
    assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(stored.info)
    assert b"Tablette" not in data and b"inspector at home" not in data
    # Orientation 6 means "turn 90° clockwise to view": the 40×20 picture is stored 20×40, left half on top.
    assert (stored.width, stored.height) == (photo.width, photo.height) == (20, 40)
    assert stored.getpixel((10, 5))[0] > 200 and stored.getpixel((10, 35))[2] > 200
    assert photo.step == "documentary" and photo.uploaded_by == inspector and photo.size == len(data)


@pytest.mark.parametrize(("fmt", "content_type"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_are_kept_in_their_format_without_metadata(inspector, consignment, fmt, content_type):
    _documentary(inspector, consignment, [_upload(photo_bytes(fmt, orientation=3, gps=True), name="photo.jpg")])

    photo = CheckPhoto.objects.get(consignment=consignment)
    stored = Image.open(io.BytesIO(photo.file.read()))
    assert stored.format == fmt and photo.content_type == content_type and photo.file.name.endswith(f".{fmt.lower()}")
    assert not stored.getexif() and not {"exif", "xmp", "icc_profile"} & set(stored.info)
    assert stored.getpixel((5, 10))[2] > 200  # orientation 3 (180°): blue is now on the left


def test_the_check_event_lists_its_photos(inspector, consignment):
    import hashlib

    _documentary(inspector, consignment, [_upload(photo_bytes()), _upload(photo_bytes("PNG"))])

    photos = list(CheckPhoto.objects.filter(consignment=consignment))
    event = AuditEvent.objects.get(consignment=consignment, action="documentary_check.recorded")
    assert [(p["sha256"], p["size"]) for p in event.data["photos"]] == [(p.sha256, p.size) for p in photos]
    assert photos[0].sha256 == hashlib.sha256(photos[0].file.read()).hexdigest()


def test_identity_and_physical_checks_take_photos(inspector, consignment):
    _documentary(inspector, consignment, [])
    identity_check_record(
        actor=inspector,
        consignment=consignment,
        seals_as_declared=True,
        goods_as_declared=True,
        result="satisfactory",
        photos=[_upload(photo_bytes())],
    )
    physical_check_record(
        actor=inspector, consignment=consignment, result="satisfactory", photos=[_upload(photo_bytes("WEBP"))]
    )

    assert list(CheckPhoto.objects.values_list("step", flat=True)) == ["identity", "physical"]
    assert "photos" not in AuditEvent.objects.get(action="documentary_check.recorded").data
    assert len(AuditEvent.objects.get(action="physical_check.recorded").data["photos"]) == 1


def _refused_and_nothing_written(settings, consignment, record, message):
    files_before, events_before, status_before = (
        _stored_photos(settings),
        AuditEvent.objects.count(),
        consignment.status,
    )
    with pytest.raises(UploadRefused) as refused:
        record()
    assert message in refused.value.errors["photos"][0]
    assert not CheckPhoto.objects.exists()
    assert not (DocumentaryCheck.objects.exists() or IdentityCheck.objects.exists() or PhysicalCheck.objects.exists())
    assert AuditEvent.objects.count() == events_before
    assert _stored_photos(settings) == files_before
    consignment.refresh_from_db()
    assert consignment.status == status_before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (pdf_bytes(), "is not a JPEG, PNG or WebP photo"),
        (b"GIF89a" + PNG_BYTES, "is not a JPEG, PNG or WebP photo"),
        (photo_bytes("GIF"), "is not a JPEG, PNG or WebP photo"),
        (photo_bytes()[:200], "is not a JPEG, PNG or WebP photo"),  # truncated
        (b"", "is not a JPEG, PNG or WebP photo"),
    ],
)
def test_anything_but_a_whole_jpeg_png_or_webp_is_refused(inspector, consignment, settings, content, message):
    good = _upload(photo_bytes())
    _refused_and_nothing_written(
        settings,
        consignment,
        lambda: _documentary(inspector, consignment, [good, _upload(content, "scan.jpg")]),
        message,
    )


def test_an_oversized_photo_is_refused(inspector, consignment, settings):
    settings.PIF_UPLOAD_MAX_BYTES = 2000
    big = _upload(photo_bytes(size=(400, 400)) + b"\0" * 2000, "big.jpg")
    _refused_and_nothing_written(
        settings, consignment, lambda: _documentary(inspector, consignment, [big]), "big.jpg is too large"
    )


def test_more_than_ten_photos_are_refused(inspector, consignment, settings):
    photos = [_upload(photo_bytes(), f"p{i}.jpg") for i in range(11)]
    _refused_and_nothing_written(
        settings, consignment, lambda: _documentary(inspector, consignment, photos), "At most 10 photos per check"
    )


def test_a_photo_refused_on_the_physical_check_writes_no_sample(inspector, consignment, settings):
    _documentary(inspector, consignment, [])
    record = lambda: physical_check_record(  # noqa: E731
        actor=inspector, consignment=consignment, result="satisfactory", photos=[_upload(pdf_bytes())]
    )
    files_before = _stored_photos(settings)
    with pytest.raises(UploadRefused):
        record()
    assert not PhysicalCheck.objects.exists() and not consignment.samples.exists()
    assert _stored_photos(settings) == files_before


def test_files_are_removed_when_the_audit_event_fails(inspector, consignment, settings, monkeypatch):
    import inspection.services.checks as checks

    def broken(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(checks, "_move_on", broken)
    files_before = _stored_photos(settings)
    with pytest.raises(RuntimeError):
        _documentary(inspector, consignment, [_upload(photo_bytes()), _upload(photo_bytes("PNG"))])
    assert _stored_photos(settings) == files_before
    assert not CheckPhoto.objects.exists() and not DocumentaryCheck.objects.exists()
