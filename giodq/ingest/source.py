"""Sources of report files: ``open_source(uri)`` -> something with ``list_keys`` and ``read``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class Source(Protocol):
    uri: str

    def list_keys(self) -> list[str]:
        """Every input under the source, as keys relative to it, sorted."""

    def read(self, key: str) -> bytes:
        """The bytes of one input. Raises OSError when it cannot be read."""


@dataclass(frozen=True)
class LocalSource:
    """A folder on this machine; every file below it is an input."""
    root: Path

    @property
    def uri(self) -> str:
        return str(self.root)

    def list_keys(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


@dataclass(frozen=True)
class S3Source:
    """``s3://bucket/prefix`` on any S3-compatible endpoint; every object below the prefix is an input."""
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def list_keys(self) -> list[str]:
        # paginated: a district's bucket holds thousands of keys, 1,000 per listing page
        pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        keys = [o["Key"][len(self.prefix):] for page in pages for o in page.get("Contents", [])]
        return sorted(k for k in keys if k and not k.endswith("/"))  # "folder" marker objects are no input

    def read(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return s3_client().get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except (ClientError, BotoCoreError) as e:  # after botocore's retries: a failed input, with why
            raise OSError(f"s3://{self.bucket}/{self.prefix}{key}: {e}") from e


def s3_client():
    """A boto3 S3 client with the settings' addressing style and retries; endpoint, region and
    credentials from the environment as boto3 reads them (AWS_ENDPOINT_URL, profiles)."""
    import boto3
    from botocore.config import Config

    from giodq.settings import settings

    s = settings()
    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": s.s3_max_attempts},
                                            s3={"addressing_style": s.s3_addressing_style}))


def split_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/some/prefix -> ("bucket", "some/prefix/")."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri}")
    return bucket, (prefix.rstrip("/") + "/") if prefix.strip("/") else ""


def open_source(uri: str) -> Source:
    """A source URI (a folder path or s3://bucket/prefix) -> its Source.
    Raises ValueError when a local folder does not exist."""
    if uri.startswith("s3://"):
        return S3Source(*split_s3_uri(uri))
    root = Path(uri).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"source folder not found: {uri}")
    return LocalSource(root)
