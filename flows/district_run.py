"""The district-wide run as a Prefect flow: list -> compare -> read what changed -> extract
(batched, cached on content) -> validate -> publish.

Only wiring: each task calls one function of giodq.pipeline, where the logic lives and is
tested without Prefect. The extraction tasks (cached on content, on every core) are in
flows/extraction.py; a run whose inputs all carry the version tags the current dataset read
ends after the comparison.
"""
from __future__ import annotations

import gc
import time
import uuid
from datetime import datetime, timezone

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows import extraction
from flows.telling import previous_findings, tell
from giodq import pipeline, preflight, progress, update
from giodq.memory import give_back
from giodq.publish import store
from giodq.publish.lock import lock
from giodq.review.inbox import apply_inbox as apply_inbox_now
from giodq.settings import settings


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def list_inputs(source: str):
    return pipeline.list_inputs(source)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def read_current(out: str, inputs: list[str]):
    """The record and the dataset current at OUT (None, None before the first run), without what
    a run of ``inputs`` reads anew (store.read_dataset)."""
    record = store.current(out)
    return record, (store.read_dataset(out, inputs=inputs) if record else None)


@task(cache_policy=NO_CACHE)
def validate_reports(reports, current, district):
    return pipeline.validate_reports(reports, current, district=district)


@task(cache_policy=NO_CACHE)
def reports_table(reports, validation):
    return pipeline.reports_table(reports, validation)


@task(retries=1, retry_delay_seconds=10, cache_policy=NO_CACHE)
def publish(out: str, table, validation, record: dict) -> dict:
    return pipeline.publish(out, table, validation, record)


@task(retries=1, retry_delay_seconds=10, cache_policy=NO_CACHE)
def update_release(source: str, out: str, order: list[str], reports, district, started, timings: dict,
                   memory: dict):
    """The run record of an update (giodq/update.py), or Declined: the district is checked whole."""
    return update.release(source, out, order, reports, district, started, timings, memory)


@task(cache_policy=NO_CACHE)
def apply_inbox(out: str) -> dict | None:
    """Reviewers' workbooks in OUT/reviews/inbox/, when nothing else changed."""
    return apply_inbox_now(out)


@task(cache_policy=NO_CACHE)
def record_unchanged(out: str, record: dict) -> dict:
    store.append_history(out, record)
    return record


def _district_run(source: str, out: str, batch_size: int | None = None, roster: str | None = None,
                  years: str | None = None, on_cluster: bool = False) -> dict:
    out = pipeline.out_uri(out)
    preflight.check_run(source, out)
    district = preflight.district_of(roster, years)
    with lock(out, "run"):   # one run at a time on an OUT
        return _checked_run(source, out, batch_size, district, on_cluster)


def _checked_run(source: str, out: str, batch_size: int | None, district, on_cluster: bool) -> dict:
    logger = get_run_logger()
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    refs = list_inputs(source)
    keys = [r.key for r in refs]
    current_record, current = read_current(out, quote(keys))
    previous = previous_findings(out)
    todo = pipeline.plan(refs, current_record, current[0] if current else None, pipeline.district_signature(district))
    if todo.unchanged:
        logger.info("nothing changed since run %s: %d inputs as read then", current_record["run_id"], len(refs))
        review = apply_inbox(out)
        record = record_unchanged(out, pipeline.unchanged_record(uuid.uuid4().hex, source, out, started, todo,
                                                                 current_record, {"compare": time.perf_counter() - t0},
                                                                 review))
        tell(out, quote(record), quote(previous))
        return record
    few = pipeline.update_keys(todo, current_record, current, district)
    if few:   # few inputs new or changed: check only those, against the dataset (giodq/update.py)
        logger.info("%d inputs, %d new or changed: checking those against the dataset", len(refs), len(few))
        wanted = set(few)
        reports = _extract(source, [r for r in refs if r.key in wanted], refs, todo, current_record, batch_size,
                           on_cluster)
        progress.stage("验证 validating")
        record = update_release(source, out, quote(keys), quote(reports), quote(district), started,
                                {"extract": time.perf_counter() - t0},
                                {"extract": pipeline.peak_rss_mb(), "extract_workers": pipeline.peak_rss_mb(children=True)})
        if not isinstance(record, update.Declined):
            tell(out, quote(record), quote(previous))
            return record
        logger.info("checking the whole district: %s", record.why)
    reports = _extract(source, refs, refs, todo, current_record, batch_size, on_cluster)
    t1 = time.perf_counter()
    peaks = {"extract": pipeline.peak_rss_mb(), "extract_workers": pipeline.peak_rss_mb(children=True)}
    progress.stage("验证 validating")
    # quote(): Prefect would otherwise walk every report's fields looking for futures (seconds per 1,000)
    validation = validate_reports(quote(reports), quote(current), quote(district))
    t2, peaks["validate"] = time.perf_counter(), pipeline.peak_rss_mb()
    record = pipeline.run_record(uuid.uuid4().hex, source, out, started, reports, validation,
                                 {"extract": t1 - t0, "validate": t2 - t1}, current[0] if current else None,
                                 district, peaks)
    table = reports_table(quote(reports), quote(validation))
    del reports   # the extracted reports are in the table and the cells now: publishing does without them
    record = publish(out, quote(table), quote(validation), quote(record))
    del table, validation   # published: telling reads what it shows from the release ...
    give_back()             # ... and what they held goes back, not under its peak
    tell(out, quote(record), quote(previous))
    return record


def _extract(source: str, wanted: list, refs: list, todo, current_record: dict | None, batch_size: int | None,
             on_cluster: bool) -> list:
    """The ``wanted`` inputs extracted, in batches (cached on content, on every core), in the listing's order."""
    parts = pipeline.buckets(wanted, batch_size or settings().batch_size)
    get_run_logger().info("%d inputs, %d already read; %d batches", len(wanted),
                          sum(r.key in todo.known for r in wanted), len(parts))
    progress.stage("读取与提取 reading", len(wanted))
    keys = {r.key for r in wanted}
    with extraction.runner(len(parts), on_cluster,
                           extraction.work([k for k in pipeline.uncached(todo, current_record) if k in keys])) as pool:
        futures = [extraction.submit(pool, source=source, keys=[r.key for r in part],
                                     known={r.key: todo.known[r.key] for r in part if r.key in todo.known},
                                     index=i, total=len(parts))
                   for i, part in enumerate(parts)]
        # results taken in the order submitted (the bar with them: a slow batch holds it a while),
        # each future let go as it is taken: a future holds its batch twice (pickled, and as
        # objects), and Prefect's as_completed holds every one to the end
        waiting, pending = pipeline.Waiting(refs), futures[::-1]
        del futures
        while pending:
            progress.advance(waiting.add(pending.pop().result()))
        gc.collect()   # the futures sit in reference cycles (Prefect's chained callbacks): only a collection frees them
        return waiting.in_order()


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
                                                                                          roster, years, True)
    return _district_run(source, out, batch_size, roster, years)
