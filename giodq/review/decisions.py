"""Review decisions: what reviewers decided about each finding, carried across runs.

Pure functions over frames (the store is store.py, the workbook workbook.py):

- ``with_states``: the findings of a run with the state of each (``open`` when nobody decided);
- ``decide``: reviewers' decisions applied (from a workbook), with a log row each;
- ``reconcile``: what a new run or a rerun changes by itself: a decided finding no longer found in
  a report that was read again is ``resolved`` (the unit corrected it); a dismissed finding whose
  values changed is ``open`` again; a resolved one found again is ``open`` again;
- ``from_log``: the current decisions rebuilt from the log (decisions.parquet lost or damaged),
  and ``with_context`` to fill in what the log does not keep.

A decision keeps the values it was made on (observed, expected, sentence), so that a dismissal
holds only while the finding says the same thing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from giodq.review.ids import unit_of
from giodq.review.states import CONFIRMED, DISMISSED, GIODQ, OPEN, RESOLVED
from giodq.validate.rules import BY_ID, NO_REPORT

DECISION_COLUMNS = ["finding_id", "state", "note", "decided_by", "decided_at", "report", "unit", "year", "rule",
                    "title", "where", "observed", "expected", "sentence", "fingerprint", "previous_state",
                    "resolved_run"]
LOG_COLUMNS = ["finding_id", "state", "note", "decided_by", "decided_at", "via", "run_id", "report", "rule",
               "observed", "expected", "sentence"]
STATE_COLUMNS = ["state", "note", "decided_by", "decided_at"]
_CONTEXT = ["report", "unit", "year", "rule", "title", "where", "observed", "expected", "sentence"]


@dataclass(frozen=True)
class Decision:
    """One reviewer's decision on one finding."""
    finding_id: str
    state: str
    note: str | None
    decided_by: str | None
    via: str            # where it came from: the workbook's file name, or what giodq did


def empty_decisions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in DECISION_COLUMNS})


def empty_log() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in LOG_COLUMNS})


def fingerprint(observed, expected, sentence) -> str:
    """What a finding says, in 12 hex digits: a decision or an exported row is stale when it changes."""
    text = "\x1f".join("" if v is None or v != v else str(v) for v in (observed, expected, sentence))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def fingerprints(findings: pd.DataFrame) -> pd.Series:
    return pd.Series([fingerprint(o, e, s) for o, e, s in zip(findings["observed"], findings["expected"],
                                                                findings["sentence"])], index=findings.index,
                     dtype="object")


def with_states(findings: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """The findings with ``state``, ``note``, ``decided_by``, ``decided_at`` from their decisions."""
    current = decisions.set_index("finding_id")[STATE_COLUMNS] if len(decisions) else None
    out = findings.drop(columns=[c for c in STATE_COLUMNS if c in findings], errors="ignore")
    for column in STATE_COLUMNS:
        values = out["finding_id"].map(current[column]) if current is not None else pd.Series(None, index=out.index)
        out[column] = values.astype("object").where(values.notna(), None)
    out["state"] = out["state"].fillna(OPEN)
    return out


def _context(findings: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """finding_id -> what a decision keeps of its finding."""
    ctx = findings.set_index("finding_id")[[c for c in _CONTEXT if c in findings]].copy()
    by_id = findings.set_index("finding_id")
    ctx["unit"] = by_id["report"].map(unit_of(reports))
    ctx["year"] = by_id["report"].map(reports.drop_duplicates("report").set_index("report")["year"])
    if "unit" in by_id:   # form.missing has no report: its unit and year are its own
        own = by_id["report"] == NO_REPORT
        ctx.loc[own, "unit"], ctx.loc[own, "year"] = by_id.loc[own, "unit"], by_id.loc[own, "year"]
    ctx["fingerprint"] = fingerprints(findings).to_numpy()
    return ctx


def _log_rows(rows: pd.DataFrame, via: str, run_id: str | None) -> pd.DataFrame:
    log = rows.assign(via=via, run_id=run_id)
    return log[LOG_COLUMNS]


def _upsert(decisions: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    kept = decisions[~decisions["finding_id"].isin(rows["finding_id"])]
    rows = rows.reindex(columns=DECISION_COLUMNS)
    frames = [f for f in (kept, rows) if len(f)]
    return (pd.concat(frames, ignore_index=True) if frames else empty_decisions()).sort_values(
        "finding_id", kind="stable").reset_index(drop=True)


def decide(decisions: pd.DataFrame, findings: pd.DataFrame, reports: pd.DataFrame, changes: list[Decision],
           now: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reviewers' decisions (already checked: workbook.check_rows) -> (decisions, log rows).
    Column-wise: a workbook of every finding of a district is one pass, not one per row."""
    if not changes:
        return decisions, empty_log()
    ids = [c.finding_id for c in changes]
    ctx = _context(findings, reports).reindex(ids)
    previous = dict(zip(decisions["finding_id"], decisions["state"]))
    rows = ctx.reset_index(drop=True).assign(
        finding_id=ids, state=[c.state for c in changes], note=[c.note or None for c in changes],
        decided_by=[c.decided_by or None for c in changes], decided_at=now,
        previous_state=[previous.get(i, OPEN) for i in ids], resolved_run=None)
    log = rows.assign(via=[c.via for c in changes], run_id=None)[LOG_COLUMNS]
    return _upsert(decisions, rows), log


def reconcile(decisions: pd.DataFrame, findings: pd.DataFrame, reports: pd.DataFrame, run_id: str,
              now: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[dict]]]:
    """What a run changes by itself -> (decisions, log rows, {"resolved": [...], "reopened": [...]}).

    ``findings``: every finding now at OUT (with finding_id); ``reports``: every report now at OUT.
    A decided finding that is gone is resolved only when its unit's report of that year was read
    (status ok): a report that could not be read this time resolves nothing."""
    summary: dict[str, list[dict]] = {"resolved": [], "reopened": []}
    if not len(decisions):
        return decisions, empty_log(), summary
    present = set(findings["finding_id"])
    ok = reports[reports["status"] == "ok"]
    read = set(zip(unit_of(ok).to_numpy(), ok["year"].astype("string").fillna("").to_numpy()))
    now_says = dict(zip(findings["finding_id"], fingerprints(findings))) if len(findings) else {}
    d = decisions
    year = d["year"].astype("string").fillna("")
    gone = (~d["finding_id"].isin(present) & (d["state"] != RESOLVED)
            & pd.Series([(u, y) in read for u, y in zip(d["unit"], year)], index=d.index))
    changed = d["finding_id"].map(now_says).notna() & (d["finding_id"].map(now_says) != d["fingerprint"])
    reopen = d["finding_id"].isin(present) & (((d["state"] == DISMISSED) & changed) | (d["state"] == RESOLVED))
    if not (gone.any() or reopen.any()):
        return decisions, empty_log(), summary

    resolved = d[gone].assign(previous_state=d.loc[gone, "state"], state=RESOLVED, decided_by=GIODQ, decided_at=now,
                              resolved_run=run_id, note="复查未再发现该问题（单位已整改）")
    ctx = _context(findings, reports) if reopen.any() else None
    reopened = d[reopen].assign(previous_state=d.loc[reopen, "state"], state=OPEN, decided_by=GIODQ, decided_at=now,
                                resolved_run=None)
    if ctx is not None:
        reopened["note"] = [("问题再次出现" if s == RESOLVED else "数值已变化，原“误报”结论不再适用")
                            for s in reopened["previous_state"]]
        for column in ("observed", "expected", "sentence", "where", "report", "fingerprint"):
            reopened[column] = reopened["finding_id"].map(ctx[column]).to_numpy()
    for frame, name in ((resolved, "resolved"), (reopened, "reopened")):
        summary[name] = [{"finding_id": r.finding_id, "report": r.report, "rule": r.rule, "where": r.where,
                          "was": r.previous_state} for r in frame.itertuples()]
    rows = pd.concat([f for f in (resolved, reopened) if len(f)], ignore_index=True)
    log = _log_rows(rows, "run", run_id)
    return _upsert(decisions, rows), log, summary


def confirmed_open(decisions: pd.DataFrame) -> pd.DataFrame:
    """The decisions of findings confirmed and still there (what the notices list)."""
    return decisions[decisions["state"] == CONFIRMED] if len(decisions) else decisions


def from_log(log: pd.DataFrame) -> pd.DataFrame:
    """The current decisions rebuilt from log.parquet: the last row per finding_id, the state
    before it as ``previous_state``, the run that resolved it, and the fingerprint of the values
    it was made on. ``unit``, ``year``, ``title`` and ``where`` are not in the log: with_context."""
    if not len(log):
        return empty_decisions()
    log = log.reset_index(drop=True)
    before = log.groupby("finding_id", sort=False)["state"].shift()
    last = log.assign(previous_state=before.where(before.notna(), OPEN)).drop_duplicates("finding_id", keep="last")
    rows = last.assign(fingerprint=fingerprints(last),
                       resolved_run=last["run_id"].where(last["state"] == RESOLVED, None))
    return _upsert(empty_decisions(), rows)


def with_context(decisions: pd.DataFrame, findings: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """Decisions with a missing unit, year, title or where filled in: from the finding now at OUT
    with its id, else from the report the decision names."""
    missing = decisions["unit"].isna() | decisions["title"].isna()
    if not missing.any():
        return decisions
    out = decisions.copy()
    ctx = _context(findings, reports) if len(findings) else pd.DataFrame(columns=["unit", "year", "title", "where"])
    units, years = unit_of(reports), reports.drop_duplicates("report").set_index("report")["year"]
    fallback = {"unit": out["report"].map(units), "year": out["report"].map(years),
                "title": out["rule"].map(lambda r: BY_ID[r].title if r in BY_ID else None), "where": None}
    for column, other in fallback.items():
        found = out["finding_id"].map(ctx[column]) if column in ctx else pd.Series(None, index=out.index)
        value = out[column].where(out[column].notna(), found)
        out[column] = value.where(value.notna(), other) if other is not None else value
    out["year"] = out["year"].astype("Int64")
    return out
