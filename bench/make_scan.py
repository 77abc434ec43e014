"""Make a scan of a text PDF, as an office's scanner would: pages rendered by pdftoppm (Debian's
poppler-utils) at a resolution, grey noise added, turned by a slight angle, saved as an image-only
PDF (Pillow), so that no text layer is left.

    uv run python bench/make_scan.py IN.pdf OUT.pdf --dpi 300 --noise 12 --angle 0.7 [--pages 3-5]

Noise is Gaussian grey noise of that standard deviation (0-255) with 0.2 % salt-and-pepper specks,
from a fixed seed: the same arguments make the same file.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image


def scanned(page: Image.Image, noise: float, angle: float, rng: np.random.Generator) -> Image.Image:
    """A printed page as a scanner gives it back: grey noise, specks, turned by ``angle`` degrees."""
    pixels = np.asarray(page.convert("L"), dtype=np.float64)
    pixels = pixels + rng.normal(0, noise, pixels.shape)
    specks = rng.random(pixels.shape)
    pixels[specks < 0.001] = 0
    pixels[specks > 0.999] = 255
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return image.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)


def save_pdf(pages: list[Image.Image], out: Path, dpi: int) -> None:
    """Pages saved as an image-only PDF (no text layer), one image a page."""
    pages[0].save(out, save_all=True, append_images=pages[1:], resolution=dpi)


def scan_pages(pdf: Path, dpi: int, noise: float, angle: float, first: int | None = None,
               last: int | None = None, seed: int = 7) -> list[Image.Image]:
    """The pages of ``pdf`` as a scanner gives them (grayscale PIL images)."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["pdftoppm", "-r", str(dpi), "-gray", "-png"]
        if first:
            cmd += ["-f", str(first)]
        if last:
            cmd += ["-l", str(last)]
        subprocess.run(cmd + [str(pdf), f"{tmp}/p"], check=True)
        return [scanned(Image.open(png), noise, angle, rng) for png in sorted(Path(tmp).glob("p*.png"))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--noise", type=float, default=12.0)
    ap.add_argument("--angle", type=float, default=0.7, help="degrees, counter-clockwise")
    ap.add_argument("--pages", default=None, help="first-last, 1-based (default: all)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    first = last = None
    if a.pages:
        first, _, last = a.pages.partition("-")
        first, last = int(first), int(last or first)
    pages = scan_pages(a.pdf, a.dpi, a.noise, a.angle, first, last, a.seed)
    save_pdf(pages, a.out, a.dpi)
    print(f"{a.out}: {len(pages)} pages at {a.dpi} dpi, noise {a.noise}, angle {a.angle}°", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
