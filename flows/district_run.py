"""The district-wide run as a Prefect flow: list -> compare -> read what changed -> extract
(batched, cached on content) -> validate -> publish.

Only wiring: each task calls one function of giodq.pipeline, where the logic lives and is
tested without Prefect. Extraction results are cached by Prefect on the sha256 of every file
in the batch (and giodq's code version) and persisted, so a nightly run re-extracts only the
batches holding a new or changed file; a run whose inputs all carry the version tags the
current dataset read ends after that comparison.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.utilities.annotations import quote
from prefect.utilities.hashing import hash_objects

from flows.telling import previous_findings, tell
from giodq import pipeline, preflight, progress
from giodq.publish import store
from giodq.publish.lock import lock
from giodq.review.inbox import apply_inbox as apply_inbox_now
from giodq.settings import settings


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def list_inputs(source: str):
    return pipeline.list_inputs(source)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def read_current(out: str):
    """The record and the dataset current at OUT (None, None before the first run)."""
    record = store.current(out)
    return record, (store.read_dataset(out) if record else None)


def content_key(_context, parameters) -> str:
    """The batch's content (key and sha256 of each file) and the code that reads it; not the
    source's name, not the run: the same bytes give the same result wherever they come from."""
    return "extract-" + hash_objects(pipeline.code_version(), sorted(parameters["expect"].items()))


@task(task_run_name="extract-{index}", cache_key_fn=content_key, persist_result=True,
      cache_expiration=timedelta(days=180), retries=2, retry_delay_seconds=5)
def extract_cached(source: str, keys: list[str], expect: dict[str, str], data: dict[str, bytes], index: int):
    """Extraction of one batch, cached by Prefect on its content: on a hit nothing is read."""
    return pipeline.extract_batch(source, keys, expect, data)


@task(task_run_name="batch-{index}", cache_policy=NO_CACHE)
def extract_batch(source: str, keys: list[str], known: dict[str, str], index: int, total: int):
    """One batch: read what is new or changed (its sha256 is the cache key), then extract through
    the cache. A batch whose files change or vanish while it runs is read file by file, uncached."""
    data, unreadable = pipeline.read_inputs(source, [k for k in keys if k not in known])
    expect = known | pipeline.sha256s(data)
    readable = [k for k in keys if k in expect]
    state = extract_cached(source, readable, expect, quote(data), index, return_state=True)
    if state.is_completed():
        reports = state.result()
    else:
        get_run_logger().warning("batch %d: %s; reading each file again, uncached", index + 1, state.message)
        reports = pipeline.extract_batch(source, readable)
    get_run_logger().info("batch %d/%d: %d reports, %d read, %d failed", index + 1, total, len(keys), len(data),
                          sum(r.status != "ok" for r in reports) + len(unreadable))
    return unreadable + reports


@task(cache_policy=NO_CACHE)
def validate_reports(reports, current, district):
    return pipeline.validate_reports(reports, current, district=district)


@task(retries=1, retry_delay_seconds=10, cache_policy=NO_CACHE)
def publish(out: str, reports, validation, record: dict) -> dict:
    return pipeline.publish(out, pipeline.reports_table(reports, validation), validation, record)


@task(cache_policy=NO_CACHE)
def apply_inbox(out: str) -> dict | None:
    """Reviewers' workbooks in OUT/reviews/inbox/, when nothing else changed."""
    return apply_inbox_now(out)


@task(cache_policy=NO_CACHE)
def record_unchanged(out: str, record: dict) -> dict:
    store.append_history(out, record)
    return record


def _district_run(source: str, out: str, batch_size: int | None = None, roster: str | None = None,
                  years: str | None = None) -> dict:
    out = pipeline.out_uri(out)
    preflight.check_run(source, out)
    district = preflight.district_of(roster, years)
    with lock(out, "run"):   # one run at a time on an OUT
        return _checked_run(source, out, batch_size, district)


def _checked_run(source: str, out: str, batch_size: int | None, district) -> dict:
    logger = get_run_logger()
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    refs = list_inputs(source)
    current_record, current = read_current(out)
    previous = previous_findings(out)
    todo = pipeline.plan(refs, current_record, current[0] if current else None, pipeline.district_signature(district))
    if todo.unchanged:
        logger.info("nothing changed since run %s: %d inputs as read then", current_record["run_id"], len(refs))
        review = apply_inbox(out)
        record = record_unchanged(out, pipeline.unchanged_record(uuid.uuid4().hex, source, out, started, todo,
                                                                 current_record, {"compare": time.perf_counter() - t0},
                                                                 review))
        tell(out, record, previous)
        return record
    parts = pipeline.buckets(refs, batch_size or settings().batch_size)
    logger.info("%d inputs, %d already read; %d batches", len(refs), len(todo.known), len(parts))
    progress.stage("读取与提取 reading", len(refs))
    futures = [extract_batch.submit(source, [r.key for r in part],
                                    {r.key: todo.known[r.key] for r in part if r.key in todo.known}, i, len(parts))
               for i, part in enumerate(parts)]
    for done in as_completed(futures):
        progress.advance(len(done.result()))
    reports = pipeline.with_versions([r for f in futures for r in f.result()], refs)
    t1 = time.perf_counter()
    progress.stage("验证 validating")
    # quote(): Prefect would otherwise walk every report's fields looking for futures (seconds per 1,000)
    validation = validate_reports(quote(reports), quote(current), quote(district))
    t2 = time.perf_counter()
    record = pipeline.run_record(uuid.uuid4().hex, source, out, started, reports, validation,
                                 {"extract": t1 - t0, "validate": t2 - t1}, current[0] if current else None,
                                 district)
    record = publish(out, quote(reports), quote(validation), record)
    tell(out, record, previous)
    return record


_on_cluster = flow(_district_run, name="district-run-on-dask", flow_run_name="district-run {source} (dask)")


@flow(name="district-run", flow_run_name="district-run {source}")
def district_run(source: str, out: str, batch_size: int | None = None, dask_address: str | None = None,
                 roster: str | None = None, years: str | None = None) -> dict:
    """Check every report under SOURCE and publish the dataset and Data Docs to OUT.
    ``dask_address``: run the tasks on that Dask cluster (tcp://host:8786) instead of this process.
    ``roster``, ``years``: the units that must publish and the years to check (GIODQ_ROSTER, GIODQ_YEARS)."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return _on_cluster.with_options(task_runner=DaskTaskRunner(address=dask_address))(source, out, batch_size,
                                                                                          roster, years)
    return _district_run(source, out, batch_size, roster, years)
