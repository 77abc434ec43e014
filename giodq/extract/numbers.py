"""Raw cell text -> number. The raw text is always kept; this only reads it."""
from __future__ import annotations

import re
import sys
from functools import cache

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


def valid_cell_pattern(kind: str) -> str:
    """The regex a well-formed cell of a kind matches (value.type): a count is a whole
    number, an amount a decimal, a change may be signed; each may carry a note, and
    a zero marker (blank included) is always valid. Python's ``\\d`` and ``\\s`` are spelt
    out as the characters they match, and the end is ``\\Z``: pandas hands a pattern with
    ``\\d``, ``\\s`` or ``$`` to Python's re one cell at a time (half of GX's time over a
    district's cells), and one without them to Arrow's RE2, which then matches the same cells."""
    d, s = _python_class(r"\d"), _python_class(r"\s")
    digits = rf"(?:{d}{{1,3}}(?:,{d}{{3}})+|{d}+)"
    number = {"count": rf"{digits}(?:\.0+)?", "amount": rf"{digits}(?:\.{d}+)?",
              "change": rf"[+-]?{digits}(?:\.0+)?"}[kind]
    note = rf"(?:{s}*[（(][^）)]*[）)])?"
    markers = "|".join(re.escape(m) for m in ZERO_MARKERS if m)
    # \Z for $: after \s*, the end of the text and "before a final newline" accept the same cells
    return rf"^{s}*(?:{number}{note}|{markers})?{s}*\Z"


@cache
def _python_class(category: str) -> str:
    """The characters Python's re matches with ``category`` (\\d: every Unicode decimal digit,
    \\s: every Unicode space) as a character class of ranges, the same in Python's re and RE2."""
    test = re.compile(category).fullmatch
    ranges: list[list[int]] = []
    for point in range(sys.maxunicode + 1):
        if test(chr(point)):
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1][1] = point
            else:
                ranges.append([point, point])

    def char(point: int) -> str:   # printable non-ASCII as itself; the rest as \xhh (below 256)
        return chr(point) if point > 0xFF or (0x20 < point < 0x7F and chr(point).isalnum()) else f"\\x{point:02x}"

    return "[" + "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges) + "]"
