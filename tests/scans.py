"""Scans for the OCR tests: a report's three tables printed in the national format (Pillow, in
Debian's WenQuanYi Micro Hei), then scanned (bench/make_scan.py: grey noise, specks, a slight turn)
into an image-only PDF; and pages of a real text PDF scanned the same way after pdftoppm."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from giodq import cells as cm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from make_scan import save_pdf, scan_pages, scanned  # noqa: E402  (bench/make_scan.py)

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


def scan_of_pdf(pdf: Path, out: Path, dpi: int, pages: str, noise: float = 12, angle: float = 0.7) -> Path:
    """Pages ``first-last`` of a text PDF through pdftoppm at ``dpi``, scanned into ``out``."""
    first, last = (int(x) for x in pages.split("-"))
    save_pdf(scan_pages(pdf, dpi, noise, angle, first, last), out, dpi)
    return out
