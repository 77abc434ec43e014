"""Where a run's memory goes: the peak of each step of validating and publishing N reports, in one process.

    uv run python bench/bench_memory.py [--reports 10000 50000] [--input distinct|repeated]

For each N: writes the input (as bench_scale.py), extracts it in a process pool (packed, as the
flow's workers give the reports), and pickles the reports into a private temporary folder. A fresh
process then loads them (pipeline.with_versions: their packed bytes wait on disk, as in a run) and
runs pipeline.validate_reports, run_record, reports_table and publish, as pipeline.run does after
extraction, with each step below wrapped: its resident memory before,
its peak (Linux's VmHWM, reset before the step through /proc/self/clear_refs) and after, and its
time. A step's peak includes the steps nested in it. No Prefect, no server: the figures are the
stages' own, against which bench_scale.py's whole-process figures can be read.

The pickles are this script's own, made a moment before in a folder only this user can read.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import os
import pickle
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from seeds import distinct_folder, seed_folder  # bench/seeds.py

# (module, function): the steps measured, outermost first where they nest
STEPS = [("giodq.pipeline", "validate_reports"), ("giodq.pipeline", "run_record"), ("giodq.pipeline", "reports_table"),
         ("giodq.pipeline", "publish"), ("giodq.pipeline", "summary_frame"), ("giodq.publish.docs", "build_data_docs"),
         ("giodq.publish.docs", "_draw_board"), ("giodq.publish.docs", "_gx_site"),
         ("giodq.publish.dashboard", "write_charts"), ("giodq.publish.docs", "_report_pages"),
         ("giodq.pipeline", "write_dataset")]


def _status() -> dict[str, int]:
    """VmRSS and VmHWM of this process in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


class Meter:
    """Peak memory per wrapped step; nested steps pass their peak on to the steps around them."""

    def __init__(self) -> None:
        self.open: list[list[int]] = []     # the running steps' peaks so far
        self.rows: list[tuple] = []

    def _reset(self) -> None:
        hwm = _status()["VmHWM"]
        for peak in self.open:
            peak[0] = max(peak[0], hwm)
        Path("/proc/self/clear_refs").write_text("5")   # VmHWM := VmRSS

    def wrap(self, module: str, name: str) -> None:
        mod = importlib.import_module(module)
        fn = getattr(mod, name)

        @functools.wraps(fn)
        def measured(*args, **kwargs):
            before = _status()["VmRSS"]
            self._reset()
            peak, depth, t0 = [0], len(self.open), time.perf_counter()
            self.open.append(peak)
            row = len(self.rows)   # the steps in the order they start
            self.rows.append(None)
            try:
                return fn(*args, **kwargs)
            finally:
                self.open.pop()
                top = max(peak[0], _status()["VmHWM"])
                for outer in self.open:
                    outer[0] = max(outer[0], top)
                self.rows[row] = (depth, name, before, top, _status()["VmRSS"], time.perf_counter() - t0)
                self._reset()
        setattr(mod, name, measured)


def measure(pickled: Path, source: str) -> None:
    """In a fresh process: the steps over the pickled reports; prints one line per step."""
    from giodq import pipeline
    from giodq.district.scope import District

    import giodq.publish.docs  # noqa: F401 (GX, loaded before the baseline as the command does)
    import giodq.validate.run  # noqa: F401

    meter = Meter()
    for module, name in STEPS:
        meter.wrap(module, name)
    base = _status()["VmRSS"]
    # as the run's process has them: in the listing's order, their packed bytes waiting on disk
    reports = pipeline.with_versions(pickle.loads(pickled.read_bytes()), pipeline.list_inputs(source))
    loaded = _status()["VmRSS"]
    with tempfile.TemporaryDirectory(prefix="giodq-bench-out-") as out:
        started = datetime.now(timezone.utc)
        validation = pipeline.validate_reports(reports, None, district=District())
        record = pipeline.run_record(uuid.uuid4().hex, source, out, started, reports, validation,
                                     {"extract": 0.0, "validate": 0.0}, None, District(), {})
        table = pipeline.reports_table(reports, validation)
        del reports
        pipeline.publish(out, table, validation, record)
    print(f"base {base} loaded {loaded} peak {max(r[3] for r in meter.rows)}")
    for depth, name, before, peak, after, seconds in meter.rows:
        print(f"step {depth} {name} {before} {peak} {after} {seconds:.2f}")


def _extract(path: str):
    from giodq.extract import extract_report
    from giodq.extract.packed import pack

    data = Path(path).read_bytes()
    return pack(extract_report(Path(path).name, data))


def prepare(n: int, kind: str, work: Path) -> tuple[Path, Path]:
    """The input of n reports and its extracted reports, packed as the workers give them, pickled."""
    from giodq.pipeline import list_inputs

    src = work / f"in-{n}"
    (distinct_folder if kind == "distinct" else seed_folder)(src, n)
    refs = list_inputs(str(src))
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        reports = list(pool.map(_extract, [str(src / r.key) for r in refs], chunksize=50))
    pickled = work / f"reports-{n}.pickle"
    pickled.write_bytes(pickle.dumps(reports, protocol=5))
    return src, pickled


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, nargs="+", default=[10000, 50000])
    ap.add_argument("--input", choices=["distinct", "repeated"], default="distinct")
    ap.add_argument("--measure", nargs=2, metavar=("PICKLE", "SOURCE"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.measure:
        measure(Path(a.measure[0]), a.measure[1])
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="giodq-bench-memory-") as tmp:   # mode 0700
        for n in a.reports:
            src, pickled = prepare(n, a.input, Path(tmp))
            run = subprocess.run([sys.executable, __file__, "--measure", str(pickled), str(src)],
                                 capture_output=True, text=True, check=False)
            if run.returncode:
                sys.exit(f"the measuring process for N={n} failed:\n{run.stderr}")
            results[n] = [line.split() for line in run.stdout.splitlines() if line.startswith(("base", "step"))]
            pickled.unlink()
    names = [(int(r[1]), r[2]) for r in results[a.reports[0]] if r[0] == "step"]
    if any([(int(r[1]), r[2]) for r in rows if r[0] == "step"] != names for rows in results.values()):
        sys.exit("the runs took different steps: " + "; ".join(
            f"{n}: {[r[2] for r in rows if r[0] == 'step']}" for n, rows in results.items()))
    head = ["step"] + [f"{n:,}: before / peak / after MB, s" for n in a.reports]
    rows = [["(imports; reports loaded)"] + [f"{r[0][1]}; {r[0][3]}" for r in results.values()]]
    for i, (depth, name) in enumerate(names):
        rows.append(["  " * depth + name] + [
            "{} / {} / {}, {}".format(*r[1 + i][3:7]) for r in results.values()])
    rows.append(["largest peak"] + [r[0][5] for r in results.values()])
    print(f"validate + publish in one process, {a.input} input; MB of resident memory (VmRSS, VmHWM)")
    width = [max(len(str(row[c])) for row in [head] + rows) for c in range(len(head))]
    for row in [head] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, width)))
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for row in rows:
        print("| " + " | ".join(str(v).replace("  ", "\u2003") for v in row) + " |")


if __name__ == "__main__":
    main()
