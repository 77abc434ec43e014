"""Reviewer site build time (GX Data Docs + report pages + source copies) for N reports.

    uv run python bench/bench_site.py [--reports 1000]

The seeds repeated to N reports are extracted and validated first (not timed), then the
site is built from the run's results, as publish does.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from seeds import seed_folder  # bench/seeds.py

from giodq.pipeline import extract_batch, list_inputs, reports_table, validate_reports
from giodq.publish.docs import build_data_docs



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = seed_folder(Path(tmp) / "src", a.reports)
        reports = extract_batch(str(src), list_inputs(str(src)))
        validation = validate_reports(reports)
        table = reports_table(reports, validation)
        t0 = time.perf_counter()
        index = build_data_docs(validation.results, Path(tmp) / "out" / "data_docs", table, validation.findings,
                                validation.cells, str(src))
        t = time.perf_counter() - t0
        pages = len(list((index.parent / "reports").glob("*.html")))
        size = sum(p.stat().st_size for p in index.parent.rglob("*") if p.is_file()) / 2**20
    print(f"reports: {a.reports}, report pages: {pages}, site size: {size:.1f} MiB")
    print(f"site build: {t:.2f} s ({1000 * t / a.reports:.1f} ms/report)")


if __name__ == "__main__":
    main()
