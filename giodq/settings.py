"""Run settings, from GIODQ_* environment variables; the only place that reads the environment."""
from __future__ import annotations

import functools
import os

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GIODQ_")

    # Reports per extraction task: a Prefect task run costs ~13 ms, so one per report
    # would cost more than extracting it.
    batch_size: int = 200
    # Processes extracting at once (Prefect's ProcessPoolTaskRunner); 0: one per core. A run extracts
    # in its own process when it has one batch, or less to extract than pool_from text reports (a PDF
    # counts 50): a worker process takes seconds to start.
    workers: int = 0
    pool_from: int = 500
    # A run in which at most this many inputs are new or changed (and none gone) checks only those,
    # against the rest of the dataset at OUT (giodq/update.py); 0: every run checks the whole district.
    update_up_to: int = 200
    # Reports validated together: a larger run is validated in chunks of whole units, so that the
    # frames of a province are never all in memory (pipeline.validate_reports). Each chunk costs GX's
    # fixed cost of its 17 suites again (~0.6 s): smaller chunks, less memory and more time.
    validate_chunk: int = 10000
    # Prefect's ephemeral server takes 17-26 s to start on 2 cores; its default timeout is 20 s.
    prefect_startup_timeout_s: int = 120
    # With no Prefect server configured, the one giodq starts is kept this long after the last command
    # that used it, for the next command (a rerun, the next run of the day): ~3 s less each. 0: it
    # stops with the command that started it (prefect_server.py).
    server_keep_s: float = 600
    # Object storage. The endpoint, region and credentials come from the usual AWS settings
    # (AWS_ENDPOINT_URL, AWS_PROFILE, ...), read by boto3 itself. MinIO and Aliyun OSS
    # want path-style or virtual-hosted addressing: "auto", "path" or "virtual".
    s3_addressing_style: str = "auto"
    # botocore's own retries (standard mode: backoff on throttling and 5xx), before a read fails
    s3_max_attempts: int = 5
    # parallel requests when publishing to a bucket (a site is thousands of small objects)
    s3_concurrency: int = 16
    # how many complete releases (dataset, site, run.json) to keep at OUT, in a folder or a bucket:
    # the current one and the ones before it
    keep_releases: int = 3
    # A second run on the same OUT waits this long for the first to finish, then refuses.
    lock_wait_s: float = 0
    # ... and a reviewer's import or notices wait this long for a run to finish
    review_lock_wait_s: float = 120
    # A bucket's lock is a lease that the run renews while it works; one not renewed for this long
    # is a dead run's (killed, machine lost) and the next run takes it over.
    lock_lease_s: float = 300

    # The district's roster (output-contract.md, "Roster and coverage"): a .csv or .xlsx, a path or
    # s3://bucket/key; --roster on the command line wins. Empty: no roster (units from the bodies).
    roster: str = ""
    # The years coverage is drawn for, "2023,2024" or "2022-2024"; empty: the years of the reports.
    years: str = ""

    # The reviewers' site: its title in every page's header (the office, the district)
    site_title: str = "政府信息公开工作年度报告审核"
    # Where reviewers open the site when it is served over HTTP (a bucket behind a web server):
    # links in notifications and artifacts; a folder's file:// address otherwise.
    site_url: str = ""
    # Webhooks told at the end of each run: comma-separated URLs; 企业微信 (qyapi.weixin.qq.com),
    # 钉钉 (oapi.dingtalk.com) and 飞书 (open.feishu.cn / open.larksuite.com) robots get their own
    # JSON, any other URL a plain JSON POST. Prefix a URL with wecom:, dingtalk:, feishu: or json:
    # to say which. Or the name of a Prefect notification block.
    notify_urls: str = ""
    notify_block: str = ""
    notify_timeout_s: float = 10
    # Prefect artifacts of a run are kept under <prefix>-run and <prefix>-new-findings, so that the UI
    # shows their history; one prefix per district when several share a Prefect server.
    artifact_prefix: str = "giodq"

    # Limits per input file: reports come from hundreds of units and from crawlers, so the work one
    # file can cost is bounded; a file past a limit is a failed input that names the limit.
    max_input_mb: float = 256          # bytes of one input file
    max_member_mb: float = 64          # one decompressed member of a DOCX (a zip)
    max_members_mb: float = 256        # all decompressed members of a DOCX together
    max_text_chars: int = 20_000_000   # characters of text read from one file
    max_pdf_pages: int = 500           # pages of one PDF (later pages are not read, and a note says so)
    max_ocr_pages: int = 30            # pages and pictures of one file read by OCR (~2.5 s each)


def settings() -> Settings:
    """The settings as the environment gives them now (tests and the CLI set GIODQ_* variables);
    built once per distinct environment: pydantic-settings takes milliseconds, and the pipeline
    asks for every file it reads (the keys alone are walked: os.environ decodes each value it gives,
    ~20 µs a call for the pairs, a third of that for the keys)."""
    return _settings(tuple(sorted((k, os.environ[k]) for k in os.environ if k[:6].upper() == "GIODQ_")))


@functools.lru_cache(maxsize=8)
def _settings(_environment: tuple) -> Settings:
    return Settings()


def apply_prefect_defaults(s: Settings | None = None) -> None:
    """Defaults for running flows with no Prefect server configured (set before importing prefect);
    anything the user set explicitly wins."""
    s = s or settings()
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(s.prefect_startup_timeout_s))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")   # no internet here
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
