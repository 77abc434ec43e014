"""Sources of report files: ``open_source(uri)`` -> something with ``list_inputs`` and ``read``."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NamedTuple, Protocol

from giodq.s3 import s3_client, split_s3_uri
from giodq.settings import settings

# Failed inputs that the ingest stage made (the bytes were never read): the next run tries them again.
UNREAD = ("read:", "refused:")


class InputRefused(OSError):
    """An input giodq will not read: its key or link leaves SOURCE, it is no regular file, or it is
    larger than the limit. ``reason`` is the failed input's error ("refused: ..." in 中文)."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"{key}: {why}")
        self.reason = f"refused: {why}"


def check_key(key: str) -> str:
    """A key from a listing or a user, refused when it could name something outside SOURCE
    (an absolute path, a ``..`` segment, a NUL byte); returned as it is otherwise."""
    parts = PurePosixPath(key).parts
    if not key or "\0" in key or key.startswith("/") or ".." in parts:
        raise InputRefused(key, "文件名指向 SOURCE 之外（绝对路径或“..”），未读取")
    return key


def _key_of(name: str) -> str:
    """A file's key from its name as the file system gives it. Linux names are bytes: one that is
    no UTF-8 is most often GB18030 (a Windows archive unpacked here), and is keyed as such; other
    bytes are shown as \\xNN (such a key names no file: read() says so)."""
    raw = os.fsencode(name)
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "backslashreplace")


def _too_large(key: str, size: int) -> None:
    limit = settings().max_input_mb
    if size > limit * 2**20:
        raise InputRefused(key, f"文件大小 {size / 2**20:.0f} MB，超过上限 {limit:g} MB（GIODQ_MAX_INPUT_MB），未读取")


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
    """A folder on this machine. Its inputs are the regular files below it; every other entry
    (a symbolic link, a FIFO, a device) is listed too, so that ``read`` refuses it with a reason
    instead of it vanishing. Links are never followed out of the folder."""
    root: Path

    @property
    def uri(self) -> str:
        return str(self.root)

    def list_inputs(self) -> list[InputRef]:
        refs = []
        for folder, dirs, files in os.walk(self.root):   # does not descend into links to folders
            here = Path(folder)
            linked = [d for d in dirs if (here / d).is_symlink()]
            dirs[:] = [d for d in dirs if d not in linked]
            refs += [self.ref(_key_of((here / name).relative_to(self.root).as_posix())) for name in files + linked]
        return sorted(refs)

    def ref(self, key: str) -> InputRef:
        path = self._path(key)
        if not os.path.lexists(path) and "\\x" in key:
            return InputRef(key, "undecodable-name")   # listed, so that read() refuses it with why
        st = path.lstat()   # of the entry itself: a dangling link has a version too
        return InputRef(key, f"{st.st_size}-{st.st_mtime_ns}")

    def _path(self, key: str) -> Path:
        path = self.root / check_key(key)
        if not os.path.lexists(path):   # a name listed from GB18030 bytes (see _key_of)
            try:
                alternative = self.root / os.fsdecode(key.encode("gb18030"))
            except UnicodeEncodeError:
                return path
            return alternative if os.path.lexists(alternative) else path
        return path

    def read(self, key: str) -> bytes:
        path = self._path(key)
        if not os.path.lexists(path) and "\\x" in key:
            raise InputRefused(key, "文件名既不是 UTF-8 也不是 GB18030 编码，无法按名读取，请改名后重新上传")
        if path.is_symlink():
            target = Path(os.path.realpath(path))
            if not target.is_relative_to(self.root):
                raise InputRefused(key, f"符号链接指向 SOURCE 之外（{os.readlink(path)}），未读取")
            if not target.exists():
                raise InputRefused(key, f"符号链接指向的文件不存在（{os.readlink(path)}）")
            path = target
        elif not Path(os.path.realpath(path)).is_relative_to(self.root):   # a linked folder on the way
            raise InputRefused(key, "路径经由符号链接指向 SOURCE 之外，未读取")
        # O_NOFOLLOW: a link swapped in after the check is not followed; O_NONBLOCK: a FIFO never hangs the run
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise InputRefused(key, "不是普通文件（文件夹、管道或设备），未读取")
            _too_large(key, st.st_size)
            return f.read()


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
        # an empty object whose key ends in "/" is a "folder" marker, no input; one that holds bytes is
        # listed, so that read() refuses it with a reason instead of it vanishing
        return sorted(InputRef(o["Key"][len(self.prefix):], _version(o["ETag"], o["Size"]))
                      for page in pages for o in page.get("Contents", [])
                      if o["Key"][len(self.prefix):] and not (o["Key"].endswith("/") and o["Size"] == 0))

    def ref(self, key: str) -> InputRef:
        head = self._call(lambda client, **at: client.head_object(**at), key)
        return InputRef(key, _version(head["ETag"], head["ContentLength"]))

    def read(self, key: str) -> bytes:
        check_key(key)
        if key.endswith("/"):   # a "folder marker" with bytes in it: no report file name
            size = self.ref(key).version.rsplit("-", 1)[-1]
            raise InputRefused(key, f"对象名以“/”结尾（文件夹标记），却含有 {size} 字节，未作为报告读取")

        def get(client, **at):
            obj = client.get_object(**at)
            with obj["Body"] as body:
                _too_large(key, obj["ContentLength"])
                return body.read()
        return self._call(get, key)

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
    if not source.uri.startswith("s3://"):   # a folder: threads would only cost their start
        return {key: read(key) for key in keys}
    with ThreadPoolExecutor(max(1, min(concurrency, len(keys)))) as pool:
        return dict(zip(keys, pool.map(read, keys)))


def key_as_given(source_uri: str, given: str) -> str:
    """A report's key from what a user gives: the key relative to SOURCE, the full object key or
    s3:// address of the object, or a path (absolute, or from here) of a file under SOURCE. What
    names nothing under SOURCE is returned as given (it is then not found, or refused)."""
    if source_uri.startswith("s3://"):
        bucket, prefix = split_s3_uri(source_uri)
        if given.startswith("s3://"):
            named_bucket, _, key = given.removeprefix("s3://").partition("/")
            return key[len(prefix):] if named_bucket == bucket and key.startswith(prefix) else given
        if prefix and given.startswith(prefix) and not _s3_exists(bucket, prefix + given):
            return given[len(prefix):]   # the full object key, as the bucket's console shows it
        return given
    root = Path(source_uri).expanduser().resolve()
    if not Path(given).is_absolute() and os.path.lexists(root / given):
        return given
    path = Path(given).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    # the file's folder resolved, not the file: a link keeps its own name, and read() judges it
    path = path.parent.resolve() / path.name
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else given


def _s3_exists(bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3_client().head_object(Bucket=bucket, Key=key)
        return True
    except ClientError:
        return False


def open_source(uri: str) -> Source:
    """A source URI (a folder path or s3://bucket/prefix) -> its Source.
    Raises ValueError when a local folder does not exist."""
    if uri.startswith("s3://"):
        return S3Source(*split_s3_uri(uri))
    root = Path(uri).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"source folder not found: {uri}")
    return LocalSource(root)
