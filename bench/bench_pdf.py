"""PDF extraction time per page: giodq's whole extraction against bare pdfplumber table extraction.

    uv run python bench/bench_pdf.py [--copies 50] [--pdf tests/fixtures/huaian-city-2024.pdf]

Both run on the same file, repeated, in the same process, alternating so that neither
gets a warmer cache: bare is ``pdfplumber.open(...).pages[i].extract_tables()`` for every
page; giodq is ``extract_report`` (tables, prose in reading order, metadata, claims).
Target (issue): giodq at most 1.15x bare pdfplumber.
"""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import pdfplumber

from giodq.extract import extract_report

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "huaian-city-2024.pdf"


def bare(data: bytes) -> int:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_tables()
        return len(pdf.pages)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=50)
    ap.add_argument("--pdf", type=Path, default=DEFAULT)
    a = ap.parse_args()
    data = a.pdf.read_bytes()
    pages = bare(data)  # warm up imports
    extract_report("warm.pdf", data)
    t_bare = t_giodq = 0.0
    for i in range(a.copies):
        t0 = time.perf_counter()
        bare(data)
        t1 = time.perf_counter()
        extract_report(f"{i}.pdf", data)
        t2 = time.perf_counter()
        t_bare += t1 - t0
        t_giodq += t2 - t1
    n = pages * a.copies
    print(f"{a.pdf.name} x {a.copies} = {n} pages")
    print(f"bare pdfplumber extract_tables: {1000 * t_bare / n:.1f} ms/page")
    print(f"giodq extract_report:           {1000 * t_giodq / n:.1f} ms/page")
    print(f"ratio giodq / bare: {t_giodq / t_bare:.2f}x (target <= 1.15x)")


if __name__ == "__main__":
    main()
