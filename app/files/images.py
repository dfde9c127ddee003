"""Images on a local path: their size from the header alone, their previews, people's pictures.

Pure functions: no database, no request, no storage; the upload service calls sniff, inspect and
strip_metadata at upload (each reads at most the header and rewrites metadata bytes, decoding no
pixel), the preview worker calls thumbnail, large and pdf_thumbnail in a thread.

Safety, as Zulip does it and a little more: only an allow-list of decoders ever sees the bytes
(Image.open(formats=[the one the bytes were sniffed as]); HEIF's decoder is registered with Pillow
but chosen only for HEIC/HEIF), and an image's pixel count is read from its header before anything
is decoded: above LIMIT_PIXELS (or a whole animation above ANIMATION_PIXELS) it is TooManyPixels,
so a 50,000 x 50,000 PNG "bomb" costs a header read. Previews are webp with no metadata at all
(GPS gone), EXIF orientation applied, at most PREVIEW_BYTES (quality lowered until they fit)."""
from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from PIL import Image

from app.files.metadata import strip_metadata
from app.files.sniff import OCTET, PILLOW_FORMATS, sniff

__all__ = ["OCTET", "PILLOW_FORMATS", "ImageInfo", "Preview", "TooManyPixels", "avatar", "inspect", "large",
           "needs_large", "open_image", "pdf_thumbnail", "previews", "sniff", "strip_metadata", "thumbnail"]

LIMIT_PIXELS = 100_000_000  # one frame (Zulip: 90 MP); a 12 MP phone photo is far below
ANIMATION_PIXELS = 1_000_000_000  # every frame of an animation together
Image.MAX_IMAGE_PIXELS = LIMIT_PIXELS  # and Pillow's own check, for anything else that opens one
pillow_heif.register_heif_opener(thumbnails=False)  # HEIC/HEIF: used only when sniffed as such

BOX = (840, 560)  # a thumbnail fits in this, as in Zulip
LARGE = 2560  # the longer side of a large version
AVATAR_SIZES = (256, 64)
PREVIEW_BYTES = 150 * 1024
QUALITIES = (80, 65, 50, 35)
FRAME_BUDGET = 20_000_000  # pixels of all an animated thumbnail's frames (memory: x4 bytes)
MAX_FRAMES = 100
# What browsers show inline (and app/storage/serve.py serves inline): the rest gets a large version.
INLINE = {"image/jpeg", "image/png", "image/gif", "image/webp"}
ANIMATABLE = {"image/gif", "image/webp", "image/png", "image/avif"}
SWAPS_SIDES = {5, 6, 7, 8}  # EXIF orientations turned by 90 degrees
T = Image.Transpose
UPRIGHT = {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE, 6: T.ROTATE_270,
           7: T.TRANSVERSE, 8: T.ROTATE_90}  # as ImageOps.exif_transpose turns them
PDF_POINTS = 14_400  # the largest page PDF allows (200 inches)
PDF_PAGES = 100_000
_pdfium_lock = threading.Lock()  # PDFium is not thread-safe


class TooManyPixels(Exception):
    """The image is larger than we decode: refused before any pixel is read."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int  # as displayed: EXIF orientation applied
    height: int
    animated: bool
    frames: int


@dataclass(frozen=True, slots=True)
class Preview:
    data: bytes  # webp
    width: int
    height: int


def open_image(path: Path, media_type: str) -> Image.Image:
    """The image with only its header read, by the one decoder for media_type; TooManyPixels above
    the limit (the file is closed again)."""
    name = PILLOW_FORMATS.get(media_type)
    if name is None:
        raise ValueError(f"not a decodable image type: {media_type}")
    try:
        image = Image.open(path, formats=[name])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels(f"more than {LIMIT_PIXELS:,} pixels") from None
    if image.width * image.height > LIMIT_PIXELS:
        image.close()
        raise TooManyPixels(f"{image.width:,} x {image.height:,} pixels: more than {LIMIT_PIXELS:,}")
    return image


def inspect(path: Path, media_type: str) -> ImageInfo | None:
    """Width and height as shown, and whether it moves, from the header; None for what is not an
    image we decode (or whose header is unreadable). TooManyPixels for a bomb."""
    if media_type not in PILLOW_FORMATS:
        return None
    try:
        with open_image(path, media_type) as image:
            frames = _frames(image, media_type)
            width, height = image.size
            if _orientation(image) in SWAPS_SIDES:
                width, height = height, width
            return ImageInfo(width, height, frames > 1, frames)
    except (OSError, SyntaxError, ValueError, EOFError):
        return None


def needs_large(media_type: str) -> bool:
    """A browser cannot show the original (HEIC, TIFF...): a large webp stands in for it."""
    return media_type in PILLOW_FORMATS and media_type not in INLINE


def thumbnail(path: Path, media_type: str) -> Preview:
    """A webp that fits BOX and PREVIEW_BYTES; an animation stays animated (its first frames)."""
    if media_type == "application/pdf":
        return pdf_thumbnail(path)
    with open_image(path, media_type) as image:
        if _frames(image, media_type) > 1:
            return _animated(image)
        return _fit([_decoded(image, BOX)], {})


def large(path: Path, media_type: str) -> Preview:
    """The displayable version of an image browsers cannot show: a webp at most LARGE pixels long."""
    with open_image(path, media_type) as image:
        frame = _decoded(image, (LARGE, LARGE))
        return Preview(_webp([frame], 85, {}), frame.width, frame.height)


def previews(path: Path, media_type: str) -> tuple[Preview, Preview | None]:
    """The thumbnail, and the large version when browsers cannot show the original: decoded once
    for both (a 12 MP HEIC takes a second to decode)."""
    if not needs_large(media_type):
        return thumbnail(path, media_type), None
    with open_image(path, media_type) as image:
        frame = _decoded(image, (LARGE, LARGE))
    big = Preview(_webp([frame], 85, {}), frame.width, frame.height)
    frame.thumbnail(BOX, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _fit([frame], {}), big


def pdf_thumbnail(path: Path) -> Preview:
    """The first page of a PDF, drawn by PDFium (forms and annotations not drawn)."""
    import pypdfium2

    with _pdfium_lock:
        document = pypdfium2.PdfDocument(str(path))
        try:
            if not 0 < len(document) <= PDF_PAGES:
                raise ValueError("no pages, or too many")
            page = document[0]
            width, height = page.get_size()
            if not (0 < width <= PDF_POINTS and 0 < height <= PDF_POINTS):
                raise ValueError(f"a page of {width} x {height} points")
            scale = min(BOX[0] / width, BOX[1] / height)
            bitmap = page.render(scale=scale, may_draw_forms=False, draw_annots=False)
            frame = bitmap.to_pil().convert("RGB")
        finally:
            document.close()
    return _fit([frame], {})


def avatar(path: Path, media_type: str, crop: tuple[int, int, int] | None = None) -> tuple[bytes, ...]:
    """A person's picture: the square crop (x, y, side in the image's pixels as shown; None: the
    centre) as webp at each of AVATAR_SIZES."""
    with open_image(path, media_type) as image:
        frame = _oriented(image)  # may still read from the file (an RGB image is not converted)
        if crop is None:
            side = min(frame.size)
            x, y = (frame.width - side) // 2, (frame.height - side) // 2
        else:
            x, y, side = crop
            side = max(1, min(side, frame.width, frame.height))
            x, y = max(0, min(x, frame.width - side)), max(0, min(y, frame.height - side))
        square = frame.crop((x, y, x + side, y + side))
    return tuple(_webp([square.resize((size, size), Image.Resampling.LANCZOS)], 85, {}) for size in AVATAR_SIZES)


def _frames(image: Image.Image, media_type: str) -> int:
    """How many frames move (HEIF's several images are a burst or a depth map, TIFF's pages are
    pages: not animations); TooManyPixels when all of them together are too many."""
    frames = getattr(image, "n_frames", 1) if media_type in ANIMATABLE else 1
    if frames * image.width * image.height > ANIMATION_PIXELS:
        raise TooManyPixels(f"{frames:,} frames of {image.width:,} x {image.height:,} pixels: too many")
    return frames


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except (ValueError, TypeError, SyntaxError, OSError):
        return 1


def _mode(frame: Image.Image) -> Image.Image:
    """RGB, or RGBA when there is transparency (palette, grey, CMYK and 16-bit images included)."""
    alpha = frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info
    if frame.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        frame = frame.point(lambda value: value / 256).convert("L")
    return frame if frame.mode == ("RGBA" if alpha else "RGB") else frame.convert("RGBA" if alpha else "RGB")


def _upright(frame: Image.Image, orientation: int) -> Image.Image:
    turn = UPRIGHT.get(orientation)
    return frame.transpose(turn) if turn is not None else frame


def _oriented(image: Image.Image) -> Image.Image:
    return _upright(_mode(image), _orientation(image))


def _decoded(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """Decoded at the smallest size that still fills box (JPEG's DCT scaling: a 12 MP photo is read
    at an eighth of the work), shrunk to fit before anything else (one full-size copy at most: a
    100 MP PNG is 300 MB once, not three times), then turned upright."""
    orientation = _orientation(image)
    width, height = image.size
    stored_box = box[::-1] if orientation in SWAPS_SIDES else box
    scale = min(1.0, stored_box[0] / width, stored_box[1] / height)
    image.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
    # Palettes and 16 bits are made RGB first: resizing them otherwise picks nearest pixels.
    frame = _mode(image) if image.mode in ("1", "P", "PA", "I", "I;16", "I;16B", "I;16L", "F") else image
    frame.thumbnail(stored_box, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return _upright(_mode(frame), orientation)


def _animated(image: Image.Image) -> Preview:
    width, height = image.size
    scale = min(1.0, BOX[0] / width, BOX[1] / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    count = max(2, min(image.n_frames, MAX_FRAMES, FRAME_BUDGET // (size[0] * size[1])))
    frames, durations = [], []
    for index in range(count):
        image.seek(index)
        durations.append(max(20, int(image.info.get("duration") or 100)))
        frames.append(image.convert("RGBA").resize(size, Image.Resampling.LANCZOS))
    return _fit(frames, {"save_all": True, "append_images": frames[1:], "duration": durations, "loop": 0})


def _webp(frames: list[Image.Image], quality: int, options: dict) -> bytes:
    out = io.BytesIO()
    first = frames[0]
    first.info = {}  # no EXIF, XMP or ICC is carried over: nothing of the original's metadata
    first.save(out, "WEBP", quality=quality, method=4, exif=b"", xmp=b"", **options)
    return out.getvalue()


def _fit(frames: list[Image.Image], options: dict) -> Preview:
    """The best quality that fits PREVIEW_BYTES; smaller and smaller if none does."""
    while True:
        for quality in QUALITIES:
            data = _webp(frames, quality, options)
            if len(data) <= PREVIEW_BYTES:
                return Preview(data, frames[0].width, frames[0].height)
        if frames[0].width <= 16 or frames[0].height <= 16:
            return Preview(data, frames[0].width, frames[0].height)
        size = (max(1, frames[0].width * 3 // 4), max(1, frames[0].height * 3 // 4))
        frames = [frame.resize(size, Image.Resampling.LANCZOS) for frame in frames]
        if "append_images" in options:
            options = {**options, "append_images": frames[1:]}
