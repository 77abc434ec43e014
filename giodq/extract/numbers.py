"""Raw cell text -> number. The raw text is always kept; this only reads it."""
from __future__ import annotations

import re

# How reports write "none" in a cell (report-format.md, zero.markers). Blank is one too.
ZERO_MARKERS = ("", "0", "/", "／", "-", "－", "—", "——", "–", "无")

# A number as written in a cell, optionally followed by a note: "22（其中修订16件）".
NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUMBER_AT_START = re.compile(rf"^\s*({NUMBER})")
_VALUE_CELL = re.compile(rf"^\s*{NUMBER}\s*(?:[（(][^）)]*[）)])?\s*$")
_MARKERS = frozenset(ZERO_MARKERS)


def parse_value(raw: str | None) -> float | None:
    """The number a cell says: 0 for a zero marker, None for no cell or no number."""
    if raw is None:
        return None
    s = raw.strip()
    if s in _MARKERS:
        return 0.0
    m = _NUMBER_AT_START.match(s)
    return float(m.group(1).replace(",", "")) if m else None


def is_value_cell(text: str) -> bool:
    """True for a cell that holds a number or a non-blank zero marker (not a label)."""
    s = text.strip()
    return (s != "" and s in _MARKERS) or bool(_VALUE_CELL.match(s))


_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_NOTE = r"(?:\s*[（(][^）)]*[）)])?"


def valid_cell_pattern(kind: str) -> str:
    """The regex a well-formed cell of a kind matches (value.type): a count is a whole
    number, an amount a decimal, a change may be signed; each may carry a note, and
    a zero marker (blank included) is always valid."""
    number = {"count": rf"{_DIGITS}(?:\.0+)?", "amount": rf"{_DIGITS}(?:\.\d+)?",
              "change": rf"[+-]?{_DIGITS}(?:\.0+)?"}[kind]
    markers = "|".join(re.escape(m) for m in ZERO_MARKERS if m)
    return rf"^\s*(?:{number}{_NOTE}|{markers})?\s*$"
