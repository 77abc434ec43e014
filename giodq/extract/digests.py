"""The narrative's sentence digests (cross_year.copied) held as bytes: 8 bytes for each digest of 16 hex
characters, instead of a Python string of ~65 bytes and a list's pointer. A province's reports hold
~50 each from extraction until the dataset is written (~150 MB at 50,000 reports as strings); the
reports table holds them so too, and they become lists of the strings a row group at a time as
reports.parquet is written (publish/dataset.py)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_HEX16 = re.compile(r"[0-9a-f]{16}")


class Digests(Sequence):
    """A sequence of 16-hex-character digests, read as the strings; equal to a list of them."""
    __slots__ = ("data",)

    def __init__(self, data: bytes = b""):
        self.data = data

    @classmethod
    def of(cls, digests: Iterable[str]) -> Sequence[str]:
        """``digests`` as Digests, or as a list where one is not 16 lower-case hex characters."""
        digests = list(digests)
        if not all(isinstance(d, str) and _HEX16.fullmatch(d) for d in digests):
            return digests
        return cls(bytes.fromhex("".join(digests)))

    def __len__(self) -> int:
        return len(self.data) // 8

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = i + len(self) if i < 0 else i
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.data[8 * i:8 * i + 8].hex()

    def __iter__(self):
        text = self.data.hex()
        return (text[j:j + 16] for j in range(0, len(text), 16))

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"Digests({list(self)!r})"

    def __reduce__(self):
        return Digests, (self.data,)

