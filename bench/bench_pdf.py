"""PDF extraction time per page: giodq's whole extraction against bare pdfplumber table extraction,
and a run's PDF extraction on one core against every core.

    uv run python bench/bench_pdf.py [--copies 50] [--pdf tests/fixtures/huaian-city-2024.pdf]
    uv run python bench/bench_pdf.py --cores [--copies 192] [--batch-size 12]

Both run on the same file, repeated, in the same process, alternating so that neither
gets a warmer cache: bare is ``pdfplumber.open(...).pages[i].extract_tables()`` for every
page; giodq is ``extract_report`` (tables, prose in reading order, metadata, claims).
Target (issue): giodq at most 1.15x bare pdfplumber.

--cores: the public command `uv run giodq run SRC --out OUT --quiet --batch-size B` on the copies,
with GIODQ_WORKERS=1 (the batches in the flow's own process: one core) and then one worker process
per core (GIODQ_POOL_FROM=1, Prefect's ProcessPoolTaskRunner), a fresh Prefect home each (no cached
extraction); prints run.json's extract time, pages per second and the ratio. The workers' start
(seconds) is inside the second figure: more copies spread it over more pages.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pdfplumber

from giodq.extract import extract_report

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "tests" / "fixtures" / "huaian-city-2024.pdf"


def bare(data: bytes) -> int:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_tables()
        return len(pdf.pages)


def on_cores(data: bytes, pages: int, copies: int, batch_size: int) -> None:
    """One core against every core, through the command (see the module's docstring)."""
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for i in range(copies):
            (src / f"{i:04d}.pdf").write_bytes(data)
        rates = {}
        for workers in (1, cores):
            out = Path(tmp) / f"out-{workers}"
            env = {**os.environ, "GIODQ_WORKERS": str(workers), "GIODQ_POOL_FROM": "1",
                   "PREFECT_HOME": str(Path(tmp) / f"prefect-{workers}"), "GIODQ_SERVER_KEEP_S": "0"}
            t0 = time.perf_counter()
            subprocess.run(["uv", "run", "giodq", "run", str(src), "--out", str(out), "--quiet",
                            "--batch-size", str(batch_size)], cwd=REPO, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            extract = json.loads((out / "run.json").read_text(encoding="utf-8"))["timings_s"]["extract"]
            rates[workers] = pages * copies / extract
            print(f"GIODQ_WORKERS={workers}: extract {extract:.1f} s ({rates[workers]:.1f} pages/s), wall {wall:.1f} s")
        print(f"{copies} copies x {pages} pages, batches of {batch_size}: {cores} cores extract "
              f"{rates[cores] / rates[1]:.2f}x one core's pages per second (goal >= 1.8x on 2 cores)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=None, help="50; with --cores 192")
    ap.add_argument("--pdf", type=Path, default=DEFAULT)
    ap.add_argument("--cores", action="store_true", help="one core against every core, through giodq run")
    ap.add_argument("--batch-size", type=int, default=12)
    a = ap.parse_args()
    data = a.pdf.read_bytes()
    if a.cores:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            on_cores(data, len(pdf.pages), a.copies or 192, a.batch_size)
        return
    a.copies = a.copies or 50
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
