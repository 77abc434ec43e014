"""Make a scan of a text PDF, as an office's scanner would: pages rendered by pdftoppm (Debian's
poppler-utils) at a resolution, grey noise added, turned by a slight angle, saved as an image-only
PDF (Pillow), so that no text layer is left. ``print_report`` prints a report's three tables in the
national format (in Debian's WenQuanYi Micro Hei), to be scanned the same way (the seeds are text).

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
from PIL import Image, ImageDraw, ImageFont

from giodq import cells as cm


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


FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
DPI = 300
W, H = 2480, 3508          # A4 at 300 dpi
LEFT, ROW = 150, 80


def _font(size: int):
    return ImageFont.truetype(FONT, size)


class _Page:
    def __init__(self):
        self.image = Image.new("L", (W, H), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = 180

    def line(self, text: str, size: int = 40) -> None:
        self.draw.text((LEFT, self.y), text, font=_font(size), fill=0)
        self.y += int(size * 1.9)

    def table(self, widths: list[int], rows: list[list[str]], size: int = 34) -> None:
        """Rows of cells, each row as wide as ``widths`` (a cell of '' spans on from the left: merged)."""
        x_edges = np.cumsum([LEFT] + widths)
        for row in rows:
            top, bottom = self.y, self.y + ROW
            self.draw.line([(x_edges[0], top), (x_edges[-1], top)], fill=0, width=3)
            self.draw.line([(x_edges[0], bottom), (x_edges[-1], bottom)], fill=0, width=3)
            for i, text in enumerate(row):
                if i == 0 or text is not None:
                    self.draw.line([(x_edges[i], top), (x_edges[i], bottom)], fill=0, width=3)
                if text:
                    self.draw.text((x_edges[i] + 14, top + (ROW - size) // 2), text, font=_font(size), fill=0)
            self.draw.line([(x_edges[-1], top), (x_edges[-1], bottom)], fill=0, width=3)
            self.y = bottom
        self.y += 60


def _row_label(r: cm.Row) -> str:
    """The label the form prints in a row's last label cell: 1.属于国家秘密, （一）予以公开."""
    last = r.label.split(" ")[-1]
    return last[1:] if last.startswith("三（") else last


def _short(col: cm.Col) -> str:
    return col.label.split("·")[-1]


def print_report(body: str, year: int, raw: dict[str, str | None]) -> list[Image.Image]:
    """A 2021-format report's tables as printed pages (A4, 300 dpi): title, tables 2, 3 and 4."""
    value = lambda k: raw.get(k) or "0"  # noqa: E731
    p1 = _Page()
    p1.line(f"{body}{year}年政府信息公开工作年度报告", 48)
    p1.line("一、总体情况")
    p1.line(f"{year}年，{body}认真贯彻落实政府信息公开条例。")
    p1.line("二、主动公开政府信息情况")
    for rows in (cm.T2_2021[:2], cm.T2_2021[2:5], cm.T2_2021[5:]):
        cols = rows[0][1]
        widths = [700] + [1480 // len(cols)] * len(cols)
        p1.table(widths, [["信息内容"] + [c.label for c in cols]]
                 + [[r.label] + [value(cm.key("t2", r.key, c.key)) for c in cs] for r, cs in rows])
    p2 = _Page()
    p2.line("三、收到和处理政府信息公开申请情况")
    widths = [1060] + [160] * 7
    header = [["", "申请人情况", None, None, None, None, None, None],
              ["", *[_short(c) for c in cm.T3_COLS]]]
    body_rows = [[_row_label(r)] + [value(cm.key("t3", r.key, c.key)) for c in cm.T3_COLS] for r in cm.T3_ROWS]
    p2.table(widths, header, size=26)
    p2.table(widths, body_rows, size=34)
    p3 = _Page()
    p3.line("四、政府信息公开行政复议、行政诉讼情况")
    widths = [145] * 15
    p3.table(widths, [["行政复议", None, None, None, None, "未经复议直接起诉", None, None, None, None,
                       "复议后起诉", None, None, None, None]], size=28)
    p3.table(widths, [[_short(c)[:2] for r in cm.T4_ROWS for c in cm.T4_COLS]], size=28)
    p3.table(widths, [[value(cm.key("t4", r.key, c.key)) for r in cm.T4_ROWS for c in cm.T4_COLS]], size=34)
    p3.line("五、存在的主要问题及改进情况")
    p3.line("一是公开内容不够全面。下一步将加强培训。")
    p3.line("六、其他需要报告的事项")
    p3.line("本机关无其他需要报告的事项。")
    return [p1.image, p2.image, p3.image]


def scan_of_report(out: Path, body: str, year: int, raw: dict[str, str | None], noise: float = 12,
                   angle: float = 0.6, seed: int = 7) -> Path:
    """The printed tables of a report, scanned into an image-only PDF at ``out``."""
    rng = np.random.default_rng(seed)
    save_pdf([scanned(p, noise, angle, rng) for p in print_report(body, year, raw)], out, DPI)
    return out


def scan_of_pdf(pdf: Path, out: Path, dpi: int, pages: str | None = None, noise: float = 12,
                angle: float = 0.7) -> Path:
    """Pages ``first-last`` (all when None) of a text PDF through pdftoppm at ``dpi``, scanned into ``out``."""
    first, last = (int(x) for x in pages.split("-")) if pages else (None, None)
    save_pdf(scan_pages(pdf, dpi, noise, angle, first, last), out, dpi)
    return out


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
