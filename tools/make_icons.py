"""Draw the installable app's icons (static/img/icon-*.png) from the favicon's shape: a green
rounded square with a white speech bubble. Run once after changing the look; the PNGs are
committed (Pillow, a dev dependency through matplotlib, is needed only here).

    .venv/bin/python tools/make_icons.py
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
GREEN, WHITE = (0x2F, 0x6F, 0x5E, 255), (255, 255, 255, 255)
# static/img/favicon.svg's bubble on its 32-unit grid: M8 10 h16 v10 H14 l-6 5 z
BUBBLE = [(8, 10), (24, 10), (24, 20), (14, 20), (8, 25)]


def icon(size: int, *, maskable: bool) -> Image.Image:
    scale = 8  # drawn large, then shrunk: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:  # full bleed: the platform cuts its own shape; the bubble stays in the safe zone
        draw.rectangle((0, 0, big, big), fill=GREEN)
        unit = big * 0.6 / 16  # the bubble's 16 units across make 60% of the width
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 4, fill=GREEN)
        unit = big / 32
    # Centred on the bubble's own middle (16, 17.5).
    left, top = big / 2 - 16 * unit, big / 2 - 17.5 * unit
    draw.polygon([(left + x * unit, top + y * unit) for x, y in BUBBLE], fill=WHITE)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    folder = ROOT / "static" / "img"
    icon(192, maskable=False).save(folder / "icon-192.png", optimize=True)
    icon(512, maskable=False).save(folder / "icon-512.png", optimize=True)
    icon(512, maskable=True).save(folder / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
