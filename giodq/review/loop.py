"""The review loop at publish time: what a run, a rerun or an import does with decisions.

``review`` is called with every finding now at OUT (before the release is written): it gives each
a finding_id, applies the workbooks waiting in the inbox, lets the run resolve and reopen
decisions by itself (decisions.reconcile), and puts the states on the findings. ``save`` writes
the decisions and files the inbox workbooks away, after the release is current: a run that dies
before leaves the workbooks in the inbox for the next one.

A run's publish calls ``before_release`` and ``after_release`` around its release; an import or
the inbox without a run go through inbox.py. One workbook that cannot be read or applied, for
whatever reason, is refused with its reason; it never stops the run or the other workbooks.
"""
from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd

from giodq.extract.limits import Limits
from giodq.publish.review import Reviews
from giodq.review import store
from giodq.review.decisions import decide, empty_log, reconcile, with_context, with_states
from giodq.review.ids import finding_ids
from giodq.review.states import CONFIRMED, RESOLVED
from giodq.review.workbook import WorkbookError, check_rows, read, too_large

log = logging.getLogger(__name__)
MAX_ERRORS = 50   # rows listed in a receipt, on stderr and in the run record; the rest are counted


@dataclass(frozen=True)
class Applied:
    """What became of one workbook."""
    name: str
    applied: int
    unchanged: int
    errors: tuple[str, ...]      # a workbook with any error changes nothing
    stay: bool = False           # left in the inbox for the next run (it could not be read this time)

    @property
    def where(self) -> str:
        return "refused" if self.errors else "applied"

    @property
    def receipt(self) -> str:
        """What was done with the workbook, in Chinese, for the reviewer who sent it."""
        if self.errors:
            return "\n".join([f"{self.name}：未导入，没有任何审核结论被修改。原因：", *self.errors]) + "\n"
        return f"{self.name}：已导入 {self.applied} 条审核结论，{self.unchanged} 条未变化。\n"


def capped(errors: list[str]) -> tuple[str, ...]:
    """The first MAX_ERRORS errors, and how many more there are."""
    if len(errors) <= MAX_ERRORS:
        return tuple(errors)
    return (*errors[:MAX_ERRORS], f"……还有 {len(errors) - MAX_ERRORS} 行有误，未一一列出")


@dataclass
class Reviewed:
    findings: pd.DataFrame                   # with finding_id, state, note, decided_by, decided_at
    decisions: pd.DataFrame
    log: pd.DataFrame                        # rows to append to log.parquet
    summary: dict = field(default_factory=dict)   # for the run record
    workbooks: list[Applied] = field(default_factory=list)
    from_inbox: bool = True      # the workbooks are the inbox's: filed away by save()
    rebuilt: str | None = None   # why decisions.parquet was rebuilt from the log (saved by save())
    received: dict[str, bytes] = field(default_factory=dict, repr=False)   # inbox name -> bytes read

    @property
    def resolved(self) -> pd.DataFrame:
        d = self.decisions
        return d[d["state"] == RESOLVED] if len(d) else d

    @property
    def reports_changed(self) -> set[str]:
        """The reports whose findings' decisions changed (their pages are redrawn)."""
        return set(self.log["report"].dropna()) if len(self.log) else set()

    def site(self, out: str) -> Reviews:
        """What the site shows of the loop besides the findings' states."""
        return Reviews(resolved=self.resolved, notices=frozenset(store.notices(out)))


class DuplicateFindingIds(RuntimeError):
    """Two findings of one run got the same finding_id (ids.py makes them unique: a bug)."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def with_ids(findings: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """The findings with their finding_id, unique within the run (else DuplicateFindingIds)."""
    ids = finding_ids(findings, reports)
    twice = ids[ids.duplicated(keep=False)]
    if len(twice):
        rows = findings.loc[twice.index[:6], ["report", "rule"]].astype(str)
        raise DuplicateFindingIds(f"{twice.nunique()} 个 finding_id 不唯一（giodq 的缺陷，请报告）："
                                  + "；".join(f"{i} {r.report} {r.rule}" for i, r in zip(twice, rows.itertuples()))
                                  + " (finding ids are not unique)")
    return findings.assign(finding_id=ids)


def _received(out: str, name: str) -> tuple[bytes | None, str | None, bool]:
    """An inbox file -> (its bytes, or None and why it is refused, and whether it stays in the inbox)."""
    try:
        return store.read_inbox(out, name, Limits.resolve().input_bytes), None, False
    except store.TooLarge as e:
        return None, str(too_large(name, e.size)), False
    except OSError as e:
        if e.errno == errno.ELOOP:
            return None, f"{name}：是符号链接，未读取（收件箱只读取普通文件）", False
        if e.errno == errno.EINVAL:
            return None, f"{name}：不是普通文件，未读取", False
        why = f"{name}：暂时无法读取（{e.strerror or e}），留在收件箱，下次运行时再试"
    except Exception as e:   # a bucket's error: try again next time
        why = f"{name}：暂时无法读取（{type(e).__name__}），留在收件箱，下次运行时再试"
    log.warning("%s", why)
    return None, why, True


def review(out: str, reports: pd.DataFrame, findings: pd.DataFrame, run_id: str,
           workbooks: list[tuple[str, bytes]] | None = None) -> Reviewed:
    """Decisions against the findings now at OUT (see the module's docstring). ``workbooks``:
    (name, bytes) to apply instead of the inbox's (``giodq review import``)."""
    at = now()
    findings = with_ids(findings, reports)
    decisions, rebuilt = store.load_decisions(out)
    if rebuilt:
        decisions = with_context(decisions, findings, reports)
    logs, results, received = [], [], {}
    from_inbox = workbooks is None
    if from_inbox:
        for name in store.inbox(out):
            data, why, stay = _received(out, name)
            if data is None:
                results.append(Applied(name, 0, 0, (why,), stay))
            else:
                received[name] = data
    else:
        received = dict(workbooks)
    for name, data in received.items():
        try:
            checked = check_rows(read(data, name), findings, decisions, via=name)
            if checked.errors:   # a bad workbook changes nothing
                results.append(Applied(name, 0, checked.unchanged, capped(checked.errors)))
                continue
            decisions, log_rows = decide(decisions, findings, reports, checked.decisions, at)
        except WorkbookError as e:
            results.append(Applied(name, 0, 0, (str(e),)))
            continue
        except Exception as e:   # whatever else goes wrong with one workbook: refused, the run goes on
            log.exception("workbook %s", name)
            results.append(Applied(name, 0, 0, (f"{name}：无法读取或应用（{type(e).__name__}）",)))
            continue
        logs.append(log_rows)
        results.append(Applied(name, len(checked.decisions), checked.unchanged, ()))
    decisions, log_rows, summary = reconcile(decisions, findings, reports, run_id, at)
    logs.append(log_rows)
    summary["confirmed_resolved"] = [r for r in summary["resolved"] if r["was"] == CONFIRMED]
    summary["workbooks"] = {"applied": [{"file": r.name, "decisions": r.applied} for r in results if not r.errors],
                            "refused": [{"file": r.name, "errors": list(r.errors)} for r in results
                                        if r.errors and not r.stay],
                            "waiting": [{"file": r.name, "errors": list(r.errors)} for r in results if r.stay]}
    if rebuilt:
        summary["warnings"] = [rebuilt]
    log_rows = pd.concat([f for f in logs if len(f)], ignore_index=True) if any(len(f) for f in logs) \
        else empty_log()
    return Reviewed(with_states(findings, decisions), decisions, log_rows, summary, results, from_inbox, rebuilt,
                    received if from_inbox else {})


def save(out: str, reviewed: Reviewed) -> list[str]:
    """Write what ``review`` decided, then move the inbox workbooks away with their receipts.
    Called once the release is current, so it does not fail on what it can leave for later: a
    workbook that cannot be moved stays in the inbox (applying it again changes nothing). Returns
    the warnings (中文) for the record."""
    warnings = []
    if len(reviewed.log) or reviewed.rebuilt:   # nothing decided: decisions.parquet stays as it is, byte for byte
        warnings += store.save(out, reviewed.decisions, reviewed.log)
    if reviewed.from_inbox:
        for r in reviewed.workbooks:
            if r.stay:
                continue
            try:
                store.file_away(out, r.name, r.where, r.receipt, reviewed.received.get(r.name))
            except Exception as e:
                log.warning("inbox workbook %s not filed away", r.name, exc_info=True)
                warnings.append(f"收件箱中的 {r.name} 未能移到 reviews/{r.where}/（{type(e).__name__}: {e}），"
                                "下次运行时再处理")
    return warnings


@dataclass
class Stage:
    """What a run's release takes from the review loop (before_release)."""
    findings: pd.DataFrame       # with ids and states
    record: dict                 # with ``review``: what the loop did
    changed: set[str] | None     # a rerun's reports, and those whose decisions changed
    site: Reviews
    reviewed: Reviewed


def before_release(out: str, reports: pd.DataFrame, findings: pd.DataFrame, record: dict,
                   changed: set[str] | None = None) -> Stage:
    """The review stage of a run or rerun, before its release is written: ids, the inbox's
    workbooks, what the run resolves and reopens, the states."""
    reviewed = review(out, reports, findings, record["run_id"])
    if changed is not None:   # a decision changed by the inbox or the run: its report's page too
        changed = changed | reviewed.reports_changed
    return Stage(reviewed.findings, record | {"review": reviewed.summary}, changed, reviewed.site(out), reviewed)


def after_release(out: str, stage: Stage, record: dict) -> dict:
    """Once the release is current: the decisions saved, the inbox filed away; the record with
    what went wrong doing so (``review.warnings``)."""
    warnings = save(out, stage.reviewed)
    if not warnings:
        return record
    review_ = record.get("review", {})
    return record | {"review": review_ | {"warnings": review_.get("warnings", []) + warnings}}
