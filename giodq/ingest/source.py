"""Sources of report files: ``open_source(uri)`` -> something with ``list_inputs`` and ``read``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from giodq.s3 import s3_client, split_s3_uri


class InputRef(NamedTuple):
    """One input as the listing shows it. ``version`` changes whenever the content may have
    (the object's ETag, a file's size and mtime): a run reads again only what changed."""
    key: str
    version: str


class Source(Protocol):
    uri: str

    def list_inputs(self) -> list[InputRef]:
        """Every input under the source, keyed relative to it, sorted by key."""

    def ref(self, key: str) -> InputRef:
        """One input's listing entry. Raises OSError when it is not there."""

    def read(self, key: str) -> bytes:
        """The bytes of one input. Raises OSError when it cannot be read."""


@dataclass(frozen=True)
class LocalSource:
    """A folder on this machine; every file below it is an input."""
    root: Path

    @property
    def uri(self) -> str:
        return str(self.root)

    def list_inputs(self) -> list[InputRef]:
        return sorted(self.ref(p.relative_to(self.root).as_posix()) for p in self.root.rglob("*") if p.is_file())

    def ref(self, key: str) -> InputRef:
        st = (self.root / key).stat()
        return InputRef(key, f"{st.st_size}-{st.st_mtime_ns}")

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

    def list_inputs(self) -> list[InputRef]:
        # paginated: a district's bucket holds thousands of keys, 1,000 per listing page
        pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        refs = [InputRef(o["Key"][len(self.prefix):], _version(o["ETag"], o["Size"]))
                for page in pages for o in page.get("Contents", [])]
        return sorted(r for r in refs if r.key and not r.key.endswith("/"))  # "folder" markers are no input

    def ref(self, key: str) -> InputRef:
        head = self._call(lambda client, **at: client.head_object(**at), key)
        return InputRef(key, _version(head["ETag"], head["ContentLength"]))

    def read(self, key: str) -> bytes:
        return self._call(lambda client, **at: client.get_object(**at)["Body"].read(), key)

    def _call(self, request, key: str):
        """request(client, Bucket=, Key=) for one object; its errors, after botocore's retries, as
        OSError with the object's address: a failed input, with why."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return request(s3_client(), Bucket=self.bucket, Key=self.prefix + key)
        except (ClientError, BotoCoreError) as e:
            raise OSError(f"s3://{self.bucket}/{self.prefix}{key}: {e}") from e


def _version(etag: str, size: int) -> str:
    return f'{etag.strip(chr(34))}-{size}'


def read_many(source: Source, keys: list[str], concurrency: int = 16) -> dict[str, bytes | OSError]:
    """The bytes of each key, or the OSError met reading it; a few requests at a time, since
    object storage answers each in tens of milliseconds."""
    from concurrent.futures import ThreadPoolExecutor

    def read(key: str) -> bytes | OSError:
        try:
            return source.read(key)
        except OSError as e:
            return e

    if not keys:
        return {}
    with ThreadPoolExecutor(max(1, min(concurrency, len(keys)))) as pool:
        return dict(zip(keys, pool.map(read, keys)))


def open_source(uri: str) -> Source:
    """A source URI (a folder path or s3://bucket/prefix) -> its Source.
    Raises ValueError when a local folder does not exist."""
    if uri.startswith("s3://"):
        return S3Source(*split_s3_uri(uri))
    root = Path(uri).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"source folder not found: {uri}")
    return LocalSource(root)
