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


def open_source(uri: str) -> Source:
    """A source URI (a folder path) -> its Source. Raises ValueError when it does not exist."""
    if uri.startswith("s3://"):
        raise ValueError("s3:// sources are not supported in this version yet")
    root = Path(uri).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"source folder not found: {uri}")
    return LocalSource(root)
