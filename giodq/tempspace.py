"""A run's private temporary folders: what waits on disk between two stages of a province's run
(validate/spool.py's cells, extract/packed.py's packed reports).

Each is made by mkdtemp (mode 0700: this user's only) under the system's temporary folder (TMPDIR),
named giodq-<kind>-<pid>-<random>, and removed by its owner when done; a run that was killed cannot,
and the next run removes its folders (``sweep``).
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import time
from pathlib import Path

KINDS = ("cells", "packed")
STALE_S = 24 * 3600


def private_folder(kind: str) -> Path:
    """A new folder of this kind for this process (a killed run's are swept first)."""
    assert kind in KINDS, kind
    sweep()
    return Path(tempfile.mkdtemp(prefix=f"giodq-{kind}-{os.getpid()}-"))


@functools.cache
def sweep() -> None:
    """Once per process: the folders whose process is gone (killed before it could delete them),
    this user's, untouched for a day (a process id is only this machine's, or container's); a live
    process's are left alone."""
    for kind in KINDS:
        prefix = f"giodq-{kind}-"
        for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
            pid = folder.name[len(prefix):].split("-")[0]
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
