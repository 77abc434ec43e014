"""The pipeline's stages as plain functions: ingest+extract a batch -> validate -> publish.

The Prefect flow (flows/district_run.py) calls each stage as a task; ``run`` calls
them in a row without Prefect, for tests and benchmarks.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from giodq.extract import Extracted, extract_report, failed
from giodq.ingest import open_source
from giodq.publish.dataset import read_dataset, write_dataset
from giodq.publish.docs import build_data_docs
from giodq.validate import findings as fnd
from giodq.validate.frames import validation_frames
from giodq.validate.rules import ERROR, WARNING, not_assessed
from giodq.validate.run import validate

log = logging.getLogger(__name__)


def list_inputs(source_uri: str) -> list[str]:
    """Every input key under the source."""
    return open_source(source_uri).list_keys()


def batches(keys: list[str], size: int) -> list[list[str]]:
    return [keys[i:i + size] for i in range(0, len(keys), size)]


def extract_batch(source_uri: str, keys: list[str]) -> list[Extracted]:
    """Read and extract a batch of inputs. A file that cannot be read is a failed input."""
    source = open_source(source_uri)
    out = []
    for key in keys:
        try:
            data = source.read(key)
        except OSError as e:
            out.append(failed(key, b"", f"read: 无法读取文件（{e}）"))
            continue
        out.append(extract_report(key, data))
    return out


@dataclass
class Validation:
    cells: pd.DataFrame
    results: dict[str, dict]           # suite -> GX validation result (JSON)
    findings: pd.DataFrame
    not_assessed: dict[str, list[str]] = field(default_factory=dict)


def validate_reports(reports: list[Extracted], previous=None) -> Validation:
    """All reports of a run -> GX results over one batch per suite, and the findings read off them.
    ``previous``: (reports, cells) of the dataset already at OUT, for the cross-year rules."""
    frames = validation_frames(reports, previous)
    results = validate(frames)
    return Validation(cells=frames["cells"], results=results, findings=fnd.results_to_findings(results),
                      not_assessed=fnd.not_assessed(frames, results))


def reports_table(reports: list[Extracted], validation: Validation) -> pd.DataFrame:
    """One row per input, readable or not (reports.parquet)."""
    counts = validation.findings.groupby(["report", "severity"]).size()
    rows = []
    for r in reports:
        rows.append({
            "report": r.report, "sha256": r.sha256, "title": r.title, "body": r.body, "year": r.year,
            "format": r.format if r.status == "ok" else None, "status": r.status, "error": r.error,
            "media": r.media, "published": r.published,
            "errors": int(counts.get((r.report, ERROR), 0)), "warnings": int(counts.get((r.report, WARNING), 0)),
            "not_assessed": validation.not_assessed.get(r.report, []) if r.status == "ok" else None,
            "notes": r.problems if r.status == "ok" else None,
        })
    df = pd.DataFrame(rows)
    df["year"] = df["year"].astype("Int64")
    return df


def run_record(run_id: str, source: str, out: Path, started: datetime, reports: list[Extracted],
               validation: Validation, timings: dict[str, float], docs_index: Path) -> dict:
    """The run record (run.json): when, inputs, counts, failures, findings by rule, timings."""
    f = validation.findings
    return {
        "run_id": run_id,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "out": str(out),
        "inputs": len(reports),
        "ok": sum(r.status == "ok" for r in reports),
        "failed": [{"report": r.report, "error": r.error} for r in reports if r.status != "ok"],
        "formats": dict(Counter(r.format for r in reports if r.status == "ok")),
        "findings": {"total": len(f), "by_rule": {k: int(v) for k, v in f.groupby("rule").size().items()},
                     "by_severity": {k: int(v) for k, v in f.groupby("severity").size().items()}},
        "rules_not_assessed": [{"rule": r.id, "title": r.title, "why": "本版本尚未实现 / not implemented yet"}
                               for r in not_assessed()],
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "data_docs": str(docs_index),
    }


def publish(out: Path, table: pd.DataFrame, validation: Validation, record: dict,
            changed: set[str] | None = None) -> dict:
    """Write the dataset (``table``: reports_table), the Data Docs and run.json under OUT.
    ``changed``: the reports a rerun touched; the other report pages are kept as they are."""
    t0 = time.perf_counter()
    write_dataset(out, table, validation.cells, validation.findings)
    index = build_data_docs(validation.results, out / "data_docs", table, validation.findings, validation.cells,
                            record["source"], changed)
    record = record | {"data_docs": str(index)}
    record["timings_s"]["publish"] = round(time.perf_counter() - t0, 3)
    text = json.dumps(record, ensure_ascii=False, indent=2)
    # the history keeps every run's record (runs/<started>-<id>.json); run.json is the latest
    history = out / "runs"
    history.mkdir(exist_ok=True)
    (history / f"{record['started'][:19].replace(':', '')}-{record['run_id'][:8]}.json").write_text(text, encoding="utf-8")
    (out / "run.json").write_text(text, encoding="utf-8")
    return record


def run(source: str, out: str | Path, batch_size: int = 200) -> dict:
    """The whole pipeline without Prefect (tests, benchmarks). Returns the run record."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    reports = [r for keys in batches(list_inputs(source), batch_size) for r in extract_batch(source, keys)]
    t1 = time.perf_counter()
    validation = validate_reports(reports, read_dataset(out))
    t2 = time.perf_counter()
    record = run_record(uuid.uuid4().hex, source, out, started, reports, validation,
                        {"extract": t1 - t0, "validate": t2 - t1}, out / "data_docs" / "index.html")
    return publish(out, reports_table(reports, validation), validation, record)
