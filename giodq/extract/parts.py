"""Rows -> the six parts of the report format (国办公开办函〔2021〕30号) and the prose of part five.

A part is found by its heading: its number (五、 or 第五部分) and, within the next few characters,
a key word of its title, since headings vary (四、因政府信息公开工作被申请行政复议、提起行政诉讼情况).
A heading that lost its number in a conversion (the PDF text where 五、 went missing and
（二）2025 年工作中存在的主要问题 is left) is found by its title's key phrase alone, on a short line
between the parts around it. In flattened text (a crawler's: every heading inside one long line)
headings are looked for anywhere in the line.

A text that ends in a heading (五、存在的主 and nothing after) was cut off: the parts after it are
not there to judge, which is said (``Parts.cut``), not reported as missing.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from giodq.extract.tables import Row

_CN = "一二三四五六"
_FLAT = 200          # a line this long holds flattened text (tables.flat_text)
_SHORT = 40          # a heading without its number stands on a line at most this long


@dataclass(frozen=True)
class Part:
    number: int
    title: str       # 中文, as the format writes it
    keys: str        # regex: key words of the title right after the number
    phrase: str      # regex: the title's key phrase, for a heading that lost its number


PARTS: tuple[Part, ...] = (
    Part(1, "一、总体情况", r"总体|概述|概况|基本情况", r"总体情况"),
    Part(2, "二、主动公开政府信息情况", r"主动公开", r"主动公开政府信息"),
    Part(3, "三、收到和处理政府信息公开申请情况", r"收到和处理|依申请|申请", r"收到和处理政府信息公开申请"),
    Part(4, "四、政府信息公开行政复议、行政诉讼情况", r"复议|诉讼", r"行政复议[、和及]?行政诉讼"),
    Part(5, "五、存在的主要问题及改进情况", r"问题|改进|整改|存在", r"存在的?主要问题|存在问题|改进情况|改进措施|整改措施"),
    Part(6, "六、其他需要报告的事项", r"其[他它]", r"其[他它]需要报告的事项"),
)


def _heading(part: Part, anywhere: bool) -> re.Pattern:
    number = rf"(?:第{_CN[part.number - 1]}部分|{_CN[part.number - 1]}\s*[、.．])"
    return re.compile(rf"{'' if anywhere else '^'}{number}\s*[^。；;\d]{{0,20}}?(?:{part.keys})")


_AT_START = {p.number: _heading(p, False) for p in PARTS}
_ANYWHERE = {p.number: _heading(p, True) for p in PARTS}
_PHRASE = {p.number: re.compile(p.phrase) for p in PARTS}
# The rest of a heading after its key word: 五、存在的主要问题 | 及改进情况
_TITLE_REST = re.compile(r"^[^。；;：:（(\d]{0,12}?(?:情况|措施|事项)")


@dataclass(frozen=True)
class Parts:
    """Where each of the six parts starts in the document's text (an offset; None: not found),
    how it was found (``heading``: number and key words, ``phrase``: key phrase alone), whether it
    stands after the parts before it, where the text was cut off, and part five's prose."""
    at: tuple[int | None, ...]
    how: tuple[str, ...]
    in_order: tuple[bool, ...]
    cut: int | None            # the text ends in this part's heading: the parts after it are not there to judge
    five: str                  # part five without its heading ('' when the part has no text or is not found)


def document_text(rows: list[Row]) -> tuple[str, list[tuple[int, int, bool]]]:
    """Rows -> the text, one row a line (table cells joined by " | "), and for each prose line its
    (start, end, flattened): headings are looked for in prose lines only."""
    lines, spans, pos = [], [], 0
    for row in rows:
        cells = [c for c in row if c]
        if not cells:
            continue
        # markdown marks before a heading: ## 一、总体情况, **一、总体情况**
        text = re.sub(r"^[#*\s]+", "", unicodedata.normalize("NFKC", " | ".join(cells)).replace("\u3000", " ").strip())
        if len(cells) == 1:
            spans.append((pos, pos + len(text), len(text) > _FLAT))
        lines.append(text)
        pos += len(text) + 1
    return "\n".join(lines), spans


def read_parts(rows: list[Row]) -> Parts:
    """Rows of a report -> its six parts (see the module's docstring)."""
    text, spans = document_text(rows)
    headings: dict[int, list[int]] = {p.number: [] for p in PARTS}
    for start, end, flat in spans:
        line = text[start:end]
        for n in headings:
            if flat:
                headings[n] += [start + m.start() for m in _ANYWHERE[n].finditer(line)]
            elif _AT_START[n].match(line):
                headings[n].append(start)
    at: list[int | None] = [None] * 6
    how = [""] * 6
    in_order = [False] * 6
    last = -1
    for n in range(1, 7):                       # each part: its first heading after the part before
        after = [h for h in headings[n] if h > last]
        if after:
            at[n - 1], how[n - 1], in_order[n - 1], last = after[0], "heading", True, after[0]
        elif headings[n]:
            at[n - 1], how[n - 1] = headings[n][0], "heading"     # there, but before a part it should follow
    for n in range(1, 7):                       # a heading that lost its number: its key phrase, in its place
        if at[n - 1] is not None:
            continue
        low = max([a for a, ok in zip(at[: n - 1], in_order) if a is not None and ok], default=-1)
        high = min([a for a in at[n:] if a is not None], default=len(text))
        for start, end, flat in spans:
            if low < start < high and not flat and end - start <= _SHORT and _PHRASE[n].search(text[start:end]):
                at[n - 1], how[n - 1], in_order[n - 1] = start, "phrase", True
                break
    return Parts(tuple(at), tuple(how), tuple(in_order), _cut(text, at), _five(text, at))


def _cut(text: str, at: list[int | None]) -> int | None:
    """The part whose heading the text ends in (nothing but the heading after it), if any."""
    found = [(a, n) for n, a in enumerate(at, start=1) if a is not None]
    if not found:
        return None
    start, n = max(found)
    rest = text[start:]
    return n if len(rest.strip()) <= len(PARTS[n - 1].title) + 2 and "\n" not in rest.strip() else None


def _five(text: str, at: list[int | None]) -> str:
    """The prose of part five, from its heading to part six's (or the end), the heading removed."""
    start = at[4]
    if start is None:
        return ""
    ends = [a for a in at[5:] if a is not None and a > start]
    body = text[start: min(ends) if ends else len(text)]
    m = _ANYWHERE[5].match(body) or _PHRASE[5].search(body.split("\n", 1)[0])
    first, _, rest = body.partition("\n")
    if m and len(first) <= _SHORT:
        return rest.strip()                     # a heading line of its own
    if m:
        tail = body[m.end():]
        return tail[_TITLE_REST.match(tail).end():].strip() if _TITLE_REST.match(tail) else tail.strip()
    return body.strip()
