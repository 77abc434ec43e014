"""A province's cells wait on disk between validation and publishing, a few thousand reports' per file.

A run validated by chunks (pipeline.validate_reports) draws each chunk's cells frame and would hold
them all until the dataset and the report pages are written: ~45 MB per 10,000 reports, the largest
thing a province's run keeps. The spool writes each chunk's frame to disk as it is validated, in
parts of PART_REPORTS reports' cells; publishing reads them back one at a time (``cell_parts``):
the summary's sums, the report pages (each report's cells are in one part) and cells.parquet's
row groups. A run of one chunk keeps its frame as it is; ``all_cells`` gives the whole frame to the
few that need it (a rerun, an update: a few reports).

The files are pickles of frames this process drew (dtypes kept exactly, categoricals and Arrow
strings alike), one temporary file without a name per part (as extract/packed.py's PackedFile):
only this process can reach them, and they are gone with it however it ends; a report's text is
in them as data only. A spool sent to another process (a Dask worker's result) travels as its
frames, all of them in memory at once: the Validation that holds it is not meant to be pickled
otherwise.
"""
from __future__ import annotations

import pickle
import tempfile
import weakref
from collections.abc import Iterator

import pandas as pd

from giodq.categorical import concat


# a part of the spool: ~300,000 cells, ~15 MB in memory when read back, against ~75 MB for the
# validation chunk's 10,000 reports (at 50,000 reports publishing's peak was one chunk read back)
PART_REPORTS = 2_000


class CellSpool:
    """The cells of a run, on disk until published: each validation chunk's frame in parts of
    PART_REPORTS reports."""

    def __init__(self) -> None:
        self._files: list = []   # unnamed temporary files, closed (and so gone) with the spool
        self._dtypes: dict[str, object] = {}   # every column a part has, in the order met (as pd.concat)
        self.rows = 0
        self._cleanup = weakref.finalize(self, _close, self._files)

    def add(self, frame: pd.DataFrame) -> None:
        """A chunk's cells, as parts of PART_REPORTS reports' cells each (a report's all in one part,
        in the frame's order): publishing reads back a part at a time, not a whole chunk's."""
        for part in _by_reports(frame, PART_REPORTS):
            f = tempfile.TemporaryFile(prefix="giodq-cells-")   # noqa: SIM115 (closed with the spool)
            self._files.append(f)
            pickle.dump(part, f, protocol=5)
            self.rows += len(part)
            for name in part.columns:
                self._dtypes.setdefault(name, part[name].dtype)

    def parts(self) -> Iterator[pd.DataFrame]:
        """Each part's frame with every column of the run: a chunk without scans has no OCR columns,
        and its parts get them empty, of the type a chunk with scans gives them (as pd.concat would)."""
        for f in self._files:
            f.seek(0)
            frame = pickle.load(f)   # add()'s own file (the module's note)
            missing = {name: pd.Series(None, index=frame.index, dtype=dtype)
                       for name, dtype in self._dtypes.items() if name not in frame.columns}
            yield frame.assign(**missing)[list(self._dtypes)] if missing else frame

    def __len__(self) -> int:
        return self.rows

    def close(self) -> None:
        self._cleanup()

    def __reduce__(self):
        # to another process as the frames themselves: the files are this one's
        return _from_parts, (list(self.parts()),)


def _by_reports(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    """``frame`` in parts of the cells of ``size`` reports each, by the order reports first appear
    (cells of no report, which cells_frame does not make, together as one more)."""
    seen = pd.factorize(frame["report"], use_na_sentinel=False)[0] if "report" in frame and len(frame) else None
    if seen is None or seen.max() < size:
        yield frame
        return
    group = seen // size
    for g in range(int(group.max()) + 1):
        yield frame[group == g].reset_index(drop=True)


def _close(files: list) -> None:
    for f in files:
        f.close()


def _from_parts(frames: list[pd.DataFrame]) -> CellSpool:
    spool = CellSpool()
    for frame in frames:
        spool.add(frame)
    return spool


def cell_parts(cells: pd.DataFrame | CellSpool | None) -> Iterator[pd.DataFrame]:
    """The run's cells a part at a time: a spool's parts, or the frame itself."""
    if isinstance(cells, CellSpool):
        yield from cells.parts()
    elif cells is not None:
        yield cells


def all_cells(cells: pd.DataFrame | CellSpool) -> pd.DataFrame:
    """The run's cells as one frame (the parts one after the other, as cells.parquet holds them)."""
    if not isinstance(cells, CellSpool):
        return cells
    frames = list(cells.parts())
    return frames[0] if len(frames) == 1 else concat(frames)
