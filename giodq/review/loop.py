"""The review loop at publish time: what a run, a rerun or an import does with decisions.

``review`` is called with every finding now at OUT (before the release is written): it gives each
a finding_id, applies the workbooks waiting in the inbox, lets the run resolve and reopen
decisions by itself (decisions.reconcile), and puts the states on the findings. ``save`` writes
the decisions and files the inbox workbooks away, after the release is current: a run that dies
before leaves the workbooks in the inbox for the next one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd

from giodq.review import store
from giodq.review.decisions import decide, empty_log, reconcile, with_states
from giodq.review.ids import finding_ids
from giodq.review.states import CONFIRMED, RESOLVED
from giodq.review.workbook import WorkbookError, check_rows, read


@dataclass(frozen=True)
class Applied:
    """What became of one workbook."""
    name: str
    applied: int
    unchanged: int
    errors: tuple[str, ...]      # a workbook with any error changes nothing

    @property
    def where(self) -> str:
        return "refused" if self.errors else "applied"

    @property
    def receipt(self) -> str:
        """What was done with the workbook, in Chinese, for the reviewer who sent it."""
        if self.errors:
            return "\n".join([f"{self.name}：未导入，没有任何审核结论被修改。原因：", *self.errors]) + "\n"
        return f"{self.name}：已导入 {self.applied} 条审核结论，{self.unchanged} 条未变化。\n"


@dataclass
class Reviewed:
    findings: pd.DataFrame                   # with finding_id, state, note, decided_by, decided_at
    decisions: pd.DataFrame
    log: pd.DataFrame                        # rows to append to log.parquet
    summary: dict = field(default_factory=dict)   # for the run record
    workbooks: list[Applied] = field(default_factory=list)
    from_inbox: bool = True      # the workbooks are the inbox's: filed away by save()

    @property
    def resolved(self) -> pd.DataFrame:
        d = self.decisions
        return d[d["state"] == RESOLVED] if len(d) else d


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def with_ids(findings: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    return findings.assign(finding_id=finding_ids(findings, reports))


def review(out: str, reports: pd.DataFrame, findings: pd.DataFrame, run_id: str,
           workbooks: list[tuple[str, bytes]] | None = None) -> Reviewed:
    """Decisions against the findings now at OUT (see the module's docstring). ``workbooks``:
    (name, bytes) to apply instead of the inbox's (``giodq review import``)."""
    at = now()
    findings = with_ids(findings, reports)
    decisions = store.read_decisions(out)
    logs, results = [], []
    from_inbox = workbooks is None
    if from_inbox:
        workbooks = [(name, store.read_bytes(out, f"inbox/{name}") or b"") for name in store.inbox(out)]
    for name, data in workbooks:
        try:
            checked = check_rows(read(data, name), findings, decisions, via=name)
        except WorkbookError as e:
            results.append(Applied(name, 0, 0, (str(e),)))
            continue
        if checked.errors:   # a bad workbook changes nothing
            results.append(Applied(name, 0, checked.unchanged, tuple(checked.errors)))
            continue
        decisions, log = decide(decisions, findings, reports, checked.decisions, at)
        logs.append(log)
        results.append(Applied(name, len(checked.decisions), checked.unchanged, ()))
    decisions, log, summary = reconcile(decisions, findings, reports, run_id, at)
    logs.append(log)
    summary["confirmed_resolved"] = [r for r in summary["resolved"] if r["was"] == CONFIRMED]
    summary["workbooks"] = {"applied": [{"file": r.name, "decisions": r.applied} for r in results if not r.errors],
                            "refused": [{"file": r.name, "errors": list(r.errors)} for r in results if r.errors]}
    log = pd.concat([f for f in logs if len(f)], ignore_index=True) if any(len(f) for f in logs) else empty_log()
    return Reviewed(with_states(findings, decisions), decisions, log, summary, results, from_inbox)


def save(out: str, reviewed: Reviewed) -> None:
    """Write what ``review`` decided, then move the inbox workbooks away with their receipts."""
    if len(reviewed.log):   # nothing decided: decisions.parquet stays as it is, byte for byte
        store.save(out, reviewed.decisions, reviewed.log)
    if reviewed.from_inbox:
        for r in reviewed.workbooks:
            store.file_away(out, r.name, r.where, r.receipt)
