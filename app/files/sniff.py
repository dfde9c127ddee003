"""What a file is, read from its bytes alone: never its name, never what the client said it was.

The types a browser would show inline (PNG, JPEG, GIF, WebP) are named only when the bytes start
with their signature AND Pillow reads a sane header from them, so a page, a script or a PDF dressed
as an image (an HTML file named cat.png, a "polyglot" with a PNG signature and a body that is not
one) is never served as an image. SVG and HTML are recognised (and served as downloads); text is
valid UTF-8 without control characters; the rest is what puremagic finds, else
application/octet-stream."""
from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

import puremagic

OCTET = "application/octet-stream"
HEAD = 8192
# Signature -> media type, for the formats we decode (app/files/images.py allow-lists the same).
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
# ISO base media files (HEIC, AVIF): the major and compatible brands of the first box, "ftyp".
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
HEIF_BRANDS = {b"mif1", b"msf1"}
AVIF_BRANDS = {b"avif", b"avis"}
# Pillow's name for each (Image.open(formats=...): no other decoder ever looks at these bytes).
PILLOW_FORMATS = {
    "image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP",
    "image/heic": "HEIF", "image/heif": "HEIF", "image/avif": "AVIF", "image/bmp": "BMP",
    "image/tiff": "TIFF",
}
# WHATWG MIME sniffing's "HTML" patterns, after leading white space: what a browser would render.
HTML = re.compile(rb"<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)"
                  rb"[ \t\n\f\r>]", re.IGNORECASE)
SVG = re.compile(rb"<svg[\s>/]", re.IGNORECASE)
XML_START = re.compile(rb"<(\?xml|!--|!doctype svg|svg)", re.IGNORECASE)
OFFICE = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
# puremagic answers for these are not trusted: only the checks above may name them.
DECIDED_HERE = set(PILLOW_FORMATS) | {"image/svg+xml", "text/html", "application/pdf", "text/plain"}


def sniff(path: Path) -> str:
    """The media type of the file at path, from its bytes."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD)
    image = _image_type(head)
    if image is not None:
        return image if _pillow_reads(path, image) else OCTET
    if b"%PDF-" in head[:1024]:  # where PDF readers look for it
        return "application/pdf"
    markup = _markup_type(head)
    if markup is not None:
        return markup
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    if _is_text(path, head):
        return "text/plain"
    return _puremagic(path)


def _image_type(head: bytes) -> str | None:
    for signature, media_type in SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[at:at + 4] for at in range(16, min(size, 256), 4)}
        if brands & HEIC_BRANDS and head[8:12] not in AVIF_BRANDS:
            return "image/heic"
        if brands & AVIF_BRANDS:
            return "image/avif"
        if brands & HEIF_BRANDS:
            return "image/heif"
    return None


def _pillow_reads(path: Path, media_type: str) -> bool:
    """Pillow's decoder for this type reads a header with a size: the signature was not a costume.
    Only the header is read here (the pixels are not decoded); a huge size is still a readable
    header (images.inspect refuses it by its pixel count)."""
    from app.files.images import TooManyPixels, open_image  # registers the HEIF decoder

    try:
        with open_image(path, media_type) as image:
            return image.size[0] > 0 and image.size[1] > 0
    except TooManyPixels:
        return True  # an image, and one refused by its size: the upload says so
    except Exception:  # noqa: BLE001 (whatever the decoder objects to: not that image)
        return False


def _markup_type(head: bytes) -> str | None:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\n\f\r")
    if XML_START.match(text) and SVG.search(head):
        return "image/svg+xml"
    if HTML.match(text):
        return "text/html"
    if text[:5].lower() == b"<?xml":
        return "application/xml"
    return None


def _zip_type(path: Path) -> str:
    """A ZIP, or the document format built on one: by its own "mimetype" entry (OpenDocument,
    EPUB) or the folders Office puts in it. Only the archive's directory is read."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if re.fullmatch(r"application/[\w.+-]+", declared):
                    return declared
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return "application/zip"
    if "[Content_Types].xml" in names:
        for folder, media_type in OFFICE.items():
            if any(name.startswith(folder) for name in names):
                return media_type
    return "application/zip"


def _is_text(path: Path, head: bytes) -> bool:
    """UTF-8 throughout (read in blocks; a character cut at a block's end is carried over), with no
    control characters but tab, new line, form feed, carriage return and escape."""
    if not head:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 16):
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return False
            if CONTROL.search(block):
                return False
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _puremagic(path: Path) -> str:
    try:
        with open(path, "rb") as handle:  # a stream, not a file name: puremagic would weigh the name
            matches = puremagic.magic_stream(handle)
    except (puremagic.PureError, ValueError, OSError):
        return OCTET
    for match in matches:
        media_type = (match.mime_type or "").lower()
        if media_type and media_type not in DECIDED_HERE and "/" in media_type:
            return media_type
    return OCTET
