"""A province's cells wait on disk between validation and publishing, one validation chunk per file.

A run validated by chunks (pipeline.validate_reports) draws each chunk's cells frame and would hold
them all until the dataset and the report pages are written: ~45 MB per 10,000 reports, the largest
thing a province's run keeps. The spool writes each chunk's frame to a private temporary folder as
it is validated; publishing reads them back one at a time (``cell_parts``): the summary's sums, the
report pages (each report's cells are in one chunk) and cells.parquet's row groups. A run of one
chunk keeps its frame as it is; ``all_cells`` gives the whole frame to the few that need it (a rerun,
an update: a few reports).

The files are pickles of frames this process drew (dtypes kept exactly, categoricals and Arrow
strings alike), in a folder only this user can read under the system's temporary folder (TMPDIR),
deleted with the spool, or by the next run if this one was killed; a report's text is in them as
data only. A spool sent to another process (a Dask worker's result) travels as its frames, all of
them in memory at once: the Validation that holds it is not meant to be pickled otherwise.
"""
from __future__ import annotations

import contextlib
import functools
import os
import pickle
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from giodq.categorical import concat


class CellSpool:
    """The cells of a run, a frame per validation chunk, on disk until published."""

    def __init__(self) -> None:
        _sweep()
        self._dir = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))   # mode 0700
        self._files: list[Path] = []
        self._dtypes: dict[str, object] = {}   # every column a part has, in the order met (as pd.concat)
        self.rows = 0
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)

    def add(self, frame: pd.DataFrame) -> None:
        path = self._dir / f"{len(self._files)}.pickle"
        with path.open("wb") as f:
            pickle.dump(frame, f, protocol=5)
        self._files.append(path)
        self.rows += len(frame)
        for name in frame.columns:
            self._dtypes.setdefault(name, frame[name].dtype)

    def parts(self) -> Iterator[pd.DataFrame]:
        """Each chunk's frame with every column of the run: a chunk without scans has no OCR columns,
        and gets them empty, of the type a chunk with scans gives them (as pd.concat would)."""
        for path in self._files:
            with path.open("rb") as f:
                frame = pickle.load(f)   # add()'s own file (the module's note)
            missing = {name: pd.Series(None, index=frame.index, dtype=dtype)
                       for name, dtype in self._dtypes.items() if name not in frame.columns}
            yield frame.assign(**missing)[list(self._dtypes)] if missing else frame

    def __len__(self) -> int:
        return self.rows

    def close(self) -> None:
        self._cleanup()

    def __reduce__(self):
        # to another process as the frames themselves: the folder is this one's, and goes with it
        return _from_parts, (list(self.parts()),)


_PREFIX = "giodq-cells-"
STALE_S = 24 * 3600


@functools.cache
def _sweep() -> None:
    """Once per process: the folders of spools whose process is gone (killed before it could delete
    them), this user's, untouched for a day (a process id is only this machine's, or container's);
    a live process's are left alone."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        pid = folder.name[len(_PREFIX):].split("-")[0]
        with contextlib.suppress(OSError):
            info = folder.stat()
            if (pid.isdigit() and int(pid) != os.getpid() and info.st_uid == os.getuid()
                    and time.time() - info.st_mtime > STALE_S and not _alive(int(pid))):
                shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's process
        return True
    return True


def _from_parts(frames: list[pd.DataFrame]) -> CellSpool:
    spool = CellSpool()
    for frame in frames:
        spool.add(frame)
    return spool


def cell_parts(cells: pd.DataFrame | CellSpool | None) -> Iterator[pd.DataFrame]:
    """The run's cells a part at a time: a spool's chunks, or the frame itself."""
    if isinstance(cells, CellSpool):
        yield from cells.parts()
    elif cells is not None:
        yield cells


def all_cells(cells: pd.DataFrame | CellSpool) -> pd.DataFrame:
    """The run's cells as one frame (the chunks one after the other, as cells.parquet holds them)."""
    if not isinstance(cells, CellSpool):
        return cells
    frames = list(cells.parts())
    return frames[0] if len(frames) == 1 else concat(frames)
