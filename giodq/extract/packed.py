"""A report's cells and narrative packed into bytes between extraction and validation.

A province's reports wait in the run's process until every one is read (the cross-year rules pair
each unit's reports, and a unit's files may be anywhere in the listing), and validation then takes
them a chunk at a time (pipeline.validate_reports). What only the validation frames read waits as
one compressed pickle per report, ~1.5 KB instead of ~8 KB of Python objects: packed in the
extraction workers, unpacked by chunk. The metadata the run record and the reports table read
stays as it is.
"""
from __future__ import annotations

import pickle
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
# (a province waits in memory) and nothing can be added to a packed report's cells by mistake
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
    return replace(report, packed=None, **dict(zip(PACKED, pickle.loads(zlib.decompress(report.packed)))))
