"""The reviewer's commands: ``giodq review export|import`` and ``giodq notices``, and the inbox
applied when a run finds nothing else to do. Each takes OUT's lock, and an import or new notices
publish a new release (publish/republish.py), so the site and findings.parquet show them at once.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from giodq.preflight import CommandError, store_uri
from giodq.publish import store
from giodq.publish.lock import lock
from giodq.publish.republish import republish, review_record
from giodq.publish.review import Reviews, unit_label
from giodq.publish.sources import report_id
from giodq.review import loop, notices
from giodq.review import store as review_store
from giodq.review.decisions import with_states
from giodq.review.states import CONFIRMED
from giodq.review.workbook import export
from giodq.settings import settings


def _dataset(out: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    record = store.current(out)
    dataset = store.read_dataset(out, full=True) if record else None
    if dataset is None:
        raise CommandError(f"{out} 中还没有检查结果，请先运行 giodq run SOURCE --out OUT (no district run at OUT yet)")
    return (*dataset, record)


def _reviews(out: str, decisions: pd.DataFrame) -> Reviews:
    resolved = decisions[decisions["state"] == "resolved"] if len(decisions) else decisions
    return Reviews(resolved=resolved, notices=frozenset(review_store.notices(out)))


def page_url(out: str):
    """report -> the address of its page, for the workbook's links (a folder: a file:// URL)."""
    if store.is_s3(out):
        return lambda report: None
    site = Path(out) / "data_docs" / "reports"
    return lambda report: (site / f"{report_id(report)}.html").as_uri()


def export_workbook(out: str, path: str) -> int:
    """Write the reviewer's workbook of every finding at OUT to ``path``; returns its rows."""
    out = store_uri(out)
    if not str(path).lower().endswith(".xlsx"):
        raise CommandError(f"工作簿文件名应以 .xlsx 结尾 (the workbook is an .xlsx file): {path}")
    reports, _, findings, _ = _dataset(out)
    findings = with_states(loop.with_ids(findings, reports), review_store.read_decisions(out))
    return export(findings, reports, Path(path), page_url(out))


def import_workbook(out: str, path: str) -> loop.Applied:
    """Apply the decisions in the workbook at ``path``; a workbook with any bad row changes nothing."""
    out = store_uri(out)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CommandError(f"无法读取工作簿 (cannot read the workbook) {path}: {e.strerror or e}") from None
    name = Path(path).name
    with lock(out, f"review import {name}", settings().review_lock_wait_s):
        reports, cells, findings, record = _dataset(out)
        reviewed = loop.review(out, reports, findings, record["run_id"], workbooks=[(name, data)])
        [result] = reviewed.workbooks
        if not result.errors and len(reviewed.log):
            _publish(out, reports, cells, reviewed, record, {"workbook": name, "applied": result.applied})
        return result


def _publish(out: str, reports, cells, reviewed: loop.Reviewed, record: dict, what: dict) -> dict:
    """The decisions saved, then a release whose findings and pages show them."""
    loop.save(out, reviewed)
    changed = set(reviewed.log["report"].dropna()) if len(reviewed.log) else set()
    return republish(out, reports, cells, reviewed.findings, review_record(record, what | reviewed.summary),
                     changed, _reviews(out, reviewed.decisions))


def apply_inbox(out: str) -> dict | None:
    """The inbox's workbooks applied without a run (a run that found nothing changed); the record
    of the release made, or None when the inbox is empty. OUT's lock is held by the caller."""
    if not review_store.inbox(out):
        return None
    reports, cells, findings, record = _dataset(out)
    reviewed = loop.review(out, reports, findings, record["run_id"])
    if not len(reviewed.log):   # every workbook refused: file them away with their reasons
        loop.save(out, reviewed)
        return reviewed.summary
    return _publish(out, reports, cells, reviewed, record, {"inbox": True})["review"]


def write_notices(out: str) -> list[str]:
    """整改通知 for every unit with confirmed findings, under OUT/notices/; the report pages of those
    units link to them. Returns where each was written."""
    out = store_uri(out)
    with lock(out, "notices", settings().review_lock_wait_s):
        reports, cells, findings, record = _dataset(out)
        decisions = review_store.read_decisions(out)
        findings = with_states(loop.with_ids(findings, reports), decisions)
        names = reports.set_index("report").apply(unit_label, axis=1)
        documents = notices.notices(findings, reports, names)
        written = [review_store.write_notice(out, name, data) for name, data in sorted(documents.items())]
        if documents:
            changed = set(findings.loc[findings["state"] == CONFIRMED, "report"])
            republish(out, reports, cells, findings, review_record(record, {"notices": sorted(documents)}),
                      changed, _reviews(out, decisions))
        return written
