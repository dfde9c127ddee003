"""Taking what a camera wrote about a picture out of it before it is stored: where it was taken
(GPS), when, on which device, its owner's name in comments. Losslessly: the image data is copied
byte for byte, only metadata blocks are dropped, so nothing is decoded and nothing looks worse.

- JPEG: APP1 (Exif, XMP), APP13 (IPTC), other APPn but JFIF, ICC and Adobe, comments, and whatever
  follows the end of the image (phones append second images there); a minimal Exif with only the
  Orientation is written back, so the picture still stands the right way up.
- PNG: eXIf (replaced by the minimal one), tEXt, iTXt, zTXt, tIME, and anything after IEND.
- WebP: EXIF (replaced by the minimal one) and XMP chunks, the VP8X flags made to match.
- GIF: comments and XMP application blocks.
- HEIC/HEIF/AVIF: the Exif and XMP items are overwritten in place with an empty Exif and spaces
  (libheif turns the picture by the file's own irot/imir boxes, not by Exif).
Other types are left as they are. A file whose structure does not parse raises ValueError: it is
not the image it looked like, and the caller keeps it as a download. The bytes change, so the
caller hashes the file after this."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

from app.files import isobmff

ORIENTATION = 0x0112
PNG_DROPPED = {b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"}
WEBP_EXIF, WEBP_XMP = 0x08, 0x04


def strip_metadata(path: Path, media_type: str) -> None:
    """Rewrite the file at path without its metadata (see the module's list)."""
    if media_type in isobmff.TYPES:
        isobmff.blank_metadata(path, minimal_exif(1))
        return
    strip = STRIPPERS.get(media_type)
    if strip is None:
        return
    data = path.read_bytes()
    stripped = strip(data)
    if stripped != data:
        path.write_bytes(stripped)


def minimal_exif(orientation: int) -> bytes:
    """A TIFF structure (big-endian) holding one tag, the Orientation."""
    entries = [(ORIENTATION, 3, 1, orientation << 16)] if orientation != 1 else []
    body = b"".join(struct.pack(">HHII", *entry) for entry in entries)
    return b"MM\x00*" + struct.pack(">IH", 8, len(entries)) + body + b"\x00\x00\x00\x00"


def orientation_of(tiff: bytes) -> int:
    """The Orientation tag of an Exif TIFF structure (with or without its "Exif\\0\\0" prefix); 1 if
    none or unreadable."""
    tiff = tiff.removeprefix(b"Exif\x00\x00")
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    try:
        if order is None:
            return 1
        (offset,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, offset)
        for index in range(min(count, 512)):
            tag, kind, _, value = struct.unpack_from(order + "HHI4s", tiff, offset + 2 + 12 * index)
            if tag == ORIENTATION and kind == 3:
                orientation = struct.unpack_from(order + "H", value)[0]
                return orientation if 1 <= orientation <= 8 else 1
    except struct.error:
        pass
    return 1


def _jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    kept, orientation, position, end, scanned = [], 1, 2, len(data), False
    while position + 1 < end:
        if data[position] != 0xFF:  # stray bytes before a marker: skipped, as libjpeg does
            position = data.find(b"\xff", position)
            if position < 0:
                break
            continue
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:
            break  # the end of the image: what trails it is dropped
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            kept.append(data[position:position + 2])
            position += 2
            continue
        length = int.from_bytes(data[position + 2:position + 4], "big")
        segment = data[position:position + 2 + length]
        body = segment[4:]
        position += 2 + length
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            orientation = orientation_of(body)
        elif not _jpeg_keeps(marker, body) or position > end:
            pass  # metadata, or a cut-off segment
        else:
            kept.append(segment)
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a restart
            scanned = True
            scan_end = _scan_end(data, position)
            kept.append(data[position:scan_end])
            position = scan_end
    if not scanned:
        raise ValueError("a JPEG without image data")
    at = 1 if kept and kept[0][:2] == b"\xff\xe0" else 0  # after JFIF's APP0 when there is one
    if orientation != 1:
        exif = b"Exif\x00\x00" + minimal_exif(orientation)
        kept.insert(at, b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif)
    return b"\xff\xd8" + b"".join(kept) + b"\xff\xd9"


def _jpeg_keeps(marker: int, body: bytes) -> bool:
    if marker == 0xE0:
        return body.startswith(b"JFIF\x00")
    if marker == 0xE2:
        return body.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return True  # Adobe: how the colours are coded
    return not (0xE0 <= marker <= 0xEF or marker == 0xFE)


def _scan_end(data: bytes, position: int) -> int:
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        following = data[position + 1]
        if following == 0x00 or following == 0xFF or 0xD0 <= following <= 0xD7:
            position += 1
            continue
        return position


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _png(data: bytes) -> bytes:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    kept, orientation, position = [data[:8]], 1, 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        chunk = data[position:position + 12 + length]
        position += 12 + length
        if kind == b"eXIf":
            orientation = orientation_of(chunk[8:-4])
            continue
        if kind in PNG_DROPPED or position > len(data):
            continue
        if kind == b"IDAT" and orientation != 1:
            kept.append(_png_chunk(b"eXIf", minimal_exif(orientation)))
            orientation = 1
        kept.append(chunk)
        if kind == b"IEND":
            break
    return b"".join(kept)


def _webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    kept, orientation, position = [], 1, 12
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while position + 8 <= end:
        kind = data[position:position + 4]
        length = int.from_bytes(data[position + 4:position + 8], "little")
        chunk = data[position:position + 8 + length + (length & 1)]
        position += 8 + length + (length & 1)
        if kind == b"EXIF":
            orientation = orientation_of(chunk[8:8 + length])
        elif kind != b"XMP " and position <= end + 1:
            kept.append(bytearray(chunk))
    if kept and kept[0][:4] == b"VP8X":
        kept[0][8] &= 0xFF ^ (WEBP_EXIF | WEBP_XMP)
        if orientation != 1:
            exif = minimal_exif(orientation)
            kept.append(b"EXIF" + len(exif).to_bytes(4, "little") + exif)
            kept[0][8] |= WEBP_EXIF
    body = b"WEBP" + b"".join(kept)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def _gif(data: bytes) -> bytes:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("not a GIF")
    position = 13 + _colour_table(data[10]) if len(data) > 10 else len(data)
    kept = [data[:position]]
    try:
        while position < len(data) and data[position] != 0x3B:
            start, introducer = position, data[position]
            if introducer == 0x2C:  # an image: descriptor, local colours, LZW code size, data
                position = _sub_blocks(data, position + 11 + _colour_table(data[position + 9]))
                kept.append(data[start:position])
            elif introducer == 0x21:
                label, first = data[position + 1], data[position + 3:position + 3 + data[position + 2]]
                position = _sub_blocks(data, position + 2)
                if not (label == 0xFE or (label == 0xFF and first.startswith(b"XMP Data"))):
                    kept.append(data[start:position])
            else:
                raise ValueError(f"no GIF block at {position}")
    except IndexError:
        pass  # cut off: keep what was whole
    return b"".join(kept) + b";"


def _colour_table(flags: int) -> int:
    return 3 * (2 << (flags & 7)) if flags & 0x80 else 0


def _sub_blocks(data: bytes, position: int) -> int:
    while data[position]:
        position += data[position] + 1
    return position + 1


STRIPPERS = {"image/jpeg": _jpeg, "image/png": _png, "image/webp": _webp, "image/gif": _gif}
