"""OCR of scans (#16): cells read against the hand-read values, time per page and peak memory, per dpi,
beside the text-layer PDF.

    uv run python bench/bench_ocr.py [--dpi 150 300] [--out DIR]

Scans are made as bench/make_scan.py makes them (grey noise of sd 12, 0.2 % specks, a turn of 0.7°
for pdftoppm's pages of tests/fixtures/huaian-city-2024.pdf, 0.6° for the printed seeds). The
hand-read values are the text layer's for the PDF (tests/test_extract_forms.py holds them against
the hand-read answers) and the seeds' own cells for the printed seeds. A blank and a 0 count alike.
Each extraction runs in a process of its own, so that its peak RSS is its own.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from make_scan import print_report, save_pdf, scan_of_pdf, scanned  # noqa: E402

PDF = ROOT / "tests" / "fixtures" / "huaian-city-2024.pdf"
SEEDS = ["000_11add77ccab5606b.txt", "002_40523efafb065443.txt", "003_72b5106183aba5ae.txt"]


def _one(path: str) -> None:
    """Extract one file in this process; print seconds, pages, peak RSS and the raw cells (JSON)."""
    from giodq.extract import extract_report

    data = Path(path).read_bytes()
    t = time.perf_counter()
    e = extract_report(Path(path).name, data)
    seconds = time.perf_counter() - t
    pages = _pages(data)
    print(json.dumps({"seconds": seconds, "pages": pages, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "raw": dict(e.raw), "status": e.status, "scanned": e.scanned}))


def _pages(data: bytes) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


def measure(path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(path)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def agreement(truth: dict, read: dict) -> tuple[int, int, int, int]:
    """(cells, right, wrong, not read) over the cells the truth has."""
    keys = [k for k, v in truth.items() if v is not None]
    same = lambda a, b: (a or "0") == (b or "0")  # noqa: E731
    right = sum(read.get(k) is not None and same(read[k], truth[k]) for k in keys)
    wrong = sum(read.get(k) is not None and not same(read[k], truth[k]) for k in keys)
    return len(keys), right, wrong, len(keys) - right - wrong


def seed_scan(name: str, dpi: int, out: Path) -> tuple[Path, dict]:
    """A seed's tables printed at 300 dpi, brought to ``dpi`` (a coarser scanner), scanned."""
    from PIL import Image

    from giodq.extract import extract_report

    seed = extract_report(name, (ROOT / "samples" / "reports" / name).read_bytes())
    rng = np.random.default_rng(7)
    pages = []
    for page in print_report(seed.body, seed.year, seed.raw):
        if dpi != 300:
            page = page.resize((page.width * dpi // 300, page.height * dpi // 300), Image.LANCZOS)
        pages.append(scanned(page, 12, 0.6, rng))
    save_pdf(pages, out, dpi)
    return out, seed.raw


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dpi", type=int, nargs="+", default=[150, 300])
    ap.add_argument("--out", type=Path, default=None, help="keep the scans here")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        _one(a.one)
        return 0
    work = a.out or Path(tempfile.mkdtemp(prefix="giodq-ocr-"))
    work.mkdir(parents=True, exist_ok=True)
    text = measure(PDF)
    print(f"text layer: {PDF.name}, {text['pages']} pages: {1000 * text['seconds'] / text['pages']:.0f} ms/page, "
          f"peak RSS {text['rss_mb']:.0f} MB")
    print(f"{'input':<34} {'dpi':>4} {'cells':>6} {'right':>6} {'%':>6} {'wrong':>6} {'unread':>6} "
          f"{'s/page':>7} {'RSS MB':>7}")
    totals: dict[int, list[int]] = {}
    for dpi in a.dpi:
        inputs = [("huaian-city-2024 (pdftoppm)", scan_of_pdf(PDF, work / f"huaian-{dpi}.pdf", dpi), text["raw"])]
        for name in SEEDS:
            path, truth = seed_scan(name, dpi, work / f"seed-{name[:3]}-{dpi}.pdf")
            inputs.append((f"seed {name[:3]} (printed)", path, truth))
        for label, path, truth in inputs:
            got = measure(path)
            n, right, wrong, unread = agreement(truth, got["raw"])
            t = totals.setdefault(dpi, [0, 0, 0, 0])
            for i, v in enumerate((n, right, wrong, unread)):
                t[i] += v
            print(f"{label:<34} {dpi:>4} {n:>6} {right:>6} {100 * right / n:>6.1f} {wrong:>6} {unread:>6} "
                  f"{got['seconds'] / got['pages']:>7.2f} {got['rss_mb']:>7.0f}")
    for dpi, (n, right, wrong, unread) in totals.items():
        print(f"all at {dpi} dpi: {right}/{n} cells right = {100 * right / n:.1f} %, {wrong} wrong, {unread} not read")
    print(f"scans in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
