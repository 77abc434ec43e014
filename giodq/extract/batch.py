"""Reading and extracting one batch of inputs: the work of an extraction task, wherever it runs
(this process, a process pool's worker, a Dask worker). Imports only ingest and extract, so that
a worker starts without loading GX and the publishing stage.
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from giodq.extract import Extracted, extract_report, failed
from giodq.ingest import InputRefused, open_source, read_many
from giodq.settings import settings

_PACKAGE = Path(__file__).resolve().parents[1]
SUITES_DIR = _PACKAGE.parent / "expectations"   # as validate/suites.py, without importing GX


@functools.cache
def code_version() -> str:
    """A digest of giodq's code, templates and suites (expectations/): results made by other code
    or other suites are not reused."""
    digest = hashlib.sha256()
    for root in (_PACKAGE, SUITES_DIR):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".j2", ".html", ".css", ".json") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


class InputChanged(OSError):
    """The bytes read are not the ones a cache key was made of (replaced meanwhile), or could not be read."""


def read_inputs(source_uri: str, keys: list[str]) -> tuple[dict[str, bytes], list[Extracted]]:
    """The bytes of each input, read a few at a time (object storage answers each request in
    tens of ms); an input that cannot be read is a failed input, with why."""
    got = read_many(open_source(source_uri), keys, settings().s3_concurrency)
    data = {k: v for k, v in got.items() if isinstance(v, bytes)}
    return data, [failed(k, b"", v.reason if isinstance(v, InputRefused) else f"read: 无法读取文件（{v}）")
                  for k, v in got.items() if isinstance(v, OSError)]


def sha256s(data: dict[str, bytes]) -> dict[str, str]:
    return {k: hashlib.sha256(v).hexdigest() for k, v in data.items()}


def extract_batch(source_uri: str, keys: list[str], expect: dict[str, str] | None = None,
                  data: dict[str, bytes] | None = None) -> list[Extracted]:
    """Read and extract a batch of inputs. A file that cannot be read is a failed input.
    ``data``: bytes already read, by key. ``expect`` (key -> sha256): the content the caller
    keyed a cache on; a read error or other bytes then raise InputChanged instead, so that no
    result is stored under the wrong content."""
    data = data or {}
    missing = [k for k in keys if k not in data]
    read, failures = read_inputs(source_uri, missing) if missing else ({}, [])
    if failures and expect is not None:
        raise InputChanged("; ".join(f.error for f in failures))
    data, unreadable = data | read, {f.report: f for f in failures}
    out = []
    for key in keys:
        if key in unreadable:
            out.append(unreadable[key])
            continue
        if expect is not None and hashlib.sha256(data[key]).hexdigest() != expect[key]:
            raise InputChanged(f"{key}: 内容在读取期间被替换 (replaced while the run read it)")
        out.append(extract_report(key, data[key]))
    return out


PDF_WORK = 50   # a PDF costs about as much to extract as 50 text or HTML reports (~0.15 s a page)
IMAGE_WORK = 500   # an image is read by OCR: ~2.5 s a page (bench/bench_ocr.py)
_IMAGES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def work(keys) -> int:
    """What extracting these inputs costs, in text reports (a scanned PDF is told from a text one only
    once it is open: it counts as a PDF)."""
    return sum(PDF_WORK if key.lower().endswith(".pdf") else IMAGE_WORK if key.lower().endswith(_IMAGES) else 1
               for key in keys)


def pool_size(batches: int, to_extract: int) -> int:
    """Worker processes for a run's extraction, 0 for none: GIODQ_WORKERS (else one per core), at most
    one per batch, and none for one batch or less than GIODQ_POOL_FROM of work() to extract (a worker
    takes seconds to start: more than a small district's whole extraction, or a nightly run's few
    changed files)."""
    n = min(settings().workers or os.cpu_count() or 1, batches)
    return n if n >= 2 and to_extract >= settings().pool_from else 0
