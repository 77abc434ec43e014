"""The reviewer's commands: ``giodq review export|import`` and ``giodq notices``. An import and
notices take OUT's lock (waiting ``GIODQ_REVIEW_LOCK_WAIT_S``) and publish a new release
(publish/republish.py), so the site and findings.parquet show them at once. The inbox, applied by
a run, is inbox.py's.
"""
from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import pandas as pd

from giodq.extract.limits import Limits
from giodq.preflight import CommandError, store_uri
from giodq.publish import store
from giodq.publish.lock import OutBusy, lock
from giodq.publish.republish import republish, review_record
from giodq.publish.review import Reviews
from giodq.publish.sources import report_id
from giodq.review import inbox, loop, notices
from giodq.review import store as review_store
from giodq.review.decisions import with_states
from giodq.review.states import CONFIRMED, RESOLVED
from giodq.review.workbook import export, too_large
from giodq.settings import settings


@contextlib.contextmanager
def _locked(out: str, kind: str):
    """OUT's lock for a reviewer's command: waits GIODQ_REVIEW_LOCK_WAIT_S, and says so when busy."""
    held = contextlib.ExitStack()
    try:
        held.enter_context(lock(out, kind, settings().review_lock_wait_s))
    except OutBusy as e:
        raise OutBusy(str(e).replace("GIODQ_LOCK_WAIT_S sets how long to wait",
                                     f"waited GIODQ_REVIEW_LOCK_WAIT_S={settings().review_lock_wait_s:g} s")) from None
    with held:
        yield


def page_url(out: str):
    """report -> the address of its page, for the workbook's links (a folder: a file:// URL)."""
    if store.is_s3(out):
        return lambda report: None
    site = Path(out) / "data_docs" / "reports"
    return lambda report: (site / f"{report_id(report)}.html").as_uri()


def _with_states(out: str, findings: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """The findings with finding_id and states: as findings.parquet holds them (every release since
    the review loop), else made from decisions.parquet (a dataset of an older giodq)."""
    have = {"finding_id", "state"} <= set(findings.columns)
    if have and findings["finding_id"].notna().all() and findings["state"].notna().all():
        return findings
    return with_states(loop.with_ids(findings, reports), review_store.read_decisions(out))


def export_workbook(out: str, path: str) -> int:
    """Write the reviewer's workbook of every finding at OUT to ``path``; returns its rows."""
    out = store_uri(out)
    if not str(path).lower().endswith(".xlsx"):
        raise CommandError(f"工作簿文件名应以 .xlsx 结尾 (the workbook is an .xlsx file): {path}")
    reports, _, findings, _ = inbox.dataset(out, cells=False)
    return export(_with_states(out, findings, reports), reports, Path(path), page_url(out))


def _read_workbook(path: str) -> bytes | str:
    """The workbook's bytes, or why it is refused (past GIODQ_MAX_INPUT_MB). Raises CommandError."""
    name = Path(path).name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CommandError(f"不是文件 (not a regular file): {path}")
            limit = Limits.resolve().input_bytes
            if info.st_size > limit:
                return str(too_large(name, info.st_size))
            return f.read(limit + 1)
    except OSError as e:
        raise CommandError(f"无法读取工作簿 (cannot read the workbook) {path}: {e.strerror or e}") from None


def import_workbook(out: str, path: str) -> loop.Applied:
    """Apply the decisions in the workbook at ``path``; a workbook with any bad row changes nothing."""
    out = store_uri(out)
    data, name = _read_workbook(path), Path(path).name
    if isinstance(data, str):
        return loop.Applied(name, 0, 0, (data,))
    with _locked(out, f"review import {name}"):
        reports, cells, findings, record = inbox.dataset(out)
        reviewed = loop.review(out, reports, findings, record["run_id"], workbooks=[(name, data)])
        [result] = reviewed.workbooks
        if not result.errors and len(reviewed.log):
            inbox.publish_decisions(out, reports, cells, reviewed, record,
                                    {"workbook": name, "applied": result.applied})
        elif reviewed.rebuilt:
            loop.save(out, reviewed)
        return result


def write_notices(out: str) -> list[str]:
    """整改通知 for every unit with confirmed findings, under OUT/notices/; the report pages of those
    units link to them. Returns where each was written."""
    out = store_uri(out)
    with _locked(out, "notices"):
        reports, cells, findings, record = inbox.dataset(out)
        findings = _with_states(out, findings, reports)
        documents = notices.notices(findings, reports)
        written = [review_store.write_notice(out, name, data) for name, data in sorted(documents.items())]
        if documents:
            confirmed = set(findings.loc[findings["state"] == CONFIRMED, "report"])
            linked = {report for report, unit in notices.notice_unit(reports).items()
                      if isinstance(unit, str) and notices.notice_name(unit) in documents}
            decisions = review_store.read_decisions(out)
            resolved = decisions[decisions["state"] == RESOLVED] if len(decisions) else decisions
            republish(out, reports, cells, findings, review_record(record, {"notices": sorted(documents)}),
                      confirmed | linked, Reviews(resolved=resolved, notices=frozenset(review_store.notices(out))))
        return written
