"""HEIC, HEIF and AVIF files (ISO base media: boxes in boxes): finding their Exif and XMP items and
overwriting them in place, so a phone photo's GPS is gone without re-encoding the picture (which
would cost seconds and quality). The file keeps its length and every offset in it stays true.

The items are listed in the top-level `meta` box: `iinf` names each item's type ("Exif", or "mime"
with the XMP content type), `iloc` says where its bytes are (in the file, or in meta's `idat`)."""
from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

TYPES = {"image/heic", "image/heif", "image/avif"}
META_LIMIT = 64 << 20  # a meta box is a few kilobytes; refuse to read a giant one
XMP_TYPE = b"application/rdf+xml"


def blank_metadata(path: Path, empty_exif: bytes) -> None:
    """Overwrite the Exif item with empty_exif (a TIFF structure, zero-padded to the item's length)
    and XMP items with spaces. ValueError when the file is not laid out as ISO base media."""
    with open(path, "r+b") as handle:
        meta_at, meta = _top_level_meta(handle)
        children = {kind: (start, end) for kind, start, end in _boxes(meta, 4, len(meta))}
        if b"iinf" not in children or b"iloc" not in children:
            return  # no items, nothing to blank
        kinds = _item_kinds(meta, *children[b"iinf"])
        idat = meta_at + children[b"idat"][0] if b"idat" in children else None
        for item, extents in _item_extents(meta, *children[b"iloc"], idat).items():
            kind = kinds.get(item)
            if kind is None:
                continue
            total = sum(length for _, length in extents)
            payload = b"\x00\x00\x00\x00" + empty_exif if kind == "exif" else b""
            filler = payload.ljust(total, b"\x00" if kind == "exif" else b" ")
            if len(filler) > total:
                filler = bytes(total)
            for offset, length in extents:
                handle.seek(offset)
                handle.write(filler[:length])
                filler = filler[length:]


def _top_level_meta(handle) -> tuple[int, bytes]:
    """The file offset of the meta box's content, and that content."""
    handle.seek(0, 2)
    size_of_file = handle.tell()
    position = 0
    while position + 8 <= size_of_file:
        handle.seek(position)
        size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", handle.read(8))[0], 16
        elif size == 0:
            size = size_of_file - position
        if size < header:
            raise ValueError(f"a box of {size} bytes at {position}")
        if kind == b"meta":
            if size > META_LIMIT:
                raise ValueError("a meta box too large to read")
            return position + header, handle.read(size - header)
        position += size
    raise ValueError("no meta box")


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, content start, end) of each box in data[start:end]."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, position + 8)[0], 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise ValueError(f"a box of {size} bytes at {position}")
        yield kind, position + header, position + size
        position += size


def _item_kinds(meta: bytes, start: int, end: int) -> dict[int, str]:
    """Item id -> "exif" or "xmp", from iinf's item info entries (version 2 and 3, the ones with types)."""
    version = meta[start]
    first = start + (6 if version == 0 else 8)
    kinds = {}
    for kind, body, box_end in _boxes(meta, first, end):
        if kind != b"infe" or meta[body] < 2:
            continue
        wide = meta[body] >= 3
        item = int.from_bytes(meta[body + 4:body + (8 if wide else 6)], "big")
        at = body + (8 if wide else 6) + 2
        item_type = meta[at:at + 4]
        if item_type == b"Exif":
            kinds[item] = "exif"
        elif item_type == b"mime":
            name_end = meta.index(b"\x00", at + 4, box_end)
            content_type = meta[name_end + 1:box_end].split(b"\x00", 1)[0]
            if content_type == XMP_TYPE:
                kinds[item] = "xmp"
    return kinds


def _item_extents(meta: bytes, start: int, end: int, idat: int | None) -> dict[int, list[tuple[int, int]]]:
    """Item id -> [(file offset, length)], from iloc (construction methods 0, the file, and 1, idat)."""
    version = meta[start]
    position = start + 4

    def read(size: int) -> int:
        nonlocal position
        if position + size > end:
            raise ValueError("iloc is cut off")
        value = int.from_bytes(meta[position:position + size], "big")
        position += size
        return value

    sizes = read(2)
    offset_size, length_size, base_size = sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15
    index_size = sizes & 15 if version in (1, 2) else 0
    found = {}
    for _ in range(read(2 if version < 2 else 4)):
        item = read(2 if version < 2 else 4)
        method = read(2) & 15 if version in (1, 2) else 0
        read(2)  # data reference index
        base = read(base_size)
        extents = []
        for _ in range(read(2)):
            read(index_size)
            offset, length = read(offset_size), read(length_size)
            extents.append((base + offset, length))
        if method == 0:
            found[item] = extents
        elif method == 1 and idat is not None:
            found[item] = [(idat + offset, length) for offset, length in extents]
    return found
