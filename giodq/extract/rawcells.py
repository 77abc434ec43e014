"""A report's raw cells held compactly: the format's keys once for every report, and a tuple of the
texts as written. A batch's reports come from the extraction workers with their cells (then
packed, extract/packed.py), and a dict of ~200 cells per report was most of each one (~40 MB per
10,000 reports)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache

from giodq import cells as cm


@cache
def _keys(fmt: str) -> tuple[tuple[str, ...], dict[str, int]]:
    keys = tuple(c.key for c in cm.cells_for(fmt))
    return keys, {k: i for i, k in enumerate(keys)}


class RawCells(Mapping):
    """key -> the text as written ('' blank, None not located), for every canonical cell of ``fmt``,
    read-only; equal to the dict it was made from."""
    __slots__ = ("fmt", "texts")

    def __init__(self, fmt: str, texts: tuple):
        self.fmt, self.texts = fmt, texts

    @classmethod
    def of(cls, fmt: str, raw: dict[str, str | None]) -> Mapping[str, str | None]:
        """``raw`` compact when it holds exactly its format's cells, in order; else as it is."""
        keys, _ = _keys(fmt) if fmt in cm.TABLE_FORMATS else ((), {})
        if not keys or tuple(raw) != keys:
            return raw
        return cls(fmt, tuple(raw.values()))

    def __getitem__(self, key: str):
        return self.texts[_keys(self.fmt)[1][key]]

    def get(self, key, default=None):
        at = _keys(self.fmt)[1].get(key)
        return default if at is None else self.texts[at]

    def __iter__(self) -> Iterator[str]:
        return iter(_keys(self.fmt)[0])

    def __len__(self) -> int:
        return len(self.texts)

    def __repr__(self) -> str:
        return f"RawCells({self.fmt!r}, {dict(self)!r})"

    def __reduce__(self):   # pickled as the format and the texts: the keys are not sent to and fro
        return RawCells, (self.fmt, self.texts)
