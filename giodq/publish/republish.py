"""A new release without a new run: after reviewers' decisions or new 整改通知, the dataset's
findings carry the new states and the site shows them, with nothing extracted or validated again.

The new release is the current one with ``findings.parquet`` rewritten, the index's report list and
the pages of the reports whose findings changed redrawn; GX's pages, every other page and the
source copies stay as they were drawn (hard links in a folder; left in place in a bucket). SOURCE
is never read: the pages link to the copies of the files their findings come from, and a review
needs no access to SOURCE. The record is the current run's, under a new id, with ``kind: review``.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from giodq.publish import store
from giodq.publish.dataset import write_dataset
from giodq.publish.review import Reviews
from giodq.s3 import s3_client, split_s3_uri


def review_record(current: dict, what: dict) -> dict:
    """The record of a release made by a review: the current run's, with what the review did."""
    return current | {"run_id": uuid.uuid4().hex, "kind": "review",
                      "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      "dataset_run_id": current.get("dataset_run_id", current["run_id"]), "review": what}


def republish(out: str, reports: pd.DataFrame, cells: pd.DataFrame, findings: pd.DataFrame, record: dict,
              changed: set[str], reviews: Reviews) -> dict:
    """Publish the release described above (OUT's lock held by the caller); returns its record.
    The district's files (coverage, summary, roster) are the current release's, as they were."""
    from giodq.publish import docs   # imports GX: not where the flow's module loads (pipeline.py's note)

    district = {name: data for name in store.DISTRICT_FILES if (data := store.read_dataset_file(out, name)) is not None}
    if store.is_s3(out):
        with tempfile.TemporaryDirectory(prefix="giodq-review-") as work:
            site = Path(work) / "data_docs"
            bucket, prefix = split_s3_uri(out)
            client = s3_client()
            index = client.get_object(Bucket=bucket, Key=f"{prefix}data_docs/index.html")["Body"].read().decode()
            keys = _keys(bucket, f"{prefix}data_docs/", ("validations/", "sources/"))
            docs.redraw(site, index, reports, findings, cells, changed, docs.suite_pages_from(keys), reviews,
                        {k.rsplit("/", 1)[-1] for k in keys if k.startswith("sources/")})
            _dataset_and_record(Path(work), reports, cells, findings, record, district)
            store.upload(Path(work), out, record, partial=True, prune=False)
    else:
        current = store.current_release(out)
        with store.local_release(out, record) as folder:
            shutil.copytree(current / "data_docs", folder / "data_docs", copy_function=docs.link_or_copy)
            site = folder / "data_docs"
            index = (site / "index.html").read_text(encoding="utf-8")
            kept = {p.name for p in (site / "sources").iterdir()} if (site / "sources").is_dir() else set()
            docs.redraw(site, index, reports, findings, cells, changed,
                        docs.suite_pages_from(p.relative_to(site).as_posix() for p in (site / "validations").rglob("*.html")),
                        reviews, kept)
            _dataset_and_record(folder, reports, cells, findings, record, district)
    store.append_history(out, record)
    return record


def _keys(bucket: str, prefix: str, folders: tuple[str, ...]) -> list[str]:
    """The keys under ``prefix`` in these folders, relative to it."""
    pages = s3_client().get_paginator("list_objects_v2")
    return [o["Key"][len(prefix):] for folder in folders
            for page in pages.paginate(Bucket=bucket, Prefix=prefix + folder) for o in page.get("Contents", [])]


def _dataset_and_record(folder: Path, reports: pd.DataFrame, cells: pd.DataFrame, findings: pd.DataFrame,
                        record: dict, district: dict[str, bytes]) -> None:
    final = write_dataset(folder, reports, cells, findings)
    for name, data in district.items():
        (final / name).write_bytes(data)
    (folder / "run.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
