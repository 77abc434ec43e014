"""A district run in which few inputs changed (the nightly run, a unit's corrected upload): only the
new and changed reports are read and checked, against the rest of the dataset at OUT, and every
other report keeps its row, findings and page, as in a rerun (giodq/rerun.py). It costs what those
few reports cost, not what the district costs.

The result must be what a full run would make of the dataset at OUT, so the update is taken only
where the other reports' findings cannot depend on what changed. They depend on it only through

- the district's coverage (form.missing) and its duplicates (reports.parquet's ``duplicates``):
  drawn again here over the whole district;
- the cross-year rules of the same unit's report of the year after (its 上年结转 is this one's
  结转下年度), and the units the reports are matched to (a new spelling may link two units):
  where a changed report has such a successor, or another report's unit or link comes out
  otherwise than the dataset has it, ``update`` declines and the run checks the whole district
  (``Declined.why`` says why, in the run's log). So does a run in which an input is gone.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd

from giodq.categorical import concat
from giodq.district.scope import District
from giodq.extract import Extracted
from giodq.extract.batch import code_version, extract_batch
from giodq.pipeline import Validation, peak_rss_mb, publish, reports_table, run_record, validate_reports
from giodq.publish import store
from giodq.validate.duplicates import flag_duplicates
from giodq.validate.rules import ERROR, WARNING
from giodq.validate.spool import all_cells

UNIT_COLUMNS = ["unit", "unit_match", "spelling", "level"]


@dataclass
class Update:
    table: pd.DataFrame      # reports.parquet: every input's row, the re-checked ones new
    validation: Validation   # the whole district's cells and findings; GX results of the few re-checked
    touched: set[str]        # the reports whose pages are drawn again (the others' are kept)


@dataclass
class Declined:
    why: str


def few_changed(refs: list, known: dict[str, str], current_record: dict | None, signature: str,
                current_reports: pd.DataFrame | None, up_to: int) -> list[str] | None:
    """The keys to read (the new and changed inputs) when a run may update the dataset at OUT rather
    than check the district again: OUT's dataset was read by this code against the same roster and
    years, no input is gone, and at most ``up_to`` (GIODQ_UPDATE_UP_TO) are new or changed. None
    otherwise."""
    if (up_to < 1 or current_record is None or current_reports is None
            or current_record.get("code") != code_version() or current_record.get("district_signature") != signature):
        return None
    read = [r.key for r in refs if r.key not in known]
    listed = {r.key for r in refs}
    # an input gone from SOURCE takes the whole district: its page and its successors' rules go too
    if any(k not in listed for k in current_reports["report"]) or not 0 < len(read) <= up_to:
        return None
    return read


def update(source: str, reports: Sequence[Extracted], order: list[str],
           current: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], district: District) -> Update | Declined:
    """Check ``reports`` (the new and changed inputs of ``source``, extracted) against the dataset
    ``current`` (reports, cells, findings: store.read_dataset(full=True)). ``order``: every input's
    key, as listed (the order of the dataset's rows)."""
    old_reports, old_cells, old_findings = current
    again = {r.report for r in reports}
    others = old_reports[~old_reports["report"].isin(again)]
    # last year's reports of the changed ones are read again and checked beside them, as a full run
    # has them (what was written, which rows were placed by position), and their own rows kept
    beside = _last_years(reports, others, district)
    context = extract_batch(source, beside) if beside else []
    validation = validate_reports([*reports, *context], (old_reports, old_cells),
                                  district=District(district.roster, district.years,
                                                    others[~others["report"].isin(beside)]))
    why = (_moved(others, old_reports, validation, district)
           or _dependents(reports, old_reports[old_reports["report"].isin(again)], others, validation.links))
    if why:
        return Declined(why)
    if context:
        cells = all_cells(validation.cells)
        validation = replace(validation, cells=cells[~cells["report"].isin(beside)],
                             findings=validation.findings[~validation.findings["report"].isin(beside)])

    table = pd.concat([others.drop(columns=["duplicates", "duplicate_kind"], errors="ignore"),
                       reports_table(reports, validation).drop(columns=["duplicates", "duplicate_kind"])],
                      ignore_index=True)
    position = {k: i for i, k in enumerate(order)}
    table = table.iloc[table["report"].map(position).argsort(kind="stable")].reset_index(drop=True)
    table = table.join(flag_duplicates(table))
    # a report that a new duplicate joins (or leaves) lists it on its page: drawn again too
    before = dict(zip(old_reports["report"], old_reports["duplicates"])) if "duplicates" in old_reports else {}
    kind = dict(zip(old_reports["report"], old_reports["duplicate_kind"])) if "duplicate_kind" in old_reports else {}
    relisted = {k for k, d, t in zip(table["report"], table["duplicates"], table["duplicate_kind"])
                if k not in again and (_listed(d), _listed(t)) != (_listed(before.get(k)), _listed(kind.get(k)))}

    # the re-checked reports' cells come last: a district's cells are not sorted again for a few
    cells = concat([without(old_cells, again), all_cells(validation.cells)])
    kept = old_findings[~old_findings["report"].isin(again) & (old_findings["rule"] != "form.missing")]
    findings = pd.concat([kept, validation.findings], ignore_index=True)
    findings = findings.sort_values(["report", "rule"], kind="stable").reset_index(drop=True)
    return Update(recount(table, findings), replace(validation, cells=cells, findings=findings), again | relisted)


def release(source: str, out: str, order: list[str], reports: Sequence[Extracted], district: District,
            started: datetime, timings: dict[str, float], memory: dict[str, float]) -> dict | Declined:
    """Update the dataset at OUT with ``reports`` (the new and changed inputs, extracted) and publish
    it as a release; the run record, or Declined when the district must be checked whole."""
    t0 = time.perf_counter()
    current = store.read_dataset(out, full=True)
    result = update(source, reports, order, current, district)
    if isinstance(result, Declined):
        return result
    timings = timings | {"validate": timings.get("validate", 0) + time.perf_counter() - t0}
    record = run_record(uuid.uuid4().hex, source, out, started, result.table, result.validation, timings,
                        current[0], district, memory | {"validate": peak_rss_mb()})
    record["update"] = {"rechecked": sorted(r.report for r in reports), "pages": len(result.touched)}
    return publish(out, result.table, result.validation, record, changed=result.touched)


def without(frame: pd.DataFrame, reports: set[str]) -> pd.DataFrame:
    """``frame`` without the rows of ``reports``, in slices between them: a boolean mask copies each
    of a district's million cells (seconds for Arrow strings), a slice copies none."""
    drop = frame["report"].isin(list(reports)).to_numpy(dtype=bool)
    if not drop.any():
        return frame
    flags = drop.astype("int8")
    starts = (flags[1:] < flags[:-1]).nonzero()[0] + 1   # where a run of kept rows begins
    ends = (flags[1:] > flags[:-1]).nonzero()[0] + 1     # ... and ends
    starts = ([0] if not drop[0] else []) + list(starts)
    ends = list(ends) + ([len(frame)] if not drop[-1] else [])
    return pd.concat([frame.iloc[a:b] for a, b in zip(starts, ends)] or [frame.iloc[0:0]], ignore_index=True)


def recount(table: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """reports.parquet's ``errors`` and ``warnings`` from the findings."""
    counts = findings.groupby(["report", "severity"]).size().unstack(fill_value=0)
    for column, severity in (("errors", ERROR), ("warnings", WARNING)):
        by_report = counts[severity] if severity in counts else pd.Series(dtype="int64")
        table[column] = table["report"].map(by_report).fillna(0).astype("int64")
    return table


def _listed(value) -> list:
    return [] if value is None or isinstance(value, float) else list(value)


def _plain(values) -> list:
    return [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v) for v in values]


def _last_years(reports: Sequence[Extracted], others: pd.DataFrame, district: District) -> list[str]:
    """The readable reports among ``others`` of the changed reports' units on the year before, with
    the links the validation will draw (district_frames: over the reports' bodies and the dataset's)."""
    _, links = district.units_of([r.body for r in reports] + list(others["body"]))
    wanted = {(links.get(r.body), r.year - 1) for r in reports if r.body and r.year is not None and links.get(r.body)}
    ok = others[others["status"] == "ok"]
    return [k for k, b, y in zip(ok["report"], ok["body"], ok["year"])
            if isinstance(b, str) and pd.notna(y) and (links.get(b), int(y)) in wanted]


def _moved(others: pd.DataFrame, old_reports: pd.DataFrame, validation: Validation, district: District) -> str | None:
    """Why the other reports' units are not the dataset's any more, or None."""
    units = validation.units.drop_duplicates("report").set_index("report")
    mine = units.reindex(others["report"])
    for column in UNIT_COLUMNS:
        if column in others and _plain(others[column]) != _plain(mine[column]):
            return f"other reports' {column} changed (a new or corrected body name)"
    # the link the years are compared by, over the dataset's bodies as they were and as they are now
    _, before = district.units_of(old_reports["body"])
    bodies = [b for b in others.loc[others["status"] == "ok", "body"] if isinstance(b, str)]
    if any(before.get(b) != validation.links.get(b) for b in bodies):
        return "other reports' units are linked otherwise (a new or corrected body name)"
    return None


def _dependents(reports: Sequence[Extracted], old: pd.DataFrame, others: pd.DataFrame, links: dict[str, str]) -> str | None:
    """Why another report's cross-year rules may depend on the changed ones (as they are now, and
    as the dataset had them: ``old``): a report of the same unit on the year after. None when there
    is none."""
    after = {(links.get(r.body), r.year + 1) for r in reports if r.body and r.year is not None}
    after |= {(links.get(b), int(y) + 1) for b, y in zip(old["body"], old["year"]) if isinstance(b, str) and pd.notna(y)}
    after = {a for a in after if a[0]}
    ok = others[others["status"] == "ok"]
    hit = [k for k, b, y in zip(ok["report"], ok["body"], ok["year"])
           if isinstance(b, str) and pd.notna(y) and (links.get(b), int(y)) in after]
    return f"{hit[0]} is the next year's report of a changed one (its cross-year rules)" if hit else None
