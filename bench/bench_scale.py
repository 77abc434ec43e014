"""The scale benchmark: `giodq run` on N reports against floors measured on the same files.

    uv run python bench/bench_scale.py [--reports 1000 10000 50000] [--input distinct|repeated]
                                       [--dask] [--no-serial-floor] [--keep DIR] [--nightly N] [--again N]

For each N: writes the input (--input distinct: every copy a unit of its own, seeds.distinct_folder;
repeated: exact copies, seeds.seed_folder), runs the public command `uv run giodq run SRC --out OUT
--quiet` from the repo root with a fresh PREFECT_HOME, and measures its wall time and the peak RSS
of the largest single process in its tree (psutil, polled every 0.2 s: a shorter peak can be
missed). run.json gives the stages' times (timings_s) and, when the run records them, the stages'
peak RSS (memory_mb; "—" when absent). Then the floors, on the same files in this process:

  pool     extract_report over all files in a ProcessPoolExecutor(os.cpu_count()), chunksize 50
  serial   the same in one process, one file after the other (not with --no-serial-floor)
  GX       one bare GX batch: validate.run.validate(validation_frames(reports)), warmed up first
           (building the frames is timed apart, and not part of the floor)
  files    writing N files of the average size of OUT's data_docs/reports/*.html

Prints the machine, then one table of the runs (stage time / floor ratios, memory) and one of the
floors, each as aligned text and as Markdown. --dask: the largest N again on a Dask LocalCluster
of 2 single-threaded workers started here (`--dask-address`), its wall and peak RSS (giodq's process
tree and the cluster's processes apart), and its dataset compared with the default run's
(compare_parquet.compare). --nightly N: after the run of N reports, one file changed and the
run repeated on the same OUT and Prefect home (the extraction cache warm). --again N: then one more
file changed and the district checked whole again on that OUT (GIODQ_UPDATE_UP_TO=0), as a
province where more changed than an update takes: it reads the dataset at OUT for the cross-year
rules. --keep DIR keeps the OUT folders under DIR (out-<input>-<N>[-dask]).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil

from compare_parquet import compare  # bench/compare_parquet.py
from seeds import distinct_folder, seed_folder  # bench/seeds.py

from giodq.extract import extract_report
from giodq.validate.frames import validation_frames
from giodq.validate.run import validate

REPO = Path(__file__).resolve().parents[1]
STAGES = ("extract", "validate", "publish")
MEMORY = ("extract", "extract_workers", "validate", "publish")
DASH = "—"


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "--no-optional-locks", "diff", "--quiet", "HEAD"], cwd=REPO, check=False).returncode != 0
    return (f"machine: {os.cpu_count()} CPUs ({model}), {psutil.virtual_memory().total / 2**30:.1f} GiB RAM, "
            f"Python {platform.python_version()}, giodq {commit}{' + uncommitted changes' if dirty else ''}")


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _label(p: psutil.Process) -> str:
    try:
        cmd = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(p.cmdline()[:4]))
    except psutil.Error:
        cmd = "?"
    return cmd[:60]


def nightly(src: Path, out: Path, work: Path, full_wall: float) -> str:
    """The next night's run on the same OUT and Prefect home, after one file changed: its wall
    against the full run's."""
    changed = sorted(src.iterdir())[len(list(src.iterdir())) // 2]
    changed.write_bytes(changed.read_bytes() + "\n（更正）\n".encode())
    r = run_giodq(src, out, work)
    t = r["timings"]
    return (f"nightly, one file of {len(list(src.iterdir())):,} changed ({changed.name}): wall {r['wall']:.1f} s = "
            f"{100 * r['wall'] / full_wall:.0f} % of the full run's {full_wall:.1f} s; "
            + ", ".join(f"{k} {_s(t.get(k))} s" for k in STAGES) + f"; largest process {r['peak_mb']:.0f} MB")


def again(src: Path, out: Path, work: Path, first: dict) -> str:
    """The district run again on the same OUT and Prefect home after one more file changed, checked
    whole (GIODQ_UPDATE_UP_TO=0: as a province where more changed than an update takes): its wall
    and largest process against the first run's (``first``: run_giodq's)."""
    files = sorted(src.iterdir())
    changed = files[len(files) // 3]
    changed.write_bytes(changed.read_bytes() + "\n（再次更正）\n".encode())
    r = run_giodq(src, out, work, env={"GIODQ_UPDATE_UP_TO": "0"})
    t = r["timings"]
    return (f"again, checked whole after one file of {len(files):,} changed ({changed.name}): wall {r['wall']:.1f} s "
            f"(first run {first['wall']:.1f} s); " + ", ".join(f"{k} {_s(t.get(k))} s" for k in STAGES)
            + f"; largest process {r['peak_mb']:.0f} MB (first run {first['peak_mb']:.0f} MB)")


def run_giodq(src: Path, out: Path, work: Path, dask_address: str | None = None,
              cluster: list[psutil.Process] = (), env: dict[str, str] | None = None) -> dict:
    """`uv run giodq run SRC --out OUT --quiet` -> wall, peak RSS (largest process of its tree, and of
    ``cluster``'s processes), run.json's timings and memory."""
    # a fresh shell's run: its own Prefect home, and a server that stops with it (none kept from before)
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect-home"), "GIODQ_SERVER_KEEP_S": "0", **(env or {})}
    cmd = ["uv", "run", "giodq", "run", str(src), "--out", str(out), "--quiet"]
    if dask_address:
        cmd += ["--dask-address", dask_address]
    peak = {"tree": (0, ""), "cluster": (0, "")}
    with open(work / "giodq.log", "wb") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            for part, procs in (("tree", _tree(root)), ("cluster", [q for c in cluster for q in _tree(c)])):
                for p in procs:
                    try:
                        rss = p.memory_info().rss
                    except psutil.Error:
                        continue
                    if rss > peak[part][0]:
                        peak[part] = (rss, _label(p))
            time.sleep(0.2)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {proc.returncode}:\n" + (work / "giodq.log").read_text()[-3000:])
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {"wall": wall, "timings": record.get("timings_s", {}), "memory": record.get("memory_mb") or {},
            "peak_mb": peak["tree"][0] / 2**20, "peak_proc": peak["tree"][1],
            "cluster_mb": peak["cluster"][0] / 2**20, "cluster_proc": peak["cluster"][1]}


def _extract(path: Path):
    return extract_report(path.name, path.read_bytes())


def floors(src: Path, out: Path, work: Path, serial: bool) -> dict:
    files = sorted(src.iterdir())
    f = {}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        reports = list(pool.map(_extract, files, chunksize=50))
    f["pool"] = time.perf_counter() - t0
    if serial:
        t0 = time.perf_counter()
        for path in files:
            _extract(path)
        f["serial"] = time.perf_counter() - t0
    validate(validation_frames(reports[:5]))   # warm up: GX registers its metrics on first use
    t0 = time.perf_counter()
    frames = validation_frames(reports)
    f["frames"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    validate(frames)
    f["gx"] = time.perf_counter() - t0
    del frames, reports
    pages = list((out / "data_docs" / "reports").glob("*.html"))
    f["page_kb"] = sum(p.stat().st_size for p in pages) / len(pages) / 1024
    body = b"x" * round(f["page_kb"] * 1024)
    folder = work / "files-floor"
    folder.mkdir()
    t0 = time.perf_counter()
    for i in range(len(files)):
        (folder / f"{i:06d}.html").write_bytes(body)
    f["files"] = time.perf_counter() - t0
    shutil.rmtree(folder)
    return f


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Aligned text, then the same table in Markdown."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    text = ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in [headers] + rows]
    md = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(text) + "\n\n" + "\n".join(md)


def _s(x) -> str:
    return DASH if x is None else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def _ratio(stage, floor) -> str:
    return DASH if stage is None or not floor else f"×{stage / floor:.1f}"


def _mb(x) -> str:
    return DASH if x is None else f"{x:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--input", choices=("distinct", "repeated"), default="distinct")
    ap.add_argument("--dask", action="store_true", help="the largest N also on a 2-worker Dask LocalCluster")
    ap.add_argument("--no-serial-floor", action="store_true", help="skip the single-process extraction floor")
    ap.add_argument("--serial-up-to", type=int, default=10_000, metavar="N",
                    help="measure the single-process floor only up to N reports (default 10000)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the OUT folders under this folder")
    ap.add_argument("--nightly", type=int, default=None, metavar="N",
                    help="after the run of N reports, change one file and run again (the extraction cache warm)")
    ap.add_argument("--again", type=int, default=None, metavar="N",
                    help="after the run of N reports (and --nightly), change one file and check the district whole again")
    a = ap.parse_args()
    if shutil.which("uv") is None:
        sys.exit("uv is not on PATH")
    print(machine())
    print(f"input: {a.input} ({'every copy a unit of its own' if a.input == 'distinct' else 'exact copies of the 5 seeds'})")
    make = distinct_folder if a.input == "distinct" else seed_folder
    results, floor_rows, extra_lines = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        keep = a.keep.resolve() if a.keep else Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        for n in sorted(a.reports):
            work = Path(tmp) / f"n{n}"
            work.mkdir()
            src = make(work / "src", n)
            out = keep / f"out-{a.input}-{n}"
            if out.exists():
                sys.exit(f"{out} exists: --keep wants a folder without earlier outputs")
            print(f"N={n}: giodq run ...", flush=True)
            r = run_giodq(src, out, work)
            print(f"N={n}: wall {r['wall']:.1f} s, timings {r['timings']}, memory_mb {r['memory'] or DASH}, "
                  f"largest process {r['peak_mb']:.0f} MB ({r['peak_proc']}); floors ...", flush=True)
            f = floors(src, out, work, serial=not a.no_serial_floor and n <= a.serial_up_to)
            t, m = r["timings"], r["memory"]
            other = r["wall"] - sum(t.get(k, 0) for k in STAGES)   # start-up, listing, Prefect, exit
            results.append([f"{n:,}", _s(r["wall"]), _s(other),
                            _s(t.get("extract")), _ratio(t.get("extract"), f["pool"]), _ratio(t.get("extract"), f.get("serial")),
                            _s(t.get("validate")), _ratio(t.get("validate"), f["gx"]),
                            _s(t.get("publish")), _ratio(t.get("publish"), f["files"]),
                            *(_mb(m.get(k)) for k in MEMORY), _mb(r["peak_mb"])])
            floor_rows.append([f"{n:,}", _s(f["pool"]), _s(f.get("serial")), _s(f["frames"]), _s(f["gx"]),
                               _s(f["files"]), f"{f['page_kb']:.1f}"])
            if a.nightly == n:
                extra_lines.append(nightly(src, out, work, r["wall"]))
            if a.again == n:
                extra_lines.append(again(src, out, work, r))
            if a.dask and n == max(a.reports):
                extra_lines += run_dask(src, out, keep / f"out-{a.input}-{n}-dask", work, n)
            if not a.keep:
                shutil.rmtree(out)
            shutil.rmtree(work)
    print("\nruns: stage seconds from run.json (other = wall - the three stages), ×pool/×serial/×GX/×files = stage time / floor; "
          "RSS MB per stage from run.json's memory_mb; largest = peak RSS of the largest process (polled)\n")
    print(table(["N", "wall s", "other s", "extract s", "×pool", "×serial", "validate s", "×GX", "publish s", "×files",
                 "MB extract", "MB workers", "MB validate", "MB publish", "MB largest"], results))
    print(f"\nfloors (seconds; pool = {os.cpu_count()} processes; frames = validation_frames, not in the GX floor)\n")
    print(table(["N", "pool extract", "serial extract", "frames", "GX validate", "write N files", "page KB"], floor_rows))
    if extra_lines:
        print("\n" + "\n".join(extra_lines))
    if a.keep:
        print(f"\nOUT folders kept under {keep}")


def run_dask(src: Path, out_default: Path, out: Path, work: Path, n: int) -> list[str]:
    """The same input on a 2-worker LocalCluster; its figures and its dataset against the default run's."""
    from dask.distributed import LocalCluster

    print(f"N={n}: giodq run on a Dask LocalCluster ...", flush=True)
    (work / "dask").mkdir()
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        processes = psutil.Process().children(recursive=True)   # the cluster's nannies and workers
        r = run_giodq(src, out, work / "dask", dask_address=cluster.scheduler_address, cluster=processes)
    diffs = compare(out_default, out)
    t, m = r["timings"], r["memory"]
    lines = [f"dask, N={n:,} (LocalCluster, 2 workers x 1 thread): wall {r['wall']:.1f} s, "
             + ", ".join(f"{k} {_s(t.get(k))} s" for k in STAGES),
             "  memory_mb: " + ", ".join(f"{k} {_mb(m.get(k))}" for k in MEMORY),
             (f"  largest process of giodq's tree {r['peak_mb']:.0f} MB ({r['peak_proc']}); "
              f"largest cluster process {r['cluster_mb']:.0f} MB ({r['cluster_proc']})"),
             "  dataset vs the default runner's: " + ("same" if not diffs else f"{len(diffs)} differences")]
    lines += [f"    {d}" for d in diffs[:20]]
    return lines


if __name__ == "__main__":
    main()
