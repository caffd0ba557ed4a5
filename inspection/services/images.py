"""Uploaded images (an inspector's photos, an importer's scanned documents): decoded to the last pixel by
Pillow, then re-encoded from the pixels alone. A file that only starts like an image (its magic bytes, then
anything: a script, a polyglot) does not decode and is refused; one that does is stored as the re-encoding,
upright and without any metadata (no GPS position, camera serial or comment)."""

import dataclasses
import hashlib
import io

from PIL import Image, ImageOps, JpegImagePlugin

# Above a phone camera's full resolution (48-50 MP sensors save 12 MP by default), and low enough that an
# image's few decoded copies (RGB, upright, clean) fit in a web worker's memory.
IMAGE_MAX_PIXELS = 50_000_000
# Pillow's format name: content type, extension of the stored name, encoder options.
FORMATS = {
    "JPEG": ("image/jpeg", ".jpg", {"quality": 90}),
    "PNG": ("image/png", ".png", {}),
    "WEBP": ("image/webp", ".webp", {"quality": 90}),
}


class ImageUnreadable(Exception):
    """Not an image of the accepted formats that decodes completely."""


class ImageTooLarge(Exception):
    """More than `IMAGE_MAX_PIXELS` pixels (a decompression bomb or an absurd scan)."""


@dataclasses.dataclass(frozen=True)
class CleanImage:
    """An image that decoded completely, re-encoded: the bytes that will be stored."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def image_reencode(data: bytes, *, formats: tuple[str, ...] = tuple(FORMATS)) -> CleanImage:
    """`data` decoded and re-encoded in its own format (one of `formats`: Pillow tries no other decoder), or
    `ImageUnreadable` / `ImageTooLarge`. The EXIF orientation is applied to the pixels before the metadata
    goes, so the image still shows upright."""
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:  # reads the header only
            if probe.format not in FORMATS:
                raise ImageUnreadable(probe.format)
            if probe.width * probe.height > IMAGE_MAX_PIXELS:
                raise ImageTooLarge(probe.width * probe.height)
            probe.verify()
        # verify() leaves the image unusable: open it again to decode it, to the end (a truncated or
        # garbage-filled image raises here: Pillow's LOAD_TRUNCATED_IMAGES stays False)
        with Image.open(io.BytesIO(data), formats=formats) as image:
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
    except (ImageUnreadable, ImageTooLarge):
        raise
    except Exception as exc:  # any decoder failure on hostile or broken input: not an image we can vouch for
        raise ImageUnreadable(str(exc)) from exc
    return CleanImage(
        data=out.getvalue(), content_type=content_type, extension=extension, width=clean.width, height=clean.height
    )
