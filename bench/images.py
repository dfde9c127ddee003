"""The image functions alone, in this process (no server): what an upload spends reading a file
(sniff, inspect, strip_metadata) and what the preview worker spends making its previews, on the
files the tests make (tests/helpers/files.py). The bomb's refusal is timed here, not asserted in
the tests (timing assertions fail on a busy machine).

    .venv/bin/python bench/images.py [--runs 10]

Reported per step: p50 / p95 / max in milliseconds over the runs, and the thumbnail's bytes."""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def timed(step) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def refused(call, *args) -> None:
    from app.files import images

    try:
        call(*args)
    except images.TooManyPixels:
        return
    raise AssertionError("the bomb was not refused")


def run(runs: int) -> list[tuple[str, list[float], str]]:
    import shutil

    from app.files import images
    from tests.helpers import files

    folder = Path(tempfile.mkdtemp(prefix="huddle-bench-images-"))
    try:
        bomb = files.png_bomb(folder / "bomb.png")
        photo = files.noisy_photo(folder / "noise.jpg")
        heic = files.heic(folder / "photo.heic", (4032, 3024))
        gif = files.animated_gif(folder / "party.gif", frames=40, size=(480, 270))
        pdf = files.pdf(folder / "paper.pdf")
        rows: dict[str, list[float]] = {}
        sizes: dict[str, int] = {}

        def add(name: str, step) -> None:
            rows.setdefault(name, []).append(timed(step))

        def kept(name: str, preview) -> None:
            sizes[name] = len(preview.data)

        for _ in range(runs):
            add("bomb: sniff + inspect (refused)", lambda: refused(images.inspect, bomb, images.sniff(bomb)))
            add("12 MP JPEG: sniff + inspect", lambda: images.inspect(photo, images.sniff(photo)))
            copy = Path(shutil.copy(photo, folder / "copy.jpg"))
            add("12 MP JPEG: strip_metadata", lambda copy=copy: images.strip_metadata(copy, "image/jpeg"))
            add("12 MP JPEG: thumbnail", lambda: kept("jpeg", images.previews(photo, "image/jpeg")[0]))
            add("12 MP HEIC: thumbnail + large", lambda: images.previews(heic, "image/heic"))
            add("GIF 40 frames: thumbnail", lambda: kept("gif", images.thumbnail(gif, "image/gif")))
            add("PDF: first page", lambda: images.thumbnail(pdf, "application/pdf"))
        notes = {"12 MP JPEG: thumbnail": f"{sizes['jpeg'] / 1024:.0f} KB",
                 "GIF 40 frames: thumbnail": f"{sizes['gif'] / 1024:.0f} KB"}
        return [(name, values, notes.get(name, "")) for name, values in rows.items()]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table(results: list[tuple[str, list[float], str]]) -> str:
    lines = ["| step | p50 ms | p95 ms | max ms | |", "|---|---:|---:|---:|---|"]
    for name, values, note in results:
        middle, high = statistics.median(values), percentile(values, 95)
        lines.append(f"| {name} | {middle:.1f} | {high:.1f} | {max(values):.1f} | {note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    print(table(run(parser.parse_args().runs)))
