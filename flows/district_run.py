"""The district-wide run as a Prefect flow: list -> extract (batched) -> validate -> publish.

Only wiring: each task calls one function of giodq.pipeline, where the logic lives
and is tested without Prefect.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from giodq import pipeline
from giodq.publish.dataset import read_dataset
from giodq.settings import settings


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def list_inputs(source: str) -> list[str]:
    return pipeline.list_inputs(source)


@task(task_run_name="extract-{index}", retries=1, retry_delay_seconds=5, cache_policy=NO_CACHE)
def extract_batch(source: str, keys: list[str], index: int, total: int):
    reports = pipeline.extract_batch(source, keys)
    failed = sum(r.status != "ok" for r in reports)
    get_run_logger().info("extracted batch %d/%d: %d reports, %d failed", index + 1, total, len(reports), failed)
    return reports


@task(cache_policy=NO_CACHE)
def read_previous(out: str):
    return read_dataset(Path(out))


@task(cache_policy=NO_CACHE)
def validate_reports(reports, previous):
    return pipeline.validate_reports(reports, previous)


@task(cache_policy=NO_CACHE)
def publish(out: str, reports, validation, record: dict) -> dict:
    return pipeline.publish(Path(out), pipeline.reports_table(reports, validation), validation, record)


@flow(name="district-run", flow_run_name="district-run {source}")
def district_run(source: str, out: str, batch_size: int | None = None) -> dict:
    """Check every report under SOURCE and publish the dataset and Data Docs to OUT."""
    started = datetime.now(timezone.utc)
    out = str(Path(out).resolve())
    Path(out).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    keys = list_inputs(source)
    parts = pipeline.batches(keys, batch_size or settings().batch_size)
    futures = [extract_batch.submit(source, part, i, len(parts)) for i, part in enumerate(parts)]
    reports = [r for f in futures for r in f.result()]
    t1 = time.perf_counter()
    validation = validate_reports(reports, read_previous(out))
    t2 = time.perf_counter()
    record = pipeline.run_record(uuid.uuid4().hex, source, Path(out), started, reports, validation,
                                 {"extract": t1 - t0, "validate": t2 - t1}, Path(out) / "data_docs" / "index.html")
    return publish(out, reports, validation, record)
