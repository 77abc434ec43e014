"""Where a run's outputs live: a local folder (the embedded default) or ``s3://bucket/prefix``.

Both hold releases and a pointer, so that a reader never sees a mix of two runs. A local OUT:

    OUT/releases/<run>/{dataset/,data_docs/,run.json}   one run's complete outputs
    OUT/current -> releases/<run>                      the commit: one rename of a symbolic link
    OUT/dataset, OUT/data_docs, OUT/run.json           links through current/ (made once), so the
                                                       contract's paths always show one release
    OUT/runs/<started>-<run>.json                      the history, one record per run

A run builds its release in ``releases/.tmp-<run>/`` and renames it; a crash at any point leaves
the previous release current, and the next run removes what the dead one left. For a bucket
the outputs are built in a temporary folder and uploaded:

    OUT/releases/<run>/dataset/*.parquet   the run's complete dataset, and its run.json
    OUT/current.json                       the commit: one PUT naming the current release
    OUT/dataset/*.parquet, OUT/run.json    copies of the current release at the contract's paths
    OUT/data_docs/...                      the site: changed pages first, index.html after the
                                           commit, pages nobody links to any more removed last
    OUT/runs/<started>-<run>.json          the history, one record per run

An S3 PUT replaces one object atomically, not several: giodq reads the dataset through
``current.json`` only, so a run that dies before the commit leaves the previous release in
force, and one that dies after it leaves the new one. The copies at the contract's paths
are refreshed right after the commit (each file carries its run id in its metadata).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import mimetypes
import os
import shutil
import tempfile
import uuid
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from giodq.publish import dataset as ds
from giodq.publish.sources import is_download_name as is_download
from giodq.s3 import s3_client, split_s3_uri
from giodq.settings import settings

log = logging.getLogger(__name__)
POINTER = "current.json"
CURRENT = "current"          # a local OUT's pointer: a link to releases/<run>
PUBLISHED = ("dataset", "data_docs", "run.json")   # what a release holds, at the contract's paths
DATASET_FILES = ("reports.parquet", "cells.parquet", "findings.parquet")
# the district view's files (a run without a roster has coverage and summary, not roster)
DISTRICT_FILES = ("coverage.parquet", "summary.parquet", "roster.parquet")
# what a rerun keeps of the site: report pages, their sources, and the GX pages they link to
KEPT_ON_RERUN = ("reports", "sources", "validations")
# a rerun redraws only the reports it touched: the other pages, and the GX pages they link to,
# stay in the bucket
KEPT_ON_PARTIAL = tuple(f"{part}/" for part in KEPT_ON_RERUN)
# the kinds of release that hold a run's work (a review's release copies the current one's)
RUN_KINDS = ("run", "rerun")


def is_s3(out: str | Path) -> bool:
    return str(out).startswith("s3://")


class OutNotGiodq(ValueError):
    """OUT holds files at giodq's paths that giodq did not write."""


def local_out(out: str | Path) -> Path:
    """A local OUT as an absolute path (created if missing)."""
    path = Path(out).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def current(out: str | Path) -> dict | None:
    """The record of the run whose dataset is current at OUT, or None when there is none yet."""
    if not is_s3(out):
        path = Path(out) / "run.json"
        needed = (path, Path(out) / "dataset" / "reports.parquet", Path(out) / "data_docs" / "index.html")
        if not all(p.exists() for p in needed):   # an incomplete OUT (a site deleted by hand): redo it
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:   # damaged by hand or by an older giodq: the run starts afresh, the history stays
            log.warning("%s cannot be read as JSON; the run reads every input again", path)
            return None
    bucket, prefix = split_s3_uri(str(out))
    pointer = get_json(bucket, prefix + POINTER)
    return None if pointer is None else pointer["record"]


def read_dataset(out: str | Path, full: bool = False, inputs: Collection[str] = ()) -> tuple[pd.DataFrame, ...] | None:
    """The dataset current at OUT (see giodq.publish.dataset), or None when there is none yet.
    ``full``: every column of reports, cells and findings (``inputs`` not taken); else what the
    cross-year rules need, the rows of ``inputs`` (the keys a run reads anew) without their cells
    and sentence digests (dataset.read_dataset)."""
    reader = ds.read_full_dataset if full else functools.partial(ds.read_dataset, inputs=inputs)
    if not is_s3(out):
        return reader(Path(out))
    bucket, prefix = split_s3_uri(str(out))
    pointer = get_json(bucket, prefix + POINTER)
    if pointer is None:
        return None
    client = s3_client()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "dataset").mkdir()
        for name in DATASET_FILES:
            body = client.get_object(Bucket=bucket, Key=pointer["release"] + "dataset/" + name)["Body"].read()
            (Path(tmp) / "dataset" / name).write_bytes(body)
        return reader(Path(tmp))


def read_dataset_file(out: str | Path, name: str) -> bytes | None:
    """One file of the current release's dataset (``coverage.parquet``...), or None when it has none."""
    if not is_s3(out):
        release = current_release(out) or Path(out)
        path = release / "dataset" / name
        return path.read_bytes() if path.is_file() else None
    bucket, prefix = split_s3_uri(str(out))
    pointer = get_json(bucket, prefix + POINTER)
    if pointer is None:
        return None
    client = s3_client()
    try:
        return client.get_object(Bucket=bucket, Key=pointer["release"] + "dataset/" + name)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None


def read_table(out: str | Path, name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
    """One table of the current release's dataset (``findings``...), only ``columns`` if given: a
    province's cells need not be read to count its findings. None when the release has none."""
    data = read_dataset_file(out, f"{name}.parquet")
    if data is None:
        return None
    if columns is None:
        return pq.read_table(pa.BufferReader(data)).to_pandas()
    # only those columns decoded: a province's sentence digests as Python strings are ~100 MB
    names = pq.read_schema(pa.BufferReader(data)).names
    return pq.read_table(pa.BufferReader(data), columns=[c for c in columns if c in names]).to_pandas()


def get_json(bucket: str, key: str) -> dict | None:
    client = s3_client()
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _listing(bucket: str, prefix: str, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """key below prefix -> ETag (the MD5 of the content for an object uploaded in one PUT),
    leaving out the top-level folders in ``skip`` (e.g. "reports/")."""
    paginator = s3_client().get_paginator("list_objects_v2")
    if not skip:
        pages = paginator.paginate(Bucket=bucket, Prefix=prefix)
        return {o["Key"][len(prefix):]: o["ETag"].strip('"') for page in pages for o in page.get("Contents", [])}
    found, folders = {}, []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        found |= {o["Key"][len(prefix):]: o["ETag"].strip('"') for o in page.get("Contents", [])}
        folders += [c["Prefix"][len(prefix):] for c in page.get("CommonPrefixes", [])]
    for folder in folders:
        if folder not in skip:
            found |= {folder + k: etag for k, etag in _listing(bucket, prefix + folder).items()}
    return found


def _put(bucket: str, key: str, path: Path, metadata: dict | None = None) -> None:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"   # the pages are Chinese: say the charset to a browser served from S3
    extra = {}
    if "/sources/" in key and is_download(path.name):   # a unit's PDF or Word file: saved, never shown in the site
        extra["ContentDisposition"] = "attachment"
    with path.open("rb") as f:
        s3_client().put_object(Bucket=bucket, Key=key, Body=f, ContentType=kind, Metadata=metadata or {}, **extra)


def _parallel(fn, items) -> None:
    items = list(items)
    if not items:
        return
    with ThreadPoolExecutor(settings().s3_concurrency) as pool:
        for _ in pool.map(fn, items):  # re-raises the first failure
            pass


def upload(work: Path, out: str, record: dict, partial: bool = False, prune: bool = True) -> None:
    """Publish what a run built in ``work`` (dataset/, data_docs/, run.json) to the bucket OUT, in
    the order described above. ``partial``: the site in ``work`` holds only the pages a rerun redrew.
    ``prune``: remove the site's pages that ``work`` does not hold (not after a review, which redraws
    a few pages only)."""
    bucket, prefix = split_s3_uri(out)
    release = f"{prefix}releases/{run_name(record)}/"
    site, site_prefix = work / "data_docs", prefix + "data_docs/"
    # a rerun leaves the thousands of kept report pages and sources alone: no need to list them
    remote = _listing(bucket, site_prefix, skip=KEPT_ON_PARTIAL if partial else ())
    local = {p.relative_to(site).as_posix(): p for p in site.rglob("*") if p.is_file()}
    changed = [rel for rel, p in local.items() if remote.get(rel) != _md5(p)]

    # 1. new and changed pages, all but the entry page
    _parallel(lambda rel: _put(bucket, site_prefix + rel, local[rel]), [r for r in changed if r != "index.html"])
    # 2. the complete dataset under its own release prefix
    tag = {"giodq-run-id": record["run_id"]}
    files = sorted(p.name for p in (work / "dataset").glob("*.parquet"))
    _parallel(lambda name: _put(bucket, release + "dataset/" + name, work / "dataset" / name, tag), files)
    _put(bucket, release + "run.json", work / "run.json", tag)
    # 3. the commit
    pointer = {"release": release, "run_id": record["run_id"], "record": record}
    s3_client().put_object(Bucket=bucket, Key=prefix + POINTER, ContentType="application/json",
                           Body=json.dumps(pointer, ensure_ascii=False, indent=2).encode())
    # 4. the site's entry page now leads to the new results; the contract's paths get the new copies
    if "index.html" in changed:
        _put(bucket, site_prefix + "index.html", local["index.html"])
    client = s3_client()
    _parallel(lambda name: client.copy_object(Bucket=bucket, Key=prefix + name,
                                              CopySource={"Bucket": bucket, "Key": release + name}),
              [f"dataset/{name}" for name in files] + ["run.json"])
    # 5. what nobody links to any more: stale pages (a rerun did not list the kept ones), old releases
    if prune:
        _delete(bucket, [site_prefix + rel for rel in remote if rel not in local])
    releases = _listing(bucket, prefix + "releases/")
    names = sorted({k.split("/", 1)[0] for k in releases})   # <started>-<run>: oldest first
    # the current release is kept and counted whatever its place in that order (two releases of
    # one second sort by their run ids)
    others = [n for n in names if n != run_name(record)]
    old = set(others[:max(0, len(others) - (max(1, settings().keep_releases) - 1))])
    if old and record.get("kind") not in RUN_KINDS:   # reviews do not push the last run's release out
        kinds = ((n, (get_json(bucket, f"{prefix}releases/{n}/run.json") or {}).get("kind")) for n in reversed(names))
        old -= {next((n for n, kind in kinds if kind in RUN_KINDS), None)}
    _delete(bucket, [prefix + "releases/" + k for k in releases if k.split("/", 1)[0] in old])


def _delete(bucket: str, keys: list[str]) -> None:
    client = s3_client()
    for i in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys per call
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]],
                                                     "Quiet": True})


def run_name(record: dict) -> str:
    """A run's name in OUT: <started>-<run id>, so that names sort by time."""
    return f"{record['started'][:19].replace(':', '')}-{record['run_id'][:8]}"


def append_history(out: str | Path, record: dict) -> None:
    """Keep the run's record in OUT's history: runs/<started>-<run>.json."""
    name = f"{run_name(record)}.json"
    body = json.dumps(record, ensure_ascii=False, indent=2)
    if is_s3(out):
        bucket, prefix = split_s3_uri(str(out))
        s3_client().put_object(Bucket=bucket, Key=f"{prefix}runs/{name}", Body=body.encode(),
                               ContentType="application/json; charset=utf-8")
        return
    write_file(Path(out) / "runs" / name, body.encode("utf-8"))


def write_file(path: Path, data: bytes) -> None:
    """Write a small file so that a reader (or a crash) sees the old content or the new, never half:
    a temporary name in the same folder, then one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def history(out: str | Path) -> list[dict]:
    """Every run's record at OUT, oldest first."""
    if not is_s3(out):
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((Path(out) / "runs").glob("[!.]*.json"))]
    bucket, prefix = split_s3_uri(str(out))
    return [get_json(bucket, f"{prefix}runs/{rel}") for rel in sorted(_listing(bucket, prefix + "runs/"))]


# -- a local OUT: releases and the pointer ------------------------------------------------------

def current_release(out: str | Path) -> Path | None:
    """The folder of the release current at a local OUT, or None before the first run."""
    link = Path(out) / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def prepare_local(out: str | Path) -> Path:
    """Make a local OUT ready for a run (under its lock): remove what a dead run left (staging
    folders, temporary files), and move the outputs of a giodq before releases into one."""
    root = local_out(out)
    for left in [*root.glob(".dataset-*"), *root.glob(".data_docs-*"), *(root / "releases").glob(".tmp-*"),
                 *root.glob(f".{CURRENT}-*"), *root.glob(".run.json.*.tmp")]:
        log.info("removing %s, left by a run that did not finish", left)
        shutil.rmtree(left) if left.is_dir() and not left.is_symlink() else left.unlink()
    real = [name for name in PUBLISHED if (root / name).exists() and not (root / name).is_symlink()]
    if real:
        legacy = root / "releases" / "legacy"
        legacy.mkdir(parents=True, exist_ok=True)
        for name in real:
            (root / name).rename(legacy / name)
        if (legacy / "run.json").is_file() and (legacy / "dataset").is_dir() and current_release(root) is None:
            _point(root, legacy)
    return root


def check_local_out(out: str | Path) -> None:
    """Refuse a folder whose dataset/, data_docs/ or run.json giodq did not write (it would move them)."""
    root = Path(out).expanduser()
    real = [n for n in PUBLISHED if (root / n).exists() and not (root / n).is_symlink()]
    if not real:
        return
    try:
        ours = "run_id" in json.loads((root / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise OutNotGiodq(f"{root} 中已有 {'、'.join(real)}，但不是 giodq 的输出；请换一个 OUT 文件夹 "
                          f"(OUT holds {', '.join(real)} that giodq did not write)")


@contextlib.contextmanager
def local_release(out: str | Path, record: dict):
    """A new folder to build the run's release in; when the block ends without error it becomes the
    current release (one rename), older ones beyond ``keep_releases`` are removed. On an error the
    folder is removed and the previous release stays current."""
    root = local_out(out)
    final = root / "releases" / run_name(record)
    staging = final.with_name(f".tmp-{final.name}")
    staging.mkdir(parents=True)
    try:
        yield staging
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _point(root, final)
    _prune_local(root)


def _point(root: Path, release: Path) -> None:
    """The commit: OUT/current names ``release`` (a new link renamed over the old one), and the
    contract's paths lead through it."""
    tmp = root / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(release.relative_to(root).as_posix(), tmp)
    os.replace(tmp, root / CURRENT)
    for name in PUBLISHED:
        if not (root / name).is_symlink():
            os.symlink(f"{CURRENT}/{name}", root / name)


def _prune_local(root: Path) -> None:
    """Keep the current release and the newest ones before it, ``keep_releases`` in all, and the
    newest release of a run or rerun besides (a review's releases do not push it out)."""
    current_name = os.readlink(root / CURRENT).rsplit("/", 1)[-1]
    names = sorted((p.name for p in (root / "releases").iterdir() if not p.name.startswith(".")),
                   key=lambda n: (n != "legacy", n))   # the legacy release is the oldest
    others = [n for n in names if n != current_name]
    old = others[:max(0, len(others) - max(0, settings().keep_releases - 1))]
    if old and _kind(root / "releases" / current_name) not in RUN_KINDS:
        last_run = next((n for n in reversed(others) if _kind(root / "releases" / n) in RUN_KINDS), None)
        old = [n for n in old if n != last_run]
    for name in old:
        shutil.rmtree(root / "releases" / name, ignore_errors=True)


def _kind(release: Path) -> str | None:
    """A local release's kind (run.json's ``kind``); a legacy release without one is a run's."""
    try:
        return json.loads((release / "run.json").read_text(encoding="utf-8")).get("kind", "run")
    except (OSError, ValueError, AttributeError):
        return None
