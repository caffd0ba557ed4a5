"""Photos taken as evidence during a check: JPEG, PNG or WebP, recognised by their content, opened and
verified by Pillow, then re-encoded upright and without any metadata, so that no GPS position, camera serial
or comment taken by the inspector's tablet is kept. The check services validate them before writing anything
and store them with the check, in its transaction."""

import contextlib
import dataclasses
import hashlib
import io
import logging
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, JpegImagePlugin

from inspection.errors import UploadRefused
from inspection.models import CheckPhoto, CheckStep, Consignment
from inspection.services.documents import upload_limit_mb
from inspection.services.files import field_file_store

logger = logging.getLogger(__name__)

PHOTOS_PER_CHECK_MAX = 10
# Above a phone camera's full resolution (48-50 MP sensors save 12 MP by default), and low enough that a
# photo's few decoded copies (RGB, upright, clean) fit in a web worker's memory.
PHOTO_MAX_PIXELS = 50_000_000
# Pillow's format name: content type, extension of the stored name, encoder options.
FORMATS = {
    "JPEG": ("image/jpeg", ".jpg", {"quality": 90}),
    "PNG": ("image/png", ".png", {}),
    "WEBP": ("image/webp", ".webp", {"quality": 90}),
}
OPENED_FORMATS = tuple(FORMATS)  # Pillow tries no other decoder on what an inspector uploads


@dataclasses.dataclass(frozen=True)
class CleanPhoto:
    """A photo that passed the checks, re-encoded: the bytes that will be stored."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


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
        with Image.open(io.BytesIO(data), formats=OPENED_FORMATS) as probe:  # reads the header only
            if probe.format not in FORMATS:
                raise _refused(not_a_photo)
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise _refused(
                    _("%(name)s has too many pixels: at most %(max)s megapixels.")
                    % {"name": name, "max": PHOTO_MAX_PIXELS // 1_000_000}
                )
            probe.verify()
        # verify() leaves the image unusable: open it again to decode it
        with Image.open(io.BytesIO(data), formats=OPENED_FORMATS) as image:
            image.load()
            content_type, extension, options = FORMATS[image.format]
            upright = ImageOps.exif_transpose(image)
            has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            mode = "RGBA" if has_alpha and image.format != "JPEG" else "RGB"
            # A new image holds the pixels only: no info, EXIF, XMP, ICC profile or text chunks to carry over.
            clean = Image.new(mode, upright.size)
            clean.paste(upright if upright.mode == mode else upright.convert(mode))
            out = io.BytesIO()
            if image.format == "JPEG" and getattr(image, "quantization", None):
                # the original's quantisation tables: the same quality, no bigger file (tables are not metadata)
                options = {"qtables": image.quantization}
                subsampling = JpegImagePlugin.get_sampling(image)
                if subsampling >= 0:
                    options["subsampling"] = subsampling
            clean.save(out, format=image.format, **options)
    except UploadRefused:
        raise
    except Exception:  # any decoder failure on hostile or broken input: not a photo we can vouch for
        logger.info("Photo refused: unreadable", exc_info=True)
        raise _refused(not_a_photo) from None
    return CleanPhoto(
        data=out.getvalue(), content_type=content_type, extension=extension, width=clean.width, height=clean.height
    )


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
