"""Rerun one report as a Prefect flow (``key`` as a parameter): the deployment a reviewer
triggers after a unit uploads a corrected file. Wiring only: giodq.rerun holds the logic."""
from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.telling import previous_findings, tell
from giodq import rerun as rerun_lib
from giodq.publish.lock import OutBusy


def transient(_task, _task_run, state) -> bool:
    """Retry what may pass the next time (the network, the endpoint), never a user's mistake."""
    error = state.result(raise_on_failure=False)
    return not isinstance(error, (ValueError, OutBusy))


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=transient, cache_policy=NO_CACHE)
def rerun_report(key: str, source: str, out: str, roster: str | None, years: str | None) -> dict:
    return rerun_lib.rerun(key, source, out, roster, years)


@flow(name="rerun-report", flow_run_name="rerun {key}")
def rerun(key: str, source: str, out: str, roster: str | None = None, years: str | None = None) -> dict:
    """Re-read report KEY from SOURCE and update the dataset and site at OUT (against ``roster``, or
    the roster and years the district run checked against)."""
    previous = previous_findings(out)
    record = rerun_report(key, source, out, roster, years)
    tell(out, record, previous)
    return record
