"""Real files for the tests, made on the spot: photos with GPS in their Exif, a PNG "bomb", an
animated GIF, a HEIC, a PDF, an SVG with a script, polyglots. Each function writes to the path
given and returns it."""
from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pillow_heif
from PIL import Image

GPS_IFD, ORIENTATION, MAKE = 0x8825, 0x0112, 0x010F
# Somewhere precise (the Eiffel tower), in Exif's degrees/minutes/seconds.
GPS = {1: "N", 2: (48.0, 51.0, 29.6), 3: "E", 4: (2.0, 17.0, 40.2)}


def exif_bytes(orientation: int = 1, gps: bool = True) -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "Spyphone"
    exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = GPS
    return exif.tobytes()


def gradient(size: tuple[int, int]) -> Image.Image:
    """A smooth picture (like a real photo's sky, it compresses well) that shows which way is up:
    red grows to the right, green downwards."""
    width, height = size
    red = Image.linear_gradient("L").rotate(90).resize(size)
    green = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (red.transpose(Image.Transpose.FLIP_LEFT_RIGHT), green, Image.new("L", size, 90)))


def jpeg(path: Path, size: tuple[int, int] = (640, 480), *, orientation: int = 1, gps: bool = True,
         comment: bytes = b"") -> Path:
    """A JPEG whose Exif has GPS, a camera make and an orientation (6: shown turned 90 degrees)."""
    options = {"comment": comment} if comment else {}
    gradient(size).save(path, "JPEG", quality=90, exif=exif_bytes(orientation, gps), **options)
    return path


def noisy_photo(path: Path, size: tuple[int, int] = (4000, 3000)) -> Path:
    """A 12-megapixel JPEG of noise (the hardest thing to make small), with GPS."""
    noise = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    noise.save(path, "JPEG", quality=85, exif=exif_bytes())
    return path


def png(path: Path, size: tuple[int, int] = (320, 200), *, mode: str = "RGB") -> Path:
    """A PNG with text chunks (an author, a comment) and an eXIf chunk with GPS."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Alice Secret")
    info.add_itxt("Comment", "taken at home")
    gradient(size).convert(mode).save(path, "PNG", pnginfo=info, exif=exif_bytes())
    return path


def webp(path: Path, size: tuple[int, int] = (320, 200), *, orientation: int = 1) -> Path:
    """A WebP with Exif (GPS) and XMP."""
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/>GPSLatitude 48,51N</x:xmpmeta>'
    gradient(size).save(path, "WEBP", quality=80, exif=exif_bytes(orientation), xmp=xmp)
    return path


def png_bomb(path: Path, width: int = 50_000, height: int = 50_000) -> Path:
    """A PNG header claiming width x height pixels (2.5 gigapixels: 7.5 GB decoded), with one small
    IDAT of compressed zeros: a few kilobytes, made at once."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    zeros = zlib.compress(bytes(1 << 20), 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zeros) + chunk(b"IEND", b""))
    return path


def animated_gif(path: Path, frames: int = 8, size: tuple[int, int] = (120, 80)) -> Path:
    """A GIF of frames (a bar moving right), looping, with a comment."""
    images = []
    for index in range(frames):
        frame = Image.new("RGB", size, (255, 255, 255))
        frame.paste((200, 30, 30), (index * size[0] // frames, 0, (index + 1) * size[0] // frames, size[1]))
        images.append(frame)
    images[0].save(path, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0,
                   comment=b"made at 48.85N 2.29E")
    return path


def heic(path: Path, size: tuple[int, int] = (640, 480), *, gps: bool = True) -> Path:
    """A HEIC, as phones write them, with Exif (GPS) and XMP."""
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/>GPSLatitude 48,51N</x:xmpmeta>'
    heif = pillow_heif.from_pillow(gradient(size))
    heif.save(path, quality=70, exif=exif_bytes(1, gps), xmp=xmp, enc_params={"preset": "ultrafast"})
    return path


def avif(path: Path, size: tuple[int, int] = (320, 200)) -> Path:
    """An AVIF (Pillow's own encoder) with Exif (GPS)."""
    gradient(size).save(path, "AVIF", quality=60, speed=10, exif=exif_bytes())
    return path


def pdf(path: Path, text: str = "Quarterly numbers", *, width: int = 612, height: int = 792) -> Path:
    """A one-page PDF (written by hand: objects, an xref table with true offsets) with a filled box
    and a line of text, so its first page is not blank."""
    stream = (f"0.2 0.4 0.8 rg 72 {height - 300} 300 200 re f BT /F1 24 Tf 72 {height - 72} Td ({text}) Tj ET"
              ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents 4 0 R "
        f"/Resources << /Font << /F1 5 0 R >> >> >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    path.write_bytes(out.getvalue())
    return path


SVG_WITH_SCRIPT = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
                   b'<script>fetch("/api/v1/me").then(r => r.text()).then(alert)</script>'
                   b'<rect width="100" height="100" fill="red"/></svg>\n')
HTML_PAGE = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"


def svg_with_script(path: Path) -> Path:
    path.write_bytes(SVG_WITH_SCRIPT)
    return path


def html_page(path: Path) -> Path:
    path.write_bytes(HTML_PAGE)
    return path


def png_signature_then_html(path: Path) -> Path:
    """A polyglot's costume: PNG's signature, then a page (no PNG header at all)."""
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + HTML_PAGE)
    return path


def jpeg_then_html(path: Path) -> Path:
    """A real JPEG with a page in a comment and another after its end (where phones hide things)."""
    jpeg(path, comment=HTML_PAGE)
    with open(path, "ab") as handle:
        handle.write(HTML_PAGE)
    return path


def random_file(path: Path, size: int, *, chunk: int = 1 << 20) -> Path:
    """size random bytes (written a megabyte at a time)."""
    with open(path, "wb") as handle:
        left = size
        while left:
            handle.write(os.urandom(min(chunk, left)))
            left -= min(chunk, left)
    return path


def halves(path: Path, size: tuple[int, int] = (480, 240), left: tuple[int, int, int] = (220, 30, 30),
           right: tuple[int, int, int] = (30, 30, 220), *, image_format: str = "PNG") -> Path:
    """Two colours side by side: a square crop shows by its colour which half it kept."""
    image = Image.new("RGB", size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    image.save(path, image_format)
    return path
