"""A one-report rerun against the full run, on N reports in a local folder.

    uv run python bench/bench_rerun.py [--reports 1000]

(bench_s3.py measures the same on a bucket through the Prefect flows; this one, the local path without Prefect.)
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from seeds import seed_folder  # bench/seeds.py

from giodq.pipeline import run
from giodq.rerun import rerun



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = seed_folder(Path(tmp) / "src", a.reports), Path(tmp) / "out"
        t0 = time.perf_counter()
        record = run(str(src), out)
        t_full = time.perf_counter() - t0
        key = sorted(p.name for p in src.iterdir())[4]
        t0 = time.perf_counter()
        rerun(key, str(src), out)
        t_rerun = time.perf_counter() - t0
    print(f"full run, {a.reports} reports: {t_full:.1f} s (timings {record['timings_s']})")
    print(f"rerun of one report: {t_rerun:.1f} s = {100 * t_rerun / t_full:.0f}% of the full run (target <= 10%)")


if __name__ == "__main__":
    main()
