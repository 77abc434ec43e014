"""Extract and validate wall time on the seeds repeated to N reports, against one GX run per report.

    uv run python bench/bench_validate.py [--reports 1000] [--per-report-sample 50]

Prints the batch figures (one GX run per suite over all N reports) and the time of
validating reports one GX run each (measured on a sample, extrapolated to N).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from seeds import seed_folder  # bench/seeds.py

from giodq.pipeline import extract_batch, list_inputs, validate_reports



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--per-report-sample", type=int, default=50)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seed_folder(Path(tmp), a.reports)
        keys = list_inputs(tmp)
        t0 = time.perf_counter()
        reports = extract_batch(tmp, keys)
        t_extract = time.perf_counter() - t0

    validate_reports(reports[:5])  # warm up: GX registers its metrics on first use
    t0 = time.perf_counter()
    batch = validate_reports(reports)
    t_batch = time.perf_counter() - t0

    sample = reports[: a.per_report_sample]
    t0 = time.perf_counter()
    for r in sample:
        validate_reports([r])
    t_one = (time.perf_counter() - t0) / len(sample)
    t_per_report = t_one * len(reports)

    print(f"reports: {len(reports)} (the 5 seeds repeated), findings: {len(batch.findings)}")
    print(f"extract: {t_extract:.2f} s ({1000 * t_extract / len(reports):.2f} ms/report)")
    print(f"validate, one GX batch per suite: {t_batch:.2f} s")
    print(f"validate, one GX run per report: {t_one:.3f} s/report x {len(reports)} = {t_per_report:.0f} s "
          f"(measured on {len(sample)}, extrapolated)")
    print(f"ratio per-report / batch: {t_per_report / t_batch:.0f}x")


if __name__ == "__main__":
    main()
