"""The end of every run and rerun: Prefect artifacts for the data engineer (a Markdown summary and
a table of the new findings, under stable keys so the UI keeps their history) and a message to the
office's webhooks. Wiring only: giodq.publish.summary and giodq.publish.notify hold the logic."""
from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from giodq.publish import notify, summary
from giodq.settings import settings


@task(cache_policy=NO_CACHE)
def previous_findings(out: str) -> set[str] | None:
    return summary.finding_ids_at(out)


@task(cache_policy=NO_CACHE)
def tell(out: str, record: dict, previous: set[str] | None) -> list[dict]:
    """Artifacts and notifications; a notification that fails is logged, never the run's failure."""
    s = summary.of_release(out, record, previous)
    prefix = settings().artifact_prefix
    create_markdown_artifact(key=f"{prefix}-run", markdown=summary.markdown(s), description=s.title)
    create_table_artifact(key=f"{prefix}-new-findings", table=summary.new_findings_table(s),
                          description=f"{s.title}：新出现的问题 {len(s.new)} 项")
    sent = notify.notify(s)
    for result in sent:
        get_run_logger().info("notification: %s", result)
    return sent
