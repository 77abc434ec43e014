"""Rerun one report after its unit uploads a corrected file: re-read it, replace its rows in the
dataset at OUT, re-check what depends on it, rebuild the site, and record what changed.

What depends on a report: its own rules, the cross-year rules of the same unit's report of the
next year (whose 上年结转 is compared with this report's 结转下年度), and the district's coverage
(form.missing: the unit may have published now), drawn against the roster and years the run
checked against unless the rerun names others. Every other report's findings are left as they were.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from giodq import preflight
from giodq.categorical import concat
from giodq.district.scope import District, district_for_rerun
from giodq.extract import Extracted
from giodq.ingest import key_as_given, open_source
from giodq.pipeline import (
    extract_batch,
    out_uri,
    publish,
    reports_table,
    run_record,
    validate_reports,
)
from giodq.publish import store
from giodq.publish.lock import lock
from giodq.validate.duplicates import (
    duplicate_groups,
    duplicates_record,
    flag_duplicates,
)
from giodq.update import recount, without
from giodq.validate.rules import NO_REPORT, RULES
from giodq.validate.spool import all_cells

CROSS_YEAR = tuple(rule.id for rule in RULES if rule.id.startswith("cross_year."))
CROSS_YEAR_SUITES = {suite for rule in RULES if rule.id in CROSS_YEAR for suite in rule.suites}


def _from_dataset(row: pd.Series, cells: pd.DataFrame) -> Extracted:
    """A report as the dataset holds it (metadata and raw cells, no narrative): enough to
    re-check its cross-year rules."""
    mine = cells[cells["report"] == row["report"]]
    raw = {k: (None if pd.isna(v) else v) for k, v in zip(mine["key"], mine["raw"])}
    year = None if pd.isna(row["year"]) else int(row["year"])
    hashes = row.get("sentence_hashes")   # cross_year.copied compares the narrative's sentences
    scanned = row.get("ocr")   # a scan's findings stay warnings when its cross-year rules are re-checked
    return Extracted(report=row["report"], sha256=row["sha256"], body=row["body"], year=year,
                     format=row["format"], raw=raw, scanned=bool(pd.notna(scanned) and scanned),
                     # missing: None, NaN or pd.NA (a dataset written before the column, beside a new row)
                     sentence_hashes=list(hashes) if pd.api.types.is_list_like(hashes) else [])


def _successors(report: Extracted, reports: pd.DataFrame, link: pd.Series) -> pd.DataFrame:
    """Readable reports of the same unit (``link``: report -> the unit the years are compared by)
    on the year after."""
    mine = link.get(report.report)
    if report.year is None or not isinstance(mine, str):
        return reports.iloc[0:0]
    same = reports["report"].map(link) == mine
    return reports[same & (reports["year"] == report.year + 1) & (reports["status"] == "ok")]


def _identity(findings: pd.DataFrame) -> dict[tuple, str]:
    return {(f.report, f.rule, f.where, f.sentence if isinstance(f.sentence, str) else ""): f.message
            for f in findings.itertuples()}


def rerun(key: str, source: str, out: str | Path, roster: str | None = None, years: str | None = None) -> dict:
    """Rerun report ``key`` from ``source`` into the dataset at ``out``. Returns the run record,
    which lists the findings that appeared and the ones the correction resolved."""
    out = out_uri(out)
    key = key_as_given(source, key)   # also the full object key, or a path under SOURCE
    preflight.check_rerun(key, source, out)
    district = district_for_rerun(out, roster, years, store.current(out) or {})   # refused before any work
    with lock(out, f"rerun {key}"):
        return _rerun(key, source, out, district)


def _rerun(key: str, source: str, out: str, district: District) -> dict:
    old_reports, old_cells, old_findings = store.read_dataset(out, full=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    ref = open_source(source).ref(key)
    [report] = extract_batch(source, [key])
    report.version = ref.version
    t1 = time.perf_counter()

    others = old_reports[old_reports["report"] != key]
    other_cells = without(old_cells, {key})
    district = District(district.roster, district.years, others)
    validation = validate_reports([report], (others, other_cells), district=district)
    new_row = reports_table([report], validation)
    cells = concat([other_cells, all_cells(validation.cells)])
    reports = pd.concat([others, new_row], ignore_index=True)
    # the units of the whole district as the validation matched them (a new spelling may link
    # others), and its duplicates: a corrected file may end (or start) one
    units = validation.units.set_index("report")
    for column in ("unit", "unit_match", "spelling", "level"):
        reports[column] = reports["report"].map(units[column]).astype("object")
    reports = reports.drop(columns=["duplicates", "duplicate_kind"], errors="ignore").join(flag_duplicates(reports))

    # the next year's report compares its 上年结转 with this one: re-check its cross-year rules
    successors = _successors(report, reports, units["link"])
    later = [_from_dataset(row, cells) for _, row in successors.iterrows()]
    redo = (validate_reports(later, (reports, cells), only=CROSS_YEAR_SUITES, district=District(district.roster))
            if later else None)
    touched = [key] + list(successors["report"])
    # form.missing is drawn over the whole district again (validation's, with the others)
    kept = old_findings[~((old_findings["report"] == key) | (old_findings["rule"] == "form.missing")
                          | (old_findings["report"].isin(successors["report"]) & old_findings["rule"].isin(CROSS_YEAR)))]
    parts = [kept, validation.findings]
    if redo is not None:
        parts.append(redo.findings[redo.findings["rule"].isin(CROSS_YEAR)])
    # a district with no findings at all is no special case: the frames keep their columns
    findings = pd.concat(parts, ignore_index=True).sort_values(["report", "rule"], kind="stable").reset_index(drop=True)
    reports = recount(reports, findings)
    t2 = time.perf_counter()

    compared = [*touched, NO_REPORT]   # and the district's form.missing: a unit may have published now
    before = _identity(old_findings[old_findings["report"].isin(compared)])
    after = _identity(findings[findings["report"].isin(compared)])
    record = run_record(uuid.uuid4().hex, source, out, started, [report], validation,
                        {"extract": t1 - t0, "validate": t2 - t1}, old_reports[old_reports["report"] == key], district)
    record |= {
        "kind": "rerun", "rerun": key, "rechecked": touched[1:],
        "duplicates": duplicates_record(duplicate_groups(reports)),
        "appeared": [{"report": k[0], "rule": k[1], "where": k[2], "message": m}
                     for k, m in after.items() if k not in before],
        "resolved": [{"report": k[0], "rule": k[1], "where": k[2], "message": m}
                     for k, m in before.items() if k not in after],
        "findings": {"total": len(findings),
                     "by_rule": {k: int(v) for k, v in findings.groupby("rule").size().items()},
                     "by_severity": {k: int(v) for k, v in findings.groupby("severity").size().items()}},
    }
    validation.cells, validation.findings = cells, findings
    return publish(out, reports, validation, record, changed=set(touched))
