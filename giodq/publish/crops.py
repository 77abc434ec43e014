"""Crops of a scan for a reviewer: the page region of the cells a finding on an OCR'd report rests on.

OCR cannot tell a misprinted digit from a misread one, so a finding on a scan asks for a reading by
eye (validate/findings.py, ``scanned_as_warnings``); its report page shows the region of the page it
rests on, cut from the source file as OCR read it (extract/ocr.py: the same rendering and
levelling), beside the finding. Crops are PNG files in the site (``reports/crops/``), named after
the report's page and the finding's place in the list, never after anything the report holds.
"""
from __future__ import annotations

import logging
from collections import Counter

from giodq.extract import ocr

log = logging.getLogger(__name__)

MAX_CROPS = 40   # per report: a scan whose every line fails is read by eye whole, not in 500 crops


def finding_boxes(findings: list, ocr_cells: dict[str, tuple[int, tuple]]) -> dict[int, tuple[int, tuple]]:
    """Finding (its position in ``findings``) -> (page, box around its OCR'd cells on that page),
    for the findings that rest on cells read by OCR (on the page holding most of them)."""
    out: dict[int, tuple[int, tuple]] = {}
    for i, f in enumerate(findings):
        boxes = [ocr_cells[k] for k in (f.cells if f.cells is not None else []) if k in ocr_cells]
        if not boxes:
            continue
        page = Counter(p for p, _ in boxes).most_common(1)[0][0]
        on = [b for p, b in boxes if p == page]
        out[i] = page, (min(b[0] for b in on), min(b[1] for b in on), max(b[2] for b in on), max(b[3] for b in on))
        if len(out) == MAX_CROPS:
            break
    return out


def finding_crops(data: bytes, media: str, findings: list, ocr_cells: dict[str, tuple[int, tuple]],
                  stem: str) -> dict[int, tuple[str, bytes]]:
    """Finding position -> (file name, PNG) of the crops of a scan's findings; each page rendered once.
    A page that cannot be rendered again costs its crops, never the report's page."""
    pages: dict[int, object] = {}
    out: dict[int, tuple[str, bytes]] = {}
    for i, (page, box) in finding_boxes(findings, ocr_cells).items():
        try:
            if page not in pages:
                pages[page] = ocr.page_image(data, media, page)
            out[i] = f"{stem}-{i + 1}.png", ocr.crop_png(pages[page], box)
        except Exception:
            log.exception("crop of %s page %s", stem, page)
    return out
