"""What a file response says about the file: shown in the page (inline) only for the raster image
types every browser decodes safely, downloaded (attachment) for everything else, under the name
its person gave it, written so no name can break out of the header (RFC 6266 and RFC 5987: an
ASCII fallback, and the exact name in UTF-8).

Pure functions, no request: the S3 storage puts the same values in a signed URL."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# type/subtype, tokens only (RFC 9110): nothing that could carry a parameter or a second header.
MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
FALLBACK = "file"
LONGEST = 200  # characters of a name kept in the header
ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits: left as they are


def media_type(content_type: str) -> str:
    """The type as sent: a plain type/subtype, else application/octet-stream."""
    value = (content_type or "").strip().lower()
    return value if MEDIA_TYPE.fullmatch(value) else "application/octet-stream"


def shown_inline(content_type: str, inline: bool) -> bool:
    return inline and media_type(content_type) in INLINE_TYPES


def clean_name(name: str) -> str:
    """The name without what no file name should hold: control characters (a newline would end
    the header), path separators (a name is a name, never a place), leading dots and spaces."""
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = name.lstrip("./\\ ").replace("/", "_").replace("\\", "_").strip()[:LONGEST]
    return name or FALLBACK


def ascii_name(name: str) -> str:
    """For the quoted filename= of old clients: letters without their accents, no quote or backslash."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = "".join(char if char.isprintable() and char not in '"\\%' else "_" for char in plain).strip()
    stem, dot, extension = plain.rpartition(".")
    if not (stem if dot else extension).strip("_. "):
        return FALLBACK + (dot + extension if dot and extension.strip("_ ") else "")
    return plain


def disposition(name: str, *, inline: bool) -> str:
    """`attachment; filename="…"; filename*=UTF-8''…` (or inline), for any name at all."""
    name = clean_name(name)
    fallback = ascii_name(name)
    if not fallback.isascii() or not fallback.isprintable():
        fallback = FALLBACK
    return (f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; "
            f"filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}")
