"""The extraction tasks, in a module of their own: a process pool's worker imports this (Prefect,
ingest and extract), not the validation and publishing stages, so that it starts seconds sooner.

Extraction results are cached by Prefect on the sha256 of every file in the batch (and giodq's
code version) and persisted, so a nightly run re-extracts only the batches holding a new or
changed file. Batches run on every core through Prefect's ProcessPoolTaskRunner when there are
several (``runner``); a run on a Dask cluster keeps its DaskTaskRunner.
"""
from __future__ import annotations

import contextlib
import os
from datetime import timedelta

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ProcessPoolTaskRunner
from prefect.utilities.annotations import quote
from prefect.utilities.hashing import hash_objects

from giodq.extract import batch
from giodq.extract.batch import PDF_WORK, work  # noqa: F401 (what the flow weighs)
from giodq.extract.packed import pack


def content_key(_context, parameters) -> str:
    """The batch's content (key and sha256 of each file) and the code that reads it; not the
    source's name, not the run: the same bytes give the same result wherever they come from."""
    return "extract-" + hash_objects(batch.code_version(), sorted(parameters["expect"].items()))


# the result persisted, not also kept in memory: a run that takes cached batches in its own threads
# (run again, or a nightly run) held every batch's reports as extracted (~60 MB at 10,000)
@task(task_run_name="extract-{index}", cache_key_fn=content_key, persist_result=True, cache_result_in_memory=False,
      cache_expiration=timedelta(days=180), retries=2, retry_delay_seconds=5)
def extract_cached(source: str, keys: list[str], expect: dict[str, str], data: dict[str, bytes], index: int):
    """Extraction of one batch, cached by Prefect on its content: on a hit nothing is read."""
    return batch.extract_batch(source, keys, expect, data)


@task(task_run_name="batch-{index}", cache_policy=NO_CACHE)
def extract_batch(source: str, keys: list[str], known: dict[str, str], index: int, total: int):
    """One batch: read what is new or changed (its sha256 is the cache key), then extract through
    the cache. A batch whose files change or vanish while it runs is read file by file, uncached."""
    data, unreadable = batch.read_inputs(source, [k for k in keys if k not in known])
    expect = known | batch.sha256s(data)
    readable = [k for k in keys if k in expect]
    state = extract_cached(source, readable, expect, quote(data), index, return_state=True)
    if state.is_completed():
        reports = state.result()
    else:
        get_run_logger().warning("batch %d: %s; reading each file again, uncached", index + 1, state.message)
        reports = batch.extract_batch(source, readable)
    get_run_logger().info("batch %d/%d: %d reports, %d read, %d failed (process %d)", index + 1, total, len(keys),
                          len(data), sum(r.status != "ok" for r in reports) + len(unreadable), os.getpid())
    # packed here, on every core: the run's process holds a province's reports until they are validated
    return unreadable + [pack(r) for r in reports]


@contextlib.contextmanager
def runner(batches: int, on_cluster: bool, to_extract: int):
    """Where the batches run: a pool of batch.pool_size() worker processes (``to_extract``: work() of
    the inputs the cache does not hold), else the flow's own task runner (threads here; Dask's
    workers on a cluster): None."""
    n = 0 if on_cluster else batch.pool_size(batches, to_extract)
    if not n:
        yield None
        return
    with ProcessPoolTaskRunner(max_workers=n) as pool:
        yield pool


def submit(pool, **parameters):
    """extract_batch on the pool (runner()), or through the flow's task runner when there is none."""
    return pool.submit(extract_batch, parameters) if pool is not None else extract_batch.submit(**parameters)
