"""Where decisions live: ``OUT/reviews/`` in a folder or a bucket, beside the releases (decisions
outlive every run).

    OUT/reviews/decisions.parquet   the current decision per finding_id
    OUT/reviews/log.parquet         every decision ever applied, append-only
    OUT/reviews/inbox/*.xlsx        workbooks the next run or rerun applies
    OUT/reviews/applied/            ... moved here once applied, with a receipt (.txt) beside
    OUT/reviews/refused/            ... or here, when refused, with the reasons

Writers hold OUT's lock (publish/lock.py: an flock, or a conditional PUT in a bucket), so two
imports never interleave; each file is replaced whole (a rename, or one PUT).
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from giodq.publish import store
from giodq.review.decisions import (
    DECISION_COLUMNS,
    LOG_COLUMNS,
    empty_decisions,
    empty_log,
)
from giodq.s3 import s3_client, split_s3_uri

REVIEWS = "reviews"
_STRINGS = {c: pa.string() for c in DECISION_COLUMNS + LOG_COLUMNS}
_STRINGS["year"] = pa.int64()


def _schema(columns: list[str]) -> pa.Schema:
    return pa.schema([(c, _STRINGS[c]) for c in columns])


def _key(out: str, rel: str) -> tuple[str, str]:
    bucket, prefix = split_s3_uri(out)
    return bucket, f"{prefix}{REVIEWS}/{rel}"


def read_bytes(out: str, rel: str) -> bytes | None:
    """A file under OUT/reviews/, or None when it is not there."""
    if not store.is_s3(out):
        path = Path(out) / REVIEWS / rel
        return path.read_bytes() if path.is_file() else None
    bucket, key = _key(out, rel)
    client = s3_client()
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None


def write_bytes(out: str, rel: str, data: bytes, content_type: str = "application/octet-stream") -> None:
    if not store.is_s3(out):
        store.write_file(Path(out) / REVIEWS / rel, data)
        return
    bucket, key = _key(out, rel)
    s3_client().put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)


def _read_frame(out: str, rel: str, columns: list[str], empty) -> pd.DataFrame:
    data = read_bytes(out, rel)
    if data is None:
        return empty()
    frame = pq.read_table(io.BytesIO(data)).to_pandas()
    return frame.reindex(columns=columns).astype({"year": "Int64"} if "year" in columns else {})


def _frame_bytes(frame: pd.DataFrame, columns: list[str]) -> bytes:
    frame = frame.reindex(columns=columns)
    frame = frame.astype({c: "object" for c in columns if c != "year"})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, schema=_schema(columns), preserve_index=False), buf)
    return buf.getvalue()


def read_decisions(out: str) -> pd.DataFrame:
    return _read_frame(out, "decisions.parquet", DECISION_COLUMNS, empty_decisions)


def read_log(out: str) -> pd.DataFrame:
    return _read_frame(out, "log.parquet", LOG_COLUMNS, empty_log)


def save(out: str, decisions: pd.DataFrame, log_rows: pd.DataFrame) -> None:
    """Replace decisions.parquet and append ``log_rows`` to log.parquet (the log first: a decision
    is never current without its log row)."""
    if len(log_rows):
        log = pd.concat([f for f in (read_log(out), log_rows) if len(f)], ignore_index=True)
        write_bytes(out, "log.parquet", _frame_bytes(log, LOG_COLUMNS))
    write_bytes(out, "decisions.parquet", _frame_bytes(decisions, DECISION_COLUMNS))


def inbox(out: str) -> list[str]:
    """The workbooks waiting in OUT/reviews/inbox/ (names), oldest name first."""
    if not store.is_s3(out):
        folder = Path(out) / REVIEWS / "inbox"
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")) \
            if folder.is_dir() else []
    bucket, key = _key(out, "inbox/")
    pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
    return sorted(o["Key"][len(key):] for page in pages for o in page.get("Contents", [])
                  if o["Key"][len(key):] and "/" not in o["Key"][len(key):])


def file_away(out: str, name: str, where: str, receipt: str) -> None:
    """Move inbox/<name> to applied/ or refused/ (``where``), with a receipt <name>.txt beside it."""
    stamp = pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%S")
    target = f"{where}/{stamp}-{name}"
    data = read_bytes(out, f"inbox/{name}")
    if data is not None:
        write_bytes(out, target, data)
    write_bytes(out, f"{target}.txt", receipt.encode("utf-8"), "text/plain; charset=utf-8")
    if not store.is_s3(out):
        (Path(out) / REVIEWS / "inbox" / name).unlink(missing_ok=True)
        return
    bucket, key = _key(out, f"inbox/{name}")
    s3_client().delete_object(Bucket=bucket, Key=key)


NOTICES = "notices"


def notices(out: str) -> list[str]:
    """The 整改通知 written under OUT/notices/ (file names)."""
    if not store.is_s3(out):
        folder = Path(out) / NOTICES
        return sorted(p.name for p in folder.glob("*.docx")) if folder.is_dir() else []
    bucket, prefix = split_s3_uri(out)
    pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + NOTICES + "/")
    return sorted(o["Key"].rsplit("/", 1)[-1] for page in pages for o in page.get("Contents", [])
                  if o["Key"].endswith(".docx"))


def write_notice(out: str, name: str, data: bytes) -> str:
    """Write one notice; returns where it is."""
    if not store.is_s3(out):
        path = Path(out) / NOTICES / name
        store.write_file(path, data)
        return str(path)
    bucket, prefix = split_s3_uri(out)
    key = f"{prefix}{NOTICES}/{name}"
    s3_client().put_object(Bucket=bucket, Key=key, Body=data, ContentDisposition="attachment",
                           ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    return f"s3://{bucket}/{key}"
