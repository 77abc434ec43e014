"""How a run's process holds memory: what a stage frees goes back for the next stage, or to the
system, instead of staying with the allocator that took it.

- Arrow's own pool (mimalloc) keeps what it frees for Arrow alone; through the system allocator
  pandas and the pages reuse it.
- glibc serves a large block (a frame's column) from its heap once a block of that size has been
  freed (its mmap threshold grows, up to 32 MB), and a heap with holes is not given back: a run's
  peak became the sum of its stages' peaks. A fixed threshold maps every block of 4 MB or more apart
  and unmaps it when freed (from 1 MB: ~20 MB less at 10,000 reports, but validation ~0.5 s slower,
  the page faults of mapping each block anew).

At 10,000 reports this takes ~200 MB off the largest process (bench/bench_scale.py).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa

M_MMAP_THRESHOLD = -3   # glibc's malloc.h
MAPPED_FROM = 4 << 20


@functools.cache
def hold_less() -> None:
    """Once per process; a no-op where the C library is not glibc."""
    pa.set_memory_pool(pa.system_memory_pool())
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):   # not glibc (musl, macOS): their allocators decide
        libc.mallopt(M_MMAP_THRESHOLD, MAPPED_FROM)


def give_back() -> None:
    """Free pages inside glibc's heaps returned to the system (malloc_trim): between the chunks of a
    province's validation, what one chunk's frames left in holes is not counted with the next's."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


@functools.cache
def _libc():
    """The C library, looked up once (find_library runs ldconfig); None where it cannot be loaded."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
