"""Photo evidence of the checks: recognised by content, stored upright without any metadata (no GPS), listed in
the check's audit event, refused with a clear message and nothing written, shown to staff only."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from inspection.errors import UploadRefused
from inspection.models import AuditEvent, CheckPhoto, DocumentaryCheck, IdentityCheck, PhysicalCheck
from inspection.services.checks import documentary_check_record, identity_check_record
from inspection.services.sampling import physical_check_record
from tests.conftest import api_client_for
from tests.factories import PNG_BYTES, goods_arrived, pdf_bytes, photo_bytes
from tests.test_workflow_paths import IDENTITY_OK, _do, _documentary_ok, _open_task, _rates, _submit
from workflows.flows import InspectionFlow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


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
    goods_arrived(consignment, inspector)
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
    goods_arrived(consignment, inspector)
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


# Over HTTP: the task forms post the photos as multipart; the photos are shown to staff only.

PHOTO_INPUT = (
    '<input type="file" name="photos" id="id_photos" multiple="multiple" accept="image/*" capture="environment"'
)


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def _claimed(user, consignment, node):
    task = _open_task(consignment, node)
    client = _client(user)
    assert client.post(task.reverse("assign")).status_code == 302
    return client, task


def test_check_forms_render_the_camera_input_in_a_multipart_form(importer, inspector):

    _rates("08045000", 100, 100)
    consignment = _submit(importer)
    client, task = _claimed(inspector, consignment, InspectionFlow.documentary_check)
    html = client.get(task.reverse("execute")).content.decode()
    assert PHOTO_INPUT in html and 'enctype="multipart/form-data"' in html
    assert client.post(task.reverse("execute"), _documentary_ok(consignment)).status_code == 302
    goods_arrived(consignment, inspector)

    identity = {"seals_as_declared": "on", "goods_as_declared": "on", "result": "satisfactory"}
    for node, data in ((InspectionFlow.identity_check, identity), (InspectionFlow.physical_check, None)):
        client, task = _claimed(inspector, consignment, node)
        html = client.get(task.reverse("execute")).content.decode()
        assert PHOTO_INPUT in html and 'enctype="multipart/form-data"' in html, node.name
        if data:
            assert client.post(task.reverse("execute"), data).status_code == 302


def test_photos_posted_with_the_physical_check_move_the_consignment_on_and_show_to_staff_only(
    importer, other_importer, inspector, supervisor, lab
):

    _rates("08045000", 0, 100)
    consignment = _submit(importer)
    _do(inspector, consignment, InspectionFlow.documentary_check, _documentary_ok(consignment))
    _do(inspector, consignment, InspectionFlow.identity_check, IDENTITY_OK)
    photos = [_upload(photo_bytes(gps=True, orientation=6), "IMG_1.jpg"), _upload(photo_bytes("PNG"), "IMG_2.png")]
    _do(
        inspector,
        consignment,
        InspectionFlow.physical_check,
        {"result": "satisfactory", "samples-TOTAL_FORMS": "0", "samples-INITIAL_FORMS": "0", "photos": photos},
    )

    assert consignment.status == "awaiting_decision"
    first, second = CheckPhoto.objects.filter(consignment=consignment, step="physical")
    event = AuditEvent.objects.get(consignment=consignment, action="physical_check.recorded")
    assert [p["sha256"] for p in event.data["photos"]] == [first.sha256, second.sha256]

    trail = _client(supervisor).get(f"/supervision/consignments/{consignment.reference}/trail/").content.decode()
    assert f'<img src="/workflow/photos/{first.pk}/" width="20" height="40"' in trail
    assert 'alt="Physical check: photo 2"' in trail

    served = _client(supervisor).get(f"/workflow/photos/{first.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["Content-Disposition"].startswith("inline") and served["Cache-Control"] == "private, no-store"
    assert b"".join(served.streaming_content) == first.file.open("rb").read()
    assert _client(inspector).get(f"/workflow/photos/{second.pk}/").status_code == 200
    for outsider in (importer, other_importer, lab, None):
        assert _client(outsider).get(f"/workflow/photos/{first.pk}/").status_code == 404, outsider
    assert _client(supervisor).get("/workflow/photos/999999/").status_code == 404

    # nowhere in what the importer sees
    detail = _client(importer).get(f"/consignments/{consignment.reference}/").content.decode()
    api = api_client_for(importer).get(f"/api/v1/consignments/{consignment.reference}/").content.decode()
    for page in (detail, api):
        assert "/workflow/photos/" not in page and first.sha256 not in page


def test_a_refused_photo_over_http_shows_the_message_on_the_field_and_records_nothing(importer, inspector, settings):

    _rates("08045000", 0, 0)
    consignment = _submit(importer)
    client, task = _claimed(inspector, consignment, InspectionFlow.documentary_check)
    files_before = _stored_photos(settings)
    data = {**_documentary_ok(consignment), "photos": [_upload(photo_bytes()), _upload(b"%PDF-1.7 nope", "x.jpg")]}
    response = client.post(task.reverse("execute"), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="pif-photos__error" role="alert">x.jpg is not a JPEG, PNG or WebP photo' in html
    assert not DocumentaryCheck.objects.exists() and not CheckPhoto.objects.exists()
    assert _stored_photos(settings) == files_before


def test_the_task_summary_shows_the_photos_of_checks_already_recorded(importer, inspector):

    _rates("08045000", 100, 100)
    consignment = _submit(importer)
    data = {**_documentary_ok(consignment), "photos": [_upload(photo_bytes(size=(400, 300)))]}
    _do(inspector, consignment, InspectionFlow.documentary_check, data)
    photo = CheckPhoto.objects.get(consignment=consignment)

    client, task = _claimed(inspector, consignment, InspectionFlow.identity_check)
    html = client.get(task.reverse("execute")).content.decode()
    assert f'<a href="/workflow/photos/{photo.pk}/" target="_blank" rel="noopener">' in html
    assert 'width="160" height="120"' in html and 'alt="Documentary check: photo 1"' in html


def test_the_refusal_speaks_french(inspector, consignment):
    from django.utils import translation

    with translation.override("fr"), pytest.raises(UploadRefused) as refused:
        _documentary(inspector, consignment, [_upload(pdf_bytes(), "scan.pdf")])
    assert refused.value.errors["photos"] == [
        "scan.pdf n’est pas une photo JPEG, PNG ou WebP (vérifié sur le contenu)."
    ]


def test_the_photo_input_speaks_french(db):
    from django.template import Context, Template
    from django.utils import translation

    from workflows.forms import PhysicalCheckForm

    with translation.override("fr"):
        html = Template("{% load viewflow %}{% render form %}").render(Context({"form": PhysicalCheckForm()}))
    assert "Jusqu’à 10 photos (JPEG, PNG ou WebP). Leur localisation" in html
