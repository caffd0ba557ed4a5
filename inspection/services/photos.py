"""Photos taken as evidence during a check: JPEG, PNG or WebP, recognised by their content, decoded to the
end and re-encoded (`images.image_reencode`) upright and without any metadata, so that no GPS position,
camera serial or comment taken by the inspector's tablet is kept. The check services validate them before
writing anything and store them with the check, in its transaction."""

import contextlib
import logging
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from inspection.errors import UploadRefused
from inspection.models import CheckPhoto, CheckStep, Consignment
from inspection.services.documents import upload_limit_mb
from inspection.services.files import field_file_store
from inspection.services.images import IMAGE_MAX_PIXELS, CleanImage, ImageTooLarge, ImageUnreadable, image_reencode

logger = logging.getLogger(__name__)

PHOTOS_PER_CHECK_MAX = 10
# one name for the photos' users; the bound itself is the images' (inspection/services/images.py)
PHOTO_MAX_PIXELS = IMAGE_MAX_PIXELS
CleanPhoto = CleanImage


def _refused(message: str) -> UploadRefused:
    return UploadRefused({"photos": [message]})


def _display_name(file) -> str:
    name = (getattr(file, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:80] or _("photo")


def photo_clean(file) -> CleanPhoto:
    """One uploaded photo checked and re-encoded, or `UploadRefused` on `photos` saying why. The EXIF
    orientation is applied to the pixels before the metadata goes, so the photo still shows upright."""
    name, limit = _display_name(file), settings.PIF_UPLOAD_MAX_BYTES
    too_large = _("%(name)s is too large: at most %(size)s MB per photo.") % {
        "name": name,
        "size": upload_limit_mb(limit),
    }
    if (getattr(file, "size", None) or 0) > limit:
        raise _refused(too_large)
    file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise _refused(too_large)
    not_a_photo = _("%(name)s is not a JPEG, PNG or WebP photo (checked on the content).") % {"name": name}
    try:
        return image_reencode(data)
    except ImageTooLarge:
        raise _refused(
            _("%(name)s has too many pixels: at most %(max)s megapixels.")
            % {"name": name, "max": PHOTO_MAX_PIXELS // 1_000_000}
        ) from None
    except ImageUnreadable:
        logger.info("Photo refused: unreadable", exc_info=True)
        raise _refused(not_a_photo) from None


def photos_clean(photos) -> list[CleanPhoto]:
    """Every photo of a check checked and re-encoded before anything is written: at most
    `PHOTOS_PER_CHECK_MAX`, each within `PIF_UPLOAD_MAX_BYTES`."""
    photos = [p for p in photos or () if p]
    if len(photos) > PHOTOS_PER_CHECK_MAX:
        raise _refused(
            _("At most %(max)s photos per check: you chose %(count)s.")
            % {"max": PHOTOS_PER_CHECK_MAX, "count": len(photos)}
        )
    return [photo_clean(photo) for photo in photos]


def photos_audit(rows: list[CheckPhoto]) -> list[dict]:
    """What the check's audit event says of its photos."""
    return [
        {
            "id": r.pk,
            "sha256": r.sha256,
            "size": r.size,
            "content_type": r.content_type,
            "width": r.width,
            "height": r.height,
        }
        for r in rows
    ]


@contextlib.contextmanager
def check_photos_saved(*, actor, consignment: Consignment, step: CheckStep, photos: list[CleanPhoto]):
    """Write the photos' files (private storage, random names under the field's `upload_to`) and their rows
    (one INSERT), and yield the rows for the caller's audit event. If the transaction rolls back, whatever
    fails, the files written are removed again (`field_file_store`), their rows with it."""
    now, rows = timezone.now(), []
    for photo in photos:
        row = CheckPhoto(
            consignment=consignment,
            step=step,
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size=len(photo.data),
            sha256=photo.sha256,
            uploaded_by=actor,
            uploaded_at=now,
        )
        field_file_store(row.file, secrets.token_hex(16) + photo.extension, ContentFile(photo.data))
        rows.append(row)
    CheckPhoto.objects.bulk_create(rows)
    yield rows
