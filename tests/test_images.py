"""app/files/images.py on real files: the type from the bytes, the size from the header, the bomb
refused before a pixel is decoded, metadata out of originals and thumbnails alike, previews small
and upright, animations still moving, HEIC and PDF shown."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFile, ImageOps

from app.config import ROOT
from app.files import images
from tests.helpers import files

GPS_IFD = 0x8825


def pixels(path_or_bytes) -> Image.Image:
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(source) as image:
        return image.convert("RGB")


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


def close_colour(a: tuple, b: tuple, tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a[:3], b[:3], strict=True))


def no_metadata(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP"
        assert not image.getexif().get_ifd(GPS_IFD)
        assert not image.info.get("exif") and not image.info.get("xmp")
    for secret in (b"Spyphone", b"GPS", b"Alice", b"Exif", b"<x:xmpmeta"):
        assert secret not in data


# What the bytes are, whatever the name says.
@pytest.mark.parametrize(("make", "name", "expected"), [
    (files.jpeg, "photo.jpg", "image/jpeg"),
    (files.png, "picture.png", "image/png"),
    (files.webp, "sticker.webp", "image/webp"),
    (files.animated_gif, "party.gif", "image/gif"),
    (files.heic, "IMG_0001.HEIC", "image/heic"),
    (files.avif, "photo.jpg", "image/avif"),
    (files.png_bomb, "bomb.png", "image/png"),  # an image, refused by inspect for its size
    (files.svg_with_script, "cat.png", "image/svg+xml"),
    (files.html_page, "cat.jpg", "text/html"),
    (files.pdf, "cat.png", "application/pdf"),
    (files.png_signature_then_html, "cat.png", "application/octet-stream"),
    (files.jpeg_then_html, "page.html", "image/jpeg"),  # a real JPEG: strip_metadata drops the rest
    (lambda path: files.random_file(path, 100_000), "notes.txt", "application/octet-stream"),
    (lambda path: path.write_text("plain words\nand a tab\there, ünïcode too\n") and path, "a.html", "text/plain"),
])
def test_sniff_reads_the_type_from_the_bytes_never_the_name(tmp_path, make, name, expected):
    assert images.sniff(make(tmp_path / name)) == expected


def test_sniff_finds_other_formats_by_their_magic_and_the_unknown_is_octet_stream(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "archive.png", "w") as archive:
        archive.writestr("a.txt", "hello")
    assert images.sniff(tmp_path / "archive.png") == "application/zip"
    with zipfile.ZipFile(tmp_path / "report.zip", "w") as document:
        document.writestr("[Content_Types].xml", "<Types/>")
        document.writestr("word/document.xml", "<w:document/>")
    assert images.sniff(tmp_path / "report.zip") == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    (tmp_path / "song.bin").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8)
    assert images.sniff(tmp_path / "song.bin") == "audio/mpeg"
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert images.sniff(tmp_path / "empty.jpg") == "application/octet-stream"
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 \x00\x01".encode("latin-1"))
    assert images.sniff(tmp_path / "latin1.txt") == "application/octet-stream"


def test_inspect_reports_the_size_as_shown_and_whether_it_moves(tmp_path):
    assert images.inspect(files.jpeg(tmp_path / "a.jpg", (640, 480)), "image/jpeg") == images.ImageInfo(
        640, 480, False, 1)
    # Orientation 6 (a phone held upright): stored 640 x 480, shown 480 x 640.
    assert images.inspect(files.jpeg(tmp_path / "b.jpg", (640, 480), orientation=6), "image/jpeg") == (
        images.ImageInfo(480, 640, False, 1))
    assert images.inspect(files.animated_gif(tmp_path / "c.gif", frames=8), "image/gif") == images.ImageInfo(
        120, 80, True, 8)
    assert images.inspect(files.heic(tmp_path / "d.heic", (320, 240)), "image/heic") == images.ImageInfo(
        320, 240, False, 1)
    assert images.inspect(files.pdf(tmp_path / "e.pdf"), "application/pdf") is None
    assert images.inspect(files.svg_with_script(tmp_path / "f.svg"), "image/svg+xml") is None
    # Only the decoder for the sniffed type reads the bytes: a PNG is no JPEG.
    assert images.inspect(files.png(tmp_path / "g.png"), "image/jpeg") is None


def test_the_bomb_is_refused_from_its_header_without_decoding_a_pixel(tmp_path, monkeypatch):
    bomb = files.png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 10_000

    def decoding(*args, **kwargs):
        raise AssertionError("a pixel was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoding)
    for call in (images.inspect, images.thumbnail, images.large):
        with pytest.raises(images.TooManyPixels):
            call(bomb, "image/png")
    with pytest.raises(images.TooManyPixels):
        images.avatar(bomb, "image/png")


def test_the_bomb_costs_a_fresh_process_no_memory_to_speak_of(tmp_path):
    """Measured in a process of its own (the peak resident size of this one is whatever earlier
    tests reached): inspecting and thumbnailing the bomb grows it by far less than 200 MB."""
    bomb = files.png_bomb(tmp_path / "bomb.png")
    script = textwrap.dedent(f"""
        import json, resource
        from pathlib import Path
        from app.files import images
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        refused = 0
        for call in (images.inspect, images.thumbnail, images.large):
            try:
                call(Path({str(bomb)!r}), "image/png")
            except images.TooManyPixels:
                refused += 1
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(json.dumps({{"refused": refused, "grew_kib": grew}}))
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["refused"] == 3
    assert result["grew_kib"] < 200 * 1024


def test_too_many_frames_of_an_animation_are_refused(tmp_path, monkeypatch):
    gif = files.animated_gif(tmp_path / "long.gif", frames=10)
    monkeypatch.setattr(images, "ANIMATION_PIXELS", 120 * 80 * 9)
    for call in (images.inspect, images.thumbnail):
        with pytest.raises(images.TooManyPixels):
            call(gif, "image/gif")


def test_strip_metadata_drops_gps_from_a_jpeg_keeps_its_orientation_and_every_pixel(tmp_path):
    photo = files.jpeg(tmp_path / "a.jpg", orientation=6, comment=b"at home")
    original = pixels(photo)
    images.strip_metadata(photo, "image/jpeg")
    data = photo.read_bytes()
    with Image.open(photo) as image:
        exif = image.getexif()
        assert dict(exif) == {0x0112: 6}
        assert not exif.get_ifd(GPS_IFD)
        assert "comment" not in image.info
    assert b"Spyphone" not in data and b"at home" not in data
    assert same_pixels(pixels(photo), original)


def test_strip_metadata_drops_what_hides_after_a_jpeg_and_a_photo_without_exif_stays_without(tmp_path):
    polyglot = files.jpeg_then_html(tmp_path / "a.jpg")
    images.strip_metadata(polyglot, "image/jpeg")
    assert b"<script>" not in polyglot.read_bytes()
    plain = files.jpeg(tmp_path / "b.jpg", gps=False)
    images.strip_metadata(plain, "image/jpeg")
    with Image.open(plain) as image:
        assert dict(image.getexif()) == {}


@pytest.mark.parametrize(("make", "media_type"), [
    (files.png, "image/png"), (lambda path: files.webp(path, orientation=3), "image/webp"),
    (files.animated_gif, "image/gif"), (files.heic, "image/heic"), (files.avif, "image/avif"),
])
def test_strip_metadata_drops_gps_and_text_from_every_image_format_losslessly(tmp_path, make, media_type):
    path = make(tmp_path / "image")
    before = path.read_bytes()
    assert b"Spyphone" in before or b"48.85N" in before  # there was something to find
    original = pixels(path)
    images.strip_metadata(path, media_type)
    data = path.read_bytes()
    for secret in (b"Spyphone", b"Alice", b"taken at home", b"48.85N", b"GPSLatitude"):
        assert secret not in data
    with Image.open(path) as image:
        assert not image.getexif().get_ifd(GPS_IFD)
        assert image.getexif().get(0x0112, 1) == (3 if media_type == "image/webp" else 1)
        assert getattr(image, "n_frames", 1) == (8 if media_type == "image/gif" else 1)
    assert images.sniff(path) == media_type
    if media_type != "image/webp":  # lossy WebP decodes alike too, but compare exactly only lossless bytes
        assert same_pixels(pixels(path), original)


def test_strip_metadata_skips_stray_bytes_between_a_jpegs_segments_as_decoders_do(tmp_path):
    photo = files.jpeg(tmp_path / "a.jpg", orientation=8)
    original = pixels(photo)
    data = photo.read_bytes()
    at = 4 + int.from_bytes(data[4:6], "big")  # after JFIF's APP0, before the Exif
    photo.write_bytes(data[:at] + b"\x00\x00stray" + data[at:])
    images.strip_metadata(photo, "image/jpeg")
    assert b"stray" not in photo.read_bytes() and b"Spyphone" not in photo.read_bytes()
    assert same_pixels(pixels(photo), original)
    with Image.open(photo) as image:
        assert dict(image.getexif()) == {0x0112: 8}


def test_strip_metadata_refuses_a_jpeg_that_is_not_one(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 6 + b"garbage, not a marker")
    with pytest.raises(ValueError):
        images.strip_metadata(broken, "image/jpeg")


def test_a_thumbnail_is_small_upright_and_carries_no_metadata(tmp_path):
    photo = files.jpeg(tmp_path / "a.jpg", (1600, 1200), orientation=6)
    preview = images.thumbnail(photo, "image/jpeg")
    assert (preview.width, preview.height) == (420, 560)  # shown upright: taller than wide
    no_metadata(preview.data)
    thumb = pixels(preview.data)
    assert thumb.size == (420, 560)
    with Image.open(photo) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB").resize((420, 560))
    for corner in ((2, 2), (417, 2), (2, 557), (417, 557)):
        assert close_colour(thumb.getpixel(corner), upright.getpixel(corner)), corner


def test_a_twelve_megapixel_noisy_photo_gets_a_thumbnail_within_150_kb(tmp_path):
    photo = files.noisy_photo(tmp_path / "noise.jpg")
    preview = images.thumbnail(photo, "image/jpeg")
    assert len(preview.data) <= 150 * 1024
    assert preview.width <= 840 and preview.height <= 560 and max(preview.width / 840, preview.height / 560) > 0.99
    no_metadata(preview.data)


def test_a_small_image_is_not_enlarged_and_transparency_is_kept(tmp_path):
    path = tmp_path / "dot.png"
    Image.new("RGBA", (40, 30), (255, 0, 0, 0)).save(path)
    preview = images.thumbnail(path, "image/png")
    assert (preview.width, preview.height) == (40, 30)
    with Image.open(io.BytesIO(preview.data)) as image:
        assert image.convert("RGBA").getpixel((5, 5))[3] == 0


@pytest.mark.parametrize("kind", ["GIF", "WEBP", "PNG"])
def test_an_animation_keeps_moving_in_its_thumbnail(tmp_path, kind):
    path = files.animated_gif(tmp_path / "a.gif", frames=8)
    if kind != "GIF":  # the same frames as an animated WebP, or an APNG
        frames = []
        with Image.open(path) as gif:
            for index in range(gif.n_frames):
                gif.seek(index)
                frames.append(gif.convert("RGBA"))
        path = tmp_path / f"a.{kind.lower()}"
        frames[0].save(path, kind, save_all=True, append_images=frames[1:], duration=80, loop=0)
    media_type = images.sniff(path)
    assert images.inspect(path, media_type).animated
    preview = images.thumbnail(path, media_type)
    with Image.open(io.BytesIO(preview.data)) as image:
        assert image.format == "WEBP" and image.n_frames == 8
    no_metadata(preview.data)


def test_a_long_animation_is_cut_to_a_bounded_number_of_frames(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_FRAMES", 5)
    preview = images.thumbnail(files.animated_gif(tmp_path / "a.gif", frames=12), "image/gif")
    with Image.open(io.BytesIO(preview.data)) as image:
        assert image.n_frames == 5


def test_heic_gets_a_thumbnail_and_a_large_version_browsers_can_show(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "LARGE", 1000)  # 2560 in earnest: a smaller photo encodes faster
    photo = files.heic(tmp_path / "a.heic", (1200, 800))
    assert images.needs_large("image/heic") and not images.needs_large("image/jpeg")
    preview = images.thumbnail(photo, "image/heic")
    assert (preview.width, preview.height) == (840, 560)
    no_metadata(preview.data)
    big = images.large(photo, "image/heic")
    assert (big.width, big.height) == (1000, 667)
    no_metadata(big.data)
    assert close_colour(pixels(big.data).getpixel((500, 333)), pixels(photo).getpixel((600, 400)))
    both = images.previews(photo, "image/heic")  # what the worker calls: one decode for the two
    assert both[0].width == preview.width and both[1].width == big.width
    no_metadata(both[0].data)
    assert images.previews(files.png(tmp_path / "b.png"), "image/png")[1] is None
    thumb, big = images.previews(files.avif(tmp_path / "c.avif"), "image/avif")
    assert (thumb.width, thumb.height) == (big.width, big.height) == (320, 200)


def test_a_pdf_gets_its_first_page_as_a_thumbnail(tmp_path):
    preview = images.thumbnail(files.pdf(tmp_path / "a.pdf"), "application/pdf")
    assert preview.height == 560 and 420 <= preview.width <= 440
    page = pixels(preview.data)
    colours = {colour for _, colour in page.getcolors(1 << 20)}
    assert (255, 255, 255) in colours and any(close_colour(colour, (51, 102, 204)) for colour in colours)


@pytest.mark.parametrize("contents", [b"%PDF-1.4\nnothing else", b"%PDF-1.4\n" + b"0" * 1000])
def test_a_broken_pdf_raises_rather_than_hangs(tmp_path, contents):
    path = tmp_path / "broken.pdf"
    path.write_bytes(contents)
    with pytest.raises(Exception):  # noqa: B017 (PDFium's own error: the worker marks it failed)
        images.thumbnail(path, "application/pdf")


def test_a_huge_pdf_page_is_refused(tmp_path):
    with pytest.raises(ValueError):
        images.thumbnail(files.pdf(tmp_path / "a.pdf", width=20_000, height=20_000), "application/pdf")


def test_an_avatar_is_a_square_at_each_size_from_the_crop_or_the_centre(tmp_path):
    path = tmp_path / "face.png"
    picture = Image.new("RGB", (300, 200), (0, 0, 255))
    picture.paste((255, 0, 0), (0, 0, 100, 100))  # a red square at the top left
    picture.save(path)
    big, small = images.avatar(path, "image/png", (0, 0, 100))
    assert pixels(big).size == (256, 256) and pixels(small).size == (64, 64)
    assert close_colour(pixels(big).getpixel((128, 128)), (255, 0, 0))
    no_metadata(big)
    centre, _ = images.avatar(path, "image/png")
    assert close_colour(pixels(centre).getpixel((128, 128)), (0, 0, 255))
    # A crop past the edge is moved inside; an upright photo is cropped as shown.
    beyond, _ = images.avatar(path, "image/png", (250, 150, 100))
    assert close_colour(pixels(beyond).getpixel((128, 128)), (0, 0, 255))
    upright = files.jpeg(tmp_path / "upright.jpg", (640, 480), orientation=6)
    turned, _ = images.avatar(upright, "image/jpeg", (0, 0, 480))
    with Image.open(upright) as image:
        expected = ImageOps.exif_transpose(image).convert("RGB").crop((0, 0, 480, 480)).resize((256, 256))
    assert close_colour(pixels(turned).getpixel((5, 5)), expected.getpixel((5, 5)))


def test_images_copied_by_the_upload_keep_their_type(tmp_path):
    """Stripping keeps a file what it was: sniffing it again gives the same type (the service
    hashes and stores the stripped bytes)."""
    for make, media_type in ((files.jpeg, "image/jpeg"), (files.png, "image/png"), (files.heic, "image/heic")):
        path = make(tmp_path / f"x{media_type.rpartition('/')[2]}")
        copy = shutil.copy(path, tmp_path / "copy")
        images.strip_metadata(Path(copy), media_type)
        assert images.sniff(Path(copy)) == media_type
        assert images.inspect(Path(copy), media_type) == images.inspect(path, media_type)
