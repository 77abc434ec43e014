"""The pipeline's stages as plain functions: ingest+extract a batch -> validate -> publish.

The Prefect flow (flows/district_run.py) calls each stage as a task; ``run`` calls
them in a row without Prefect, for tests and benchmarks.

The validating and publishing stages import GX where they run, not here: a process pool's worker
unpickles the flow (Prefect sends it with each task's context) and so imports the flow's module and
this one, and GX would cost every extraction worker ~2.5 s and ~110 MB (tests/test_imports.py).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import resource
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from giodq import memory, preflight
from giodq.district.figures import summary_frame
from giodq.district.scope import District
from giodq.extract import Extracted
from giodq.extract.batch import InputChanged, code_version, extract_batch, read_inputs, sha256s  # noqa: F401 (the stage's API)
from giodq.extract.packed import pack, unpack
from giodq.extract.waiting import Waiting, WaitingReports
from giodq.ingest import UNREAD, InputRef, open_source
from giodq.publish import store
from giodq.publish.dataset import write_dataset
from giodq.publish.lock import lock
from giodq.publish.review import Reviews
from giodq.review import loop as review_loop
from giodq.review.inbox import apply_inbox
from giodq.settings import settings
from giodq.validate.duplicates import (
    duplicate_groups,
    duplicates_record,
    flag_duplicates,
    inputs_frame,
)
from giodq.validate.chunks import unit_chunks
from giodq.validate.frames import district_frames, other_reports, validation_frames
from giodq.validate.rules import ERROR, WARNING, not_assessed
from giodq.validate.spool import CellSpool

log = logging.getLogger(__name__)
memory.hold_less()   # the stages below run in this process, one after the other (memory.py)


def list_inputs(source_uri: str) -> list[InputRef]:
    """Every input under the source, with its version tag."""
    return open_source(source_uri).list_inputs()


@dataclass
class Plan:
    """What a run has to read, against the dataset already at OUT."""
    refs: list[InputRef]
    known: dict[str, str]          # key -> sha256, for inputs whose version is the one already read
    unchanged: bool                # same inputs, same versions, same code: nothing to redo


def plan(refs: list[InputRef], current_record: dict | None, current_reports: pd.DataFrame | None,
         district: str | None = None) -> Plan:
    """``district``: district_signature of this run's roster and years (another roster: not unchanged)."""
    if current_record is None or current_reports is None or "version" not in current_reports:
        return Plan(refs, {}, False)
    cur = current_reports
    # an input that could not be read last time is read again: the next run picks it up
    unread = cur["error"].fillna("").str.startswith(UNREAD) if "error" in cur else False
    readable = cur[cur["sha256"].notna() & cur["version"].notna() & ~unread]
    seen = dict(zip(zip(readable["report"], readable["version"]), readable["sha256"]))
    known = {r.key: seen[(r.key, r.version)] for r in refs if (r.key, r.version) in seen}
    unchanged = (current_record.get("code") == code_version() and len(known) == len(refs) == len(cur)
                 and current_record.get("district_signature", district_signature(District()))
                 == (district or district_signature(District())))
    return Plan(refs, known, unchanged)


def uncached(todo: Plan, current_record: dict | None) -> list[str]:
    """The inputs whose extraction the cache cannot hold: the new and changed ones, or all of them
    after a change of code (the cache key has the code's digest)."""
    same_code = bool(current_record) and current_record.get("code") == code_version()
    return [r.key for r in todo.refs if not (same_code and r.key in todo.known)]


def update_keys(todo: Plan, current_record: dict | None, current: tuple | None, district: District) -> list[str] | None:
    """The new and changed inputs, when they are few enough for the run to check only them
    (giodq/update.py, GIODQ_UPDATE_UP_TO); None: the run checks the whole district."""
    from giodq.update import few_changed

    return few_changed(todo.refs, todo.known, current_record, district_signature(district),
                       current[0] if current else None, settings().update_up_to)


def buckets(refs: list[InputRef], size: int) -> list[list[InputRef]]:
    """Inputs in batches of about ``size`` that stay the same from run to run (by a hash of the
    key, not by position), so that one new file leaves the other batches' cached results valid."""
    if not refs:
        return []
    n = 1 << max(0, math.ceil(math.log2(len(refs) / max(1, size))))
    parts: list[list[InputRef]] = [[] for _ in range(n)]
    for r in refs:
        parts[int(hashlib.sha1(r.key.encode()).hexdigest()[:8], 16) % n].append(r)
    return [p for p in parts if p]


def with_versions(reports: list[Extracted], refs: list[InputRef]) -> WaitingReports:
    """``reports`` waiting for validation (Waiting), in the listing's order."""
    waiting = Waiting(refs)
    waiting.add(reports)
    return waiting.in_order()


def changes(inputs: pd.DataFrame, current_reports: pd.DataFrame | None) -> dict[str, list[str]]:
    """Inputs (report, sha256) new or with other bytes than in the dataset at OUT, and inputs gone
    from the source."""
    before = {} if current_reports is None else dict(zip(current_reports["report"], current_reports.get("sha256", [])))
    now = set(inputs["report"])
    return {"changed": sorted(k for k, sha in zip(inputs["report"], inputs["sha256"]) if before.get(k) != sha),
            "removed": sorted(k for k in before if k not in now)}


@dataclass
class Validation:
    cells: pd.DataFrame | CellSpool    # a province's on disk, by part (validate/spool.py: cell_parts, all_cells)
    results: dict[str, dict]           # suite -> GX validation result (JSON)
    findings: pd.DataFrame
    not_assessed: dict[str, list[str]] = field(default_factory=dict)
    units: pd.DataFrame | None = None      # report -> unit, unit_match, spelling, level (district/coverage.py)
    coverage: pd.DataFrame | None = None   # dataset/coverage.parquet
    roster: pd.DataFrame | None = None     # dataset/roster.parquet: the roster the run checked against
    links: dict[str, str] = field(default_factory=dict)   # body -> the unit the years are compared by


def validate_reports(reports: Sequence[Extracted], previous=None, only: set[str] | None = None,
                     district: District | None = None, chunk: int | None = None) -> Validation:
    """All reports of a run -> GX results over one batch per suite, and the findings read off them.
    ``previous``: (reports, cells) of the dataset already at OUT, for the cross-year rules.
    ``only``: run just these suites (a rerun re-checking a neighbour's cross-year rules).
    ``district``: the roster, the years of the run and a rerun's other reports (coverage).
    A run of more than ``chunk`` reports (GIODQ_VALIDATE_CHUNK) is validated a chunk at a time, each
    unit's reports in one chunk (the cross-year rules compare them), so that the frames of a province
    are never all in memory: the district's own frames (units, coverage) are drawn once, the coverage
    suite runs once, and each suite's results are merged into the result GX gives for the whole."""
    from giodq.validate import findings as fnd   # these import GX: not at the top (see the module's note)
    from giodq.validate.merge import merge_suite_results
    from giodq.validate.run import Checker
    from giodq.validate.suites import load_suites

    district = district or District()
    suites = {n: s for n, s in load_suites().items() if not only or n in only}
    previous = other_reports(previous, reports)
    whole = district_frames(reports, previous, district)
    units, coverage, links = whole
    memory.give_back()   # what reading the reports and matching their names left in glibc's heap, not under the chunks'
    parts, years, skipped = [], [], fnd.NotAssessed()
    chunks = unit_chunks(reports, links, chunk or settings().validate_chunk)
    spool = cells = CellSpool() if len(chunks) > 1 else None   # a province's cells wait on disk (validate/spool.py)
    with Checker(suites) as checker:
        for i, part in enumerate(chunks):
            frames = validation_frames([unpack(r) for r in part], previous, district=district, whole=whole)
            # the coverage suite checks the district's frame, the same in every chunk: once
            results = checker.validate(frames, [n for n in suites if i == 0 or n != "coverage"])
            parts.append(results)
            if spool is not None:
                spool.add(frames["cells"])
            else:
                cells = frames["cells"]   # the one chunk's
            years.append(frames["reports"][["report", "year"]])
            missed = fnd.not_assessed(frames, results)
            skipped.update(missed)
            skipped.why.update(missed.why)
            del frames, results, missed
            if len(chunks) > 1:
                log.info("validated chunk %d/%d: %d reports", i + 1, len(chunks), len(part))
                if i + 1 < len(chunks):
                    checker.forget()   # the exit lets go of the last
                memory.give_back()   # what the chunk's frames left in glibc's heap, not kept for the next
    results = {n: merge_suite_results([p[n] for p in parts if n in p]) for n in suites}
    units_years = units.merge(pd.concat(years, ignore_index=True), on="report", how="left")
    return Validation(cells=cells, results=results,
                      findings=fnd.with_units(fnd.scanned_as_warnings(fnd.results_to_findings(results),
                                                                      {r.report for r in reports if r.scanned}),
                                              units_years),
                      not_assessed=skipped, units=units, coverage=coverage,
                      roster=district.roster.frame() if district.roster is not None else None,
                      links=links)   # the dict the frames were drawn from: not a copy of a province's bodies


def reports_table(reports: Sequence[Extracted], validation: Validation) -> pd.DataFrame:
    """One row per input, readable or not (reports.parquet)."""
    # plain dicts: a pandas lookup per report and column costs seconds for a province
    counts = validation.findings.groupby(["report", "severity"]).size().to_dict()
    units = (validation.units.drop_duplicates("report").set_index("report")
             .reindex(columns=["unit", "unit_match", "spelling", "level", "unit_note"]).to_dict("index")
             if validation.units is not None and len(validation.units) else {})
    unit = lambda key, column: _text(units[key][column]) if key in units else None  # noqa: E731
    # a tuple a report, not a dict: a province's rows are all in memory before the frame is
    names = ("report", "sha256", "version", "title", "body", "year", "format", "status", "error", "media", "published",
             "ocr", "errors", "warnings", "not_assessed", "notes", "unit", "unit_match", "spelling", "level",
             "sentence_hashes")
    rows = []
    for r in reports:
        ok = r.status == "ok"
        rows.append((
            r.report, r.sha256, r.version, r.title, r.body, r.year, r.format if ok else None, r.status, r.error,
            r.media, r.published, r.scanned if ok else None,
            int(counts.get((r.report, ERROR), 0)), int(counts.get((r.report, WARNING), 0)),
            validation.not_assessed.get(r.report, []) if ok else None,
            r.problems + getattr(validation.not_assessed, "why", {}).get(r.report, [])
            + ([unit(r.report, "unit_note")] if unit(r.report, "unit_match") == "ambiguous" else []) if ok else None,
            # district/names.py: the roster's unit (the body normalised without a roster), and how
            unit(r.report, "unit"), unit(r.report, "unit_match"), unit(r.report, "spelling"), unit(r.report, "level"),
            # cross_year.copied next year; as the reports hold them (8 bytes each), lists when written
            r.sentence_hashes if ok else None,
        ))
    df = pd.DataFrame.from_records(rows, columns=names)
    df["year"] = df["year"].astype("Int64")
    return df.join(flag_duplicates(df))   # duplicates, duplicate_kind


def _text(value) -> str | None:
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else str(value)


def _with_units(frame: pd.DataFrame, units: pd.DataFrame | None) -> pd.DataFrame:
    """A reports frame with each report's unit (duplicates are of one unit, whatever the spelling)."""
    if units is None or not len(units):
        return frame
    return frame.merge(units[["report", "unit"]].astype({"report": "object"}), on="report", how="left")


def coverage_record(coverage: pd.DataFrame | None, roster: pd.DataFrame | None, district: District | None) -> dict:
    """run.json's ``district``: the roster, the years and the coverage by status."""
    cov = coverage if coverage is not None else pd.DataFrame(columns=["status", "year"])
    return {"roster": district.roster.source if district and district.roster else None,
            "units": int(len(roster)) if roster is not None else None,
            "years": sorted(int(y) for y in cov["year"].unique()),
            "years_given": list(district.years) if district else [],
            "coverage": {k: int(v) for k, v in cov.groupby("status").size().items()}}


def peak_rss_mb(children: bool = False) -> float:
    """The peak resident memory so far of this process, or of the largest of its finished children
    (the extraction pool's workers), in MB: run.json's ``memory_mb`` per stage."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024, 1)   # kB on Linux


def run_record(run_id: str, source: str, out: str, started: datetime, reports: Sequence[Extracted] | pd.DataFrame,
               validation: Validation, timings: dict[str, float], current_reports: pd.DataFrame | None = None,
               district: District | None = None, memory: dict[str, float] | None = None) -> dict:
    """The run record (run.json): when, inputs, what changed, counts, failures, findings by rule,
    duplicate reports, timings and peak memory by stage. ``reports``: the run's extracted reports,
    or the reports table of the whole district (an update: giodq/update.py)."""
    f = validation.findings
    table = reports if isinstance(reports, pd.DataFrame) else _with_units(
        inputs_frame(reports, extra=("error", "format")),
        validation.units)
    ok = table["status"] == "ok"
    return {
        "run_id": run_id,
        "kind": "run",
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "out": out,
        "code": code_version(),
        "district_signature": district_signature(district or District()),
        "district": coverage_record(validation.coverage, validation.roster, district),
        "inputs": len(table),
        "ok": int(ok.sum()),
        **changes(table, current_reports),
        "failed": [{"report": k, "error": e} for k, e, good in zip(table["report"], table["error"], ok) if not good],
        "formats": dict(Counter(table.loc[ok, "format"])),
        "findings": {"total": len(f), "by_rule": {k: int(v) for k, v in f.groupby("rule").size().items()},
                     "by_severity": {k: int(v) for k, v in f.groupby("severity").size().items()}},
        "rules_not_assessed": [{"rule": r.id, "title": r.title, "why": "本版本尚未实现 / not implemented yet"}
                               for r in not_assessed()],
        # groups of duplicate reports: {kind: same_content | same_body_year, body, year, reports}
        "duplicates": duplicates_record(duplicate_groups(table)),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "memory_mb": memory or {},
        "data_docs": docs_index(out),
    }


def unchanged_record(run_id: str, source: str, out: str, started: datetime, plan: Plan, current_record: dict,
                     timings: dict[str, float], review: dict | None = None) -> dict:
    """The record of a run that found every input as the current dataset read it: nothing redone
    (``review``: what the inbox's workbooks did, when there were any)."""
    return {"review": review or {}, 
        "run_id": run_id, "kind": "unchanged", "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"), "source": source, "out": out,
        "code": code_version(), "inputs": len(plan.refs), "changed": [], "removed": [],
        "dataset_run_id": current_record["run_id"], "findings": current_record.get("findings"),
        "timings_s": {k: round(v, 3) for k, v in timings.items()}, "data_docs": docs_index(out),
    }


def docs_index(out: str) -> str:
    return f"{out.rstrip('/')}/data_docs/index.html" if store.is_s3(out) else str(Path(out) / "data_docs" / "index.html")


def publish(out: str, table: pd.DataFrame, validation: Validation, record: dict,
            changed: set[str] | None = None) -> dict:
    """Write the dataset (``table``: reports_table), the Data Docs and run.json to OUT as one release
    (a folder or a bucket, see publish/store.py), and the record to OUT's history. The findings get
    their ids and review states first (review/loop.py); decisions are saved once the release is current.
    ``changed``: the reports a rerun touched; the other report pages are kept as they are."""
    t0 = time.perf_counter()
    memory.give_back()   # what validation and the reports' table left in glibc's heap, not under the site's
    stage = review_loop.before_release(out, table, validation.findings, record, changed)
    validation, record, changed = replace(validation, findings=stage.findings), stage.record, stage.changed
    if store.is_s3(out):
        with tempfile.TemporaryDirectory(prefix="giodq-publish-") as work:
            record = _write(Path(work), table, validation, record, changed, t0, None, stage.site)
            store.upload(Path(work), out, record, partial=changed is not None)
            record["timings_s"]["publish"] = round(time.perf_counter() - t0, 3)
    else:
        kept_from = store.current_release(out)
        with store.local_release(out, record) as folder:
            record = _write(folder, table, validation, record, changed, t0, kept_from, stage.site)
    record = review_loop.after_release(out, stage, record)
    store.append_history(out, record)
    return record


def _write(folder: Path, table: pd.DataFrame, validation: Validation, record: dict, changed, t0: float,
           kept_from: Path | None, reviews: Reviews) -> dict:
    from giodq.publish.docs import build_data_docs, run_name   # imports GX (see the module's note)

    district = {"coverage": validation.coverage,
                "summary": summary_frame(validation.coverage, validation.cells) if validation.coverage is not None
                else None}
    memory.give_back()   # the summed cells, not kept under the site's peak
    build_data_docs(validation.results, folder / "data_docs", table, validation.findings, validation.cells,
                    record["source"], changed, kept_from / "data_docs" if kept_from else None, reviews,
                    run_name(record), district=district)
    write_dataset(folder, table, validation.cells, validation.findings, coverage=validation.coverage,
                  summary=district["summary"], roster=validation.roster)
    record = record | {"timings_s": record["timings_s"] | {"publish": round(time.perf_counter() - t0, 3)},
                       "memory_mb": record.get("memory_mb", {}) | {"publish": peak_rss_mb()}}
    (folder / "run.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return record


def out_uri(out: str | Path) -> str:
    """OUT as given: s3://... kept, a folder made absolute (as the command's checks take it)."""
    return preflight.store_uri(str(out))


def run(source: str, out: str | Path, batch_size: int = 200, roster: str | None = None,
        years: str | None = None) -> dict:
    """The whole pipeline without Prefect (tests, benchmarks), with the same plan as the flow but no
    extraction cache: an unchanged source ends after the comparison. Returns the run record.
    ``roster``, ``years``: as the command's --roster and --years (GIODQ_ROSTER, GIODQ_YEARS)."""
    out = out_uri(out)
    preflight.check_run(source, out)
    district = preflight.district_of(roster, years)
    with lock(out, "run"):
        return _run(source, out, batch_size, district)


def district_signature(district: District) -> str:
    """What of the district a run depends on besides its inputs: a changed roster redoes the run."""
    roster = district.roster.frame().to_json(orient="records", force_ascii=False) if district.roster else ""
    return hashlib.sha256(f"{roster}\0{district.years}".encode()).hexdigest()[:16]


def _run(source: str, out: str, batch_size: int, district: District | None = None) -> dict:
    district = district or District()
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    refs = list_inputs(source)
    current_record = store.current(out)
    current = store.read_dataset(out, inputs=[r.key for r in refs]) if current_record else None
    todo = plan(refs, current_record, current[0] if current else None, district_signature(district))
    if todo.unchanged:
        record = unchanged_record(uuid.uuid4().hex, source, out, started, todo, current_record,
                                  {"compare": time.perf_counter() - t0}, apply_inbox(out))
        store.append_history(out, record)
        return record
    few = update_keys(todo, current_record, current, district)
    if few:   # few inputs new or changed: check only those, against the dataset (giodq/update.py)
        from giodq import update

        reports = with_versions(extract_batch(source, few), refs)
        record = update.release(source, out, [r.key for r in refs], reports, district, started,
                                {"extract": time.perf_counter() - t0}, {"extract": peak_rss_mb()})
        if not isinstance(record, update.Declined):
            return record
        log.info("checking the whole district: %s", record.why)
    waiting = Waiting(refs)
    for part in buckets(refs, batch_size):
        waiting.add([pack(r) for r in extract_batch(source, [ref.key for ref in part])])
    reports = waiting.in_order()
    del waiting   # the reports hold the file now: it goes with them
    t1, peaks = time.perf_counter(), {"extract": peak_rss_mb()}
    validation = validate_reports(reports, current, district=district)
    t2, peaks["validate"] = time.perf_counter(), peak_rss_mb()
    record = run_record(uuid.uuid4().hex, source, out, started, reports, validation,
                        {"extract": t1 - t0, "validate": t2 - t1}, current[0] if current else None, district, peaks)
    table = reports_table(reports, validation)
    del reports   # the extracted reports are in the table and the cells now: publishing does without them
    return publish(out, table, validation, record)
