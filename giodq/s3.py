"""One S3 client for every stage (sources and outputs): any S3-compatible endpoint."""
from __future__ import annotations

import functools
import os

from giodq.settings import settings

_AWS_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def s3_client():
    """A boto3 S3 client with the settings' addressing style, retries and connection pool; endpoint,
    region and credentials from the environment as boto3 reads them (AWS_ENDPOINT_URL, profiles).
    One client per configuration: making one costs ~20 ms, and clients are thread-safe."""
    s = settings()
    return _client(tuple(os.environ.get(k) for k in _AWS_ENV), s.s3_max_attempts, s.s3_addressing_style,
                   s.s3_concurrency)


@functools.lru_cache(maxsize=8)
def _client(_env: tuple, max_attempts: int, addressing_style: str, concurrency: int):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": max_attempts},
                                            s3={"addressing_style": addressing_style},
                                            max_pool_connections=concurrency))


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/some/prefix -> ("bucket", "some/prefix/")."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri}")
    return bucket, (prefix.rstrip("/") + "/") if prefix.strip("/") else ""
