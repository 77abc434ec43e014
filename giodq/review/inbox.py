"""The review loop without a run: the dataset current at OUT, the inbox applied when a run finds
nothing else to do (``apply_inbox``), and the release that shows an import's decisions
(``publish_decisions``). OUT's lock is held by the caller.

A release is made before the decisions are saved, as a run's publish does: when the release
fails, nothing is saved and the workbook stays in the inbox (or the import can be run again),
so findings.parquet and the site never lag behind decisions.parquet.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from giodq.preflight import CommandError
from giodq.publish import store
from giodq.publish.republish import republish, review_record
from giodq.review import loop
from giodq.review import store as review_store
from giodq.s3 import s3_client, split_s3_uri


def dataset(out: str, cells: bool = True) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame, dict]:
    """(reports, cells, findings, record) of the release current at OUT, all from that one
    release; ``cells=False``: not read (None), for what needs no cells (the workbook). Raises
    CommandError when there is no run at OUT yet."""
    names = ["reports", "cells", "findings"] if cells else ["reports", "findings"]
    got = _current_tables(out, names)
    if got is None:
        raise CommandError(f"{out} 中还没有检查结果，请先运行 giodq run SOURCE --out OUT (no district run at OUT yet)")
    tables, record = got
    return tables["reports"], tables.get("cells"), tables["findings"], record


def _current_tables(out: str, names: list[str]) -> tuple[dict[str, pd.DataFrame], dict] | None:
    if not store.is_s3(out):
        if store.current(out) is None:
            return None
        release = store.current_release(out) or Path(out)   # resolved once: a run may switch it meanwhile
        record = json.loads((release / "run.json").read_text(encoding="utf-8"))
        return {n: pq.read_table(release / "dataset" / f"{n}.parquet").to_pandas() for n in names}, record
    bucket, prefix = split_s3_uri(out)
    pointer = store.get_json(bucket, prefix + store.POINTER)
    if pointer is None:
        return None
    client = s3_client()
    read = lambda n: client.get_object(Bucket=bucket, Key=f"{pointer['release']}dataset/{n}.parquet")["Body"].read()  # noqa: E731
    return {n: pq.read_table(io.BytesIO(read(n))).to_pandas() for n in names}, pointer["record"]


def publish_decisions(out: str, reports: pd.DataFrame, cells: pd.DataFrame, reviewed: loop.Reviewed, record: dict,
                      what: dict) -> dict:
    """A release whose findings and pages show what ``reviewed`` decided, then the decisions
    saved and the inbox filed away; returns the release's record."""
    made = republish(out, reports, cells, reviewed.findings, review_record(record, what | reviewed.summary),
                     reviewed.reports_changed, reviewed.site(out))
    warnings = loop.save(out, reviewed)
    if warnings:   # the history says so too: the record written again, under its own name
        made["review"] = made["review"] | {"warnings": made["review"].get("warnings", []) + warnings}
        store.append_history(out, made)
    return made


def apply_inbox(out: str) -> dict | None:
    """The inbox's workbooks applied without a run (a run that found nothing changed); what they
    did (the record's ``review``), or None when the inbox is empty."""
    if not review_store.inbox(out):
        return None
    reports, cells, findings, record = dataset(out)
    reviewed = loop.review(out, reports, findings, record["run_id"])
    if not len(reviewed.log):   # every workbook refused: file them away with their reasons
        warnings = loop.save(out, reviewed)
        return reviewed.summary | ({"warnings": reviewed.summary.get("warnings", []) + warnings} if warnings else {})
    return publish_decisions(out, reports, cells, reviewed, record, {"inbox": True})["review"]
