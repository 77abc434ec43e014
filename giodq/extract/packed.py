"""A report's cells and narrative packed into bytes between extraction and validation.

A province's reports wait in the run's process until every one is read (the cross-year rules pair
each unit's reports, and a unit's files may be anywhere in the listing), and validation then takes
them a chunk at a time (pipeline.validate_reports). What only the validation frames read waits as
one compressed pickle per report, ~1.5 KB instead of ~8 KB of Python objects: packed in the
extraction workers, unpacked by chunk. The rest of each report waits on disk beside them
(extract/waiting.py).

Once the reports are in the run's process, their packed bytes wait on disk (``PackedFile``: one
temporary file without a name, gone with the run however it ends), a report holding where its bytes
are: at 50,000 reports validation keeps ~66 MB less and peaks ~35 MB lower (bench/bench_memory.py).
On a TMPDIR in memory (tmpfs) the bytes stay in memory, outside the process's RSS. A report sent to
another process (a Dask worker) takes its bytes with it.
"""
from __future__ import annotations

import os
import pickle
import tempfile
import weakref
import zlib
from collections.abc import Mapping
from dataclasses import replace

from giodq.extract import Extracted

PACKED = ("raw", "claims", "shares", "placeholders", "parts", "part_five", "ocr", "placed")


class _Nothing(Mapping):
    """An empty mapping that cannot be written to: one serves every packed report."""
    __slots__ = ()

    def __getitem__(self, key):
        raise KeyError(key)

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __reduce__(self):
        return "NOTHING"   # the one of this module, in any process


NOTHING = _Nothing()
# what a packed report holds in their place: empty and immutable, so one of each serves every report
# (a province waits) and nothing can be added to a packed report's cells by mistake
_EMPTY = {"raw": NOTHING, "claims": (), "shares": (), "placeholders": (), "parts": None, "part_five": None,
          "ocr": NOTHING, "placed": NOTHING}


def pack(report: Extracted) -> Extracted:
    """The report with its cells and narrative as bytes (``packed``)."""
    if report.packed is not None or report.status != "ok":
        return report
    data = zlib.compress(pickle.dumps(tuple(getattr(report, f) for f in PACKED), protocol=5), 1)
    return replace(report, packed=data, **_EMPTY)


def unpack(report: Extracted) -> Extracted:
    """The report as extraction gave it (a new object: the packed one stays packed). ``packed`` is only
    ever pack()'s own pickle of extracted objects, made in this run's workers (as Prefect's results
    are pickles): a report's bytes and text are never read as a pickle, only held inside one as data."""
    if report.packed is None:
        return report
    data = report.packed.read() if isinstance(report.packed, Spilled) else report.packed
    return replace(report, packed=None, **dict(zip(PACKED, pickle.loads(zlib.decompress(data)))))


class PackedFile:
    """Packed reports' bytes on disk while they wait for validation, one after the other in one file
    that has no name (O_TMPFILE, or unlinked at once): only this process can reach it, and nothing
    of it is left behind, even by a run that is killed."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="giodq-packed-", buffering=0)   # noqa: SIM115 (closed by the finalizer)
        self._end = 0
        self._cleanup = weakref.finalize(self, self._file.close)

    def put(self, data: bytes) -> Spilled:
        at, done, view = self._end, 0, memoryview(data)
        while done < len(data):   # a write may be short: then the rest, or the disk's error
            n = os.pwrite(self._file.fileno(), view[done:], at + done)
            if n <= 0:
                raise OSError(f"giodq could not write a packed report to its temporary file ({self._file.name})")
            done += n
        self._end += len(data)
        return Spilled(self, at, len(data))

    def read(self, at: int, size: int) -> bytes:
        data = os.pread(self._file.fileno(), size, at)
        if len(data) != size:   # no report is made of part of its bytes
            raise OSError(f"giodq's file of packed reports ends early ({size} bytes at {at}, {len(data)} read)")
        return data


class Spilled:
    """Where a packed report's bytes are in its run's PackedFile (which lives as long as one of these,
    or a WaitingReports over it)."""
    __slots__ = ("file", "at", "size")

    def __init__(self, file: PackedFile, at: int, size: int) -> None:
        self.file, self.at, self.size = file, at, size

    def read(self) -> bytes:
        return self.file.read(self.at, self.size)

    def __reduce__(self):
        return bytes, (self.read(),)   # to another process as the bytes themselves

