"""Where decisions live: ``OUT/reviews/`` in a folder or a bucket, beside the releases (decisions
outlive every run).

    OUT/reviews/decisions.parquet   the current decision per finding_id
    OUT/reviews/log.parquet         every decision ever applied, append-only
    OUT/reviews/inbox/*.xlsx        workbooks the next run or rerun applies
    OUT/reviews/applied/            ... moved here once applied, with a receipt (.txt) beside
    OUT/reviews/refused/            ... or here, when refused, with the reasons

Writers hold OUT's lock (publish/lock.py: an flock, or a conditional PUT in a bucket), so two
imports never interleave; each file is replaced whole (a rename, or one PUT).

The inbox is written by others: only its regular files are read (never through a link, never a
dot-file, at most GIODQ_MAX_INPUT_MB), and a workbook is filed away under a name giodq makes
(``<time>-<digest>.xlsx``), its own name kept in the receipt. decisions.parquet is the log's
summary: when it is lost or damaged it is rebuilt from log.parquet (with a warning); when neither
can be read the run stops with an error naming them, rather than start every finding over as
待核实. A damaged log.parquet is set aside, never overwritten.
"""
from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import stat
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from giodq.preflight import CommandError
from giodq.publish import store
from giodq.review.decisions import (
    DECISION_COLUMNS,
    LOG_COLUMNS,
    empty_decisions,
    empty_log,
    from_log,
)
from giodq.s3 import s3_client, split_s3_uri

log = logging.getLogger(__name__)
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


class ReviewsUnreadable(CommandError):
    """A file under OUT/reviews/ that is there and cannot be read (one line, 中文 first)."""


class TooLarge(ValueError):
    """An inbox file past the size it may have (``size``: its bytes)."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


def where(out: str, rel: str) -> str:
    """A file under OUT/reviews/ as a reader names it."""
    return f"{out.rstrip('/')}/{REVIEWS}/{rel}" if store.is_s3(out) else str(Path(out) / REVIEWS / rel)


def _read_frame(out: str, rel: str, columns: list[str]) -> pd.DataFrame | None:
    """The frame in OUT/reviews/<rel>, or None when there is none. Raises ReviewsUnreadable."""
    try:
        data = read_bytes(out, rel)
        if data is None:
            return None
        frame = pq.read_table(io.BytesIO(data)).to_pandas()
        if "finding_id" not in frame or "state" not in frame:
            raise ValueError("没有 finding_id / state 列")
        return frame.reindex(columns=columns).astype({"year": "Int64"} if "year" in columns else {})
    except Exception as e:   # pyarrow's ArrowInvalid, OSError, or a table of another shape
        raise ReviewsUnreadable(f"{where(out, rel)} 无法读取（{type(e).__name__}: {' '.join(str(e).split())[:200]}）"
                                f" (cannot read {rel})") from None


def _frame_bytes(frame: pd.DataFrame, columns: list[str]) -> bytes:
    frame = frame.reindex(columns=columns)
    frame = frame.astype({c: "object" for c in columns if c != "year"})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, schema=_schema(columns), preserve_index=False), buf)
    return buf.getvalue()


def load_decisions(out: str) -> tuple[pd.DataFrame, str | None]:
    """(the current decisions, why they were rebuilt from the log or None). decisions.parquet
    missing or unreadable with a log that can be read: rebuilt from it (last row per finding_id);
    neither readable: ReviewsUnreadable, never an empty table that would reopen every finding."""
    try:
        frame = _read_frame(out, "decisions.parquet", DECISION_COLUMNS)
        problem = None if frame is not None else "不存在"
    except ReviewsUnreadable as e:
        frame, problem = None, str(e)
    if frame is not None:
        return frame, None
    try:
        history = _read_frame(out, "log.parquet", LOG_COLUMNS)
    except ReviewsUnreadable as e:
        raise ReviewsUnreadable(f"{where(out, 'decisions.parquet')} 和 log.parquet 都无法读取，审核结论无法恢复："
                                f"{problem}；{e}。请从备份恢复其中一个文件后再运行 "
                                "(neither decisions.parquet nor log.parquet can be read)") from None
    if history is None or not len(history):
        if problem != "不存在":   # a damaged decisions.parquet and no log to rebuild it from
            raise ReviewsUnreadable(f"{problem}；没有可用于恢复的 log.parquet，请从备份恢复后再运行 "
                                    "(decisions.parquet is damaged and there is no log)")
        return empty_decisions(), None
    why = (f"{where(out, 'decisions.parquet')} {'不存在' if problem == '不存在' else '无法读取'}，"
           f"已按 log.parquet 的 {len(history)} 条记录恢复 (rebuilt from the log)")
    log.warning("%s", why if problem == "不存在" else f"{why}：{problem}")
    return from_log(history), why


def read_decisions(out: str) -> pd.DataFrame:
    """The current decisions (see load_decisions). Raises ReviewsUnreadable."""
    return load_decisions(out)[0]


def read_log(out: str) -> pd.DataFrame:
    """Every decision ever applied. Raises ReviewsUnreadable for a log that is there and unreadable."""
    frame = _read_frame(out, "log.parquet", LOG_COLUMNS)
    return empty_log() if frame is None else frame


def save(out: str, decisions: pd.DataFrame, log_rows: pd.DataFrame) -> list[str]:
    """Replace decisions.parquet and append ``log_rows`` to log.parquet (the log first: a decision
    is never current without its log row). A log that cannot be read is set aside and a new one
    begins with these rows: the release is already current, so this must not fail. Returns what
    went wrong (中文), for the run record."""
    warnings = []
    if len(log_rows):
        try:
            before = read_log(out)
        except ReviewsUnreadable as e:
            aside = _set_aside(out, "log.parquet")
            warnings.append(f"{e}；原文件已另存为 {where(out, aside)}，新的 log.parquet 从本次的 {len(log_rows)} 条记录开始"
                            " (the damaged log was kept aside)")
            log.warning("%s", warnings[-1])
            before = empty_log()
        history = pd.concat([f for f in (before, log_rows) if len(f)], ignore_index=True)
        write_bytes(out, "log.parquet", _frame_bytes(history, LOG_COLUMNS))
    write_bytes(out, "decisions.parquet", _frame_bytes(decisions, DECISION_COLUMNS))
    return warnings


def _set_aside(out: str, rel: str) -> str:
    """Keep a damaged file under another name beside it (never deleted); returns that name."""
    aside = f"{rel}.unreadable-{_stamp()}"
    if not store.is_s3(out):
        os.replace(Path(out) / REVIEWS / rel, Path(out) / REVIEWS / aside)
        return aside
    bucket, key = _key(out, rel)
    s3_client().copy_object(Bucket=bucket, Key=_key(out, aside)[1], CopySource={"Bucket": bucket, "Key": key})
    return aside


def _stamp() -> str:
    return pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%S")


def inbox(out: str) -> list[str]:
    """The files waiting in OUT/reviews/inbox/ (names), oldest name first: not folders, not
    dot-files; a link is listed (and refused when read: read_inbox)."""
    if not store.is_s3(out):
        folder = Path(out) / REVIEWS / "inbox"
        if not folder.is_dir() or folder.is_symlink():
            return []
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if not e.name.startswith(".")
                          and (e.is_symlink() or e.is_file(follow_symlinks=False)))
    bucket, key = _key(out, "inbox/")
    pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
    names = (o["Key"][len(key):] for page in pages for o in page.get("Contents", []))
    return sorted(n for n in names if n and "/" not in n and not n.startswith("."))


def read_inbox(out: str, name: str, max_bytes: int) -> bytes:
    """The bytes of inbox/<name>, read only if it is a regular file (a link is not followed) of at
    most ``max_bytes``. Raises TooLarge, or OSError (ELOOP for a link)."""
    if not store.is_s3(out):
        fd = os.open(Path(out) / REVIEWS / "inbox" / name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EINVAL, "不是普通文件")
            if info.st_size > max_bytes:
                raise TooLarge(info.st_size)
            return f.read(max_bytes + 1)
    bucket, key = _key(out, f"inbox/{name}")
    body = s3_client().get_object(Bucket=bucket, Key=key)
    if body["ContentLength"] > max_bytes:
        body["Body"].close()
        raise TooLarge(body["ContentLength"])
    return body["Body"].read(max_bytes + 1)


def file_away(out: str, name: str, where_to: str, receipt: str, data: bytes | None = None) -> str:
    """Move inbox/<name> to applied/ or refused/ (``where_to``) as ``<time>-<digest>.xlsx``, with
    a receipt beside it (``….xlsx.txt``, which names the file as it came: its own name may be
    anything, up to the longest a file system allows); returns the new name. ``data``: the bytes
    read, which are what is kept; a file not read (past the size limit) is moved as it is, a link
    is removed."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape") + b"\0" + (data or b"")).hexdigest()[:8]
    target = f"{where_to}/{_stamp()}-{digest}.xlsx"
    text = f"收到的文件 received: {name}\n存为 filed as: {REVIEWS}/{target}\n\n"
    if not store.is_s3(out):
        source = Path(out) / REVIEWS / "inbox" / name
        if data is not None:
            write_bytes(out, target, data)
        elif not source.is_symlink():
            (Path(out) / REVIEWS / where_to).mkdir(parents=True, exist_ok=True)
            os.replace(source, Path(out) / REVIEWS / target)
        else:
            text = f"收到的文件 received: {name}（符号链接，已删除 removed）\n\n"
        write_bytes(out, f"{target}.txt", (text + receipt).encode("utf-8", "replace"), "text/plain; charset=utf-8")
        source.unlink(missing_ok=True)
        return target
    bucket, key = _key(out, f"inbox/{name}")
    client = s3_client()
    if data is not None:
        write_bytes(out, target, data)
    else:
        client.copy_object(Bucket=bucket, Key=_key(out, target)[1], CopySource={"Bucket": bucket, "Key": key})
    write_bytes(out, f"{target}.txt", (text + receipt).encode("utf-8", "replace"), "text/plain; charset=utf-8")
    client.delete_object(Bucket=bucket, Key=key)
    return target


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
