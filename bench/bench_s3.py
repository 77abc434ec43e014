"""The object-storage issue's benchmark: N reports in a bucket on moto's server (127.0.0.1), the
district-wide Prefect flow with s3:// source and out.

    uv run python bench/bench_s3.py [--reports 1000]

Prints the full run, the next nightly run with nothing changed, a nightly run after one unit
replaced its file (cached extraction for the other batches), and a one-report rerun, each
against the full run. The flows run in this process on a temporary Prefect server that is
started before the clock starts (its 20 s start-up is the same for every kind of run).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from seeds import SAMPLES, seed_folder  # bench/seeds.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from s3_server import moto_server  # noqa: E402  (the tests' moto server helper)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, moto_server():
        os.environ["PREFECT_LOCAL_STORAGE_PATH"] = str(Path(tmp) / "results")   # a cold extraction cache
        from giodq.settings import apply_prefect_defaults

        apply_prefect_defaults()
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
        from prefect.testing.utilities import prefect_test_harness

        from flows.district_run import district_run
        from flows.rerun import rerun
        from giodq.s3 import s3_client

        s3 = s3_client()
        s3.create_bucket(Bucket="district")
        src = seed_folder(Path(tmp) / "src", a.reports)
        keys = sorted(p.name for p in src.iterdir())
        for name in keys:
            s3.put_object(Bucket="district", Key=f"reports/{name}", Body=(src / name).read_bytes())
        source, out = "s3://district/reports", "s3://district/out"
        with prefect_test_harness(server_startup_timeout=None):
            timed = {}
            for label, call in (
                ("full run", lambda: district_run(source=source, out=out)),
                ("nightly, nothing changed", lambda: district_run(source=source, out=out)),
                ("nightly, one file replaced", lambda: (_replace(s3, keys[7], SAMPLES), district_run(source=source, out=out))[1]),
                ("rerun of one report", lambda: (_replace(s3, keys[4], SAMPLES), rerun(key=keys[4], source=source, out=out))[1]),
            ):
                t0 = time.perf_counter()
                record = call()
                timed[label] = (time.perf_counter() - t0, record)
    full = timed["full run"][0]
    print(f"{a.reports} reports in a bucket on moto's server, Prefect flows (server already up)")
    print(f"{'run':<28} {'wall s':>7} {'of full':>8}  timings")
    for label, (secs, record) in timed.items():
        print(f"{label:<28} {secs:7.1f} {100 * secs / full:7.0f}%  {record.get('timings_s')}")
    print("target: the unchanged nightly run and the rerun each <= 10% of the full run")


def _replace(s3, key: str, samples: Path) -> None:
    """A unit uploads a corrected file: same report, one more line at the end."""
    body = s3.get_object(Bucket="district", Key=f"reports/{key}")["Body"].read()
    s3.put_object(Bucket="district", Key=f"reports/{key}", Body=body + "\n（已更正）\n".encode())


if __name__ == "__main__":
    main()
