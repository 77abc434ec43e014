"""Ingest: where report files come from. A source lists keys and reads bytes; a local
folder is the embedded default and object storage is a second implementation of the
same two calls, so the pipeline never branches on where files live."""
from giodq.ingest.source import (
    UNREAD,
    InputRef,
    InputRefused,
    LocalSource,
    S3Source,
    Source,
    check_key,
    key_as_given,
    open_source,
    read_many,
)

__all__ = ["UNREAD", "InputRef", "InputRefused", "LocalSource", "S3Source", "Source", "check_key", "key_as_given",
           "open_source", "read_many"]
