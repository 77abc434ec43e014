"""A run's extracted reports while they wait for validation: on disk, read back one at a time.

A province's reports wait in the run's process until every one is read (the cross-year rules pair
each unit's reports, and a unit's files may be anywhere in the listing). Held as objects, each kept
~1.1 KB of small Python objects (its key, sha256, body, digests, the object itself) scattered over
the heap among what its batch's unpickling left: at 50,000 reports ~55 MB, and the heap they
pinned. Here each report is one pickle of its fields (~0.6 KB) in the run's PackedFile
(extract/packed.py) beside its packed cells, and the run holds where: 24 bytes a report. Reading one
back costs ~4 µs (a pass over 50,000 ~0.2 s); the stages read them a few times (validation's
frames by chunk, the run record, the reports table).

The pickles are this process's own, of what its workers extracted (as packed.py's), in a file only
this process can reach; a report's text is never read as a pickle, only held inside one as data.
"""
from __future__ import annotations

import pickle
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import fields

from giodq.extract import Extracted
from giodq.extract.packed import PackedFile, Spilled
from giodq.ingest import InputRef

_FIELDS = tuple(f.name for f in fields(Extracted))
assert _FIELDS[-1] == "packed"   # WaitingReports builds a report from its fields in this order
_META = _FIELDS[:-1]
_VERSION = _META.index("version")


class Waiting:
    """A run's extracted reports taken in a batch at a time: each report takes its listing's version
    tag (a cached extraction may come from an upload of the same bytes under another tag) and goes
    to disk at once, its fields and its packed bytes, so that a batch's objects can go as soon as
    it is in."""

    def __init__(self, refs: list[InputRef]) -> None:
        self._version = {r.key: r.version for r in refs}
        self._rank = {r.key: i for i, r in enumerate(refs)}
        self._file: PackedFile | None = None
        self._order, self._at, self._size = array("q"), array("q"), array("q")

    def add(self, batch: Iterable[Extracted]) -> int:
        """Take in one batch's reports (one write to the file for all of them); how many."""
        blob, where = bytearray(), []   # each report's packed bytes, then its fields (and how long those bytes are)
        for r in batch:
            packed = r.packed.read() if isinstance(r.packed, Spilled) else r.packed
            spilled = None
            if isinstance(packed, bytes):
                spilled = len(packed)
                blob += packed
            values = tuple(getattr(r, f) for f in _META)
            meta = pickle.dumps((*values[:_VERSION], self._version.get(r.report), *values[_VERSION + 1:], spilled),
                                protocol=5)
            where.append((self._rank.get(r.report, 0), len(blob), len(meta)))
            blob += meta
        if not where:
            return 0
        self._file = self._file or PackedFile()
        start = self._file.put(blob).at
        for rank, at, size in where:
            self._order.append(rank)
            self._at.append(start + at)
            self._size.append(size)
        return len(where)

    def in_order(self) -> WaitingReports:
        """Every report taken in, in the listing's order."""
        order = sorted(range(len(self._order)), key=self._order.__getitem__)
        return WaitingReports(self._file, array("q", (self._at[i] for i in order)),
                              array("q", (self._size[i] for i in order)))


class WaitingReports(Sequence):
    """Waiting reports (Waiting.in_order), each read back from disk as an Extracted when it is
    taken: a new object each time, its packed bytes still on disk (``packed``: a Spilled)."""
    __slots__ = ("_file", "_at", "_size")

    def __init__(self, file: PackedFile | None, at: array, size: array) -> None:
        self._file, self._at, self._size = file, at, size

    def __len__(self) -> int:
        return len(self._at)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return WaitingReports(self._file, self._at[i], self._size[i])
        at, size = self._at[i], self._size[i]
        *values, spilled = pickle.loads(self._file.read(at, size))
        return Extracted(*values, Spilled(self._file, at - spilled, spilled) if spilled is not None else None)

    def __iter__(self):
        for i in range(len(self._at)):
            yield self[i]

    def take(self, indices: Iterable[int]) -> WaitingReports:
        """These reports, by position, still waiting (validate/chunks.py)."""
        indices = list(indices)
        return WaitingReports(self._file, array("q", (self._at[i] for i in indices)),
                              array("q", (self._size[i] for i in indices)))

    def __reduce__(self):
        return list, (list(self),)   # to another process as the reports themselves, with their bytes


def columns_of(reports: Iterable[Extracted], names: Sequence[str]) -> dict[str, list]:
    """The fields ``names`` of every report, as columns, read in one pass: a waiting report is read
    back from disk each time it is taken."""
    rows = [tuple(getattr(r, n) for n in names) for r in reports]
    return {n: list(c) for n, c in zip(names, zip(*rows))} if rows else {n: [] for n in names}
