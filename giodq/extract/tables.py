"""Rows -> the three standard tables' canonical cells.

Rows are matched by their labels, not their position, so that numbering and
spacing variants (（一）/(一), 1./1、, 自 然 人) and reordered or merged header
rows do not matter. A cell that cannot be located is None: never guessed, never 0.

Only in table 3, a row whose label is lost or misprinted is read by its place between two
labelled rows, when the place is certain: as many such rows in the gap as canonical rows
missing there (``_place_by_order``). Its number agreeing with the slot's (2.其他法律行政止公开
between 1. and 3. of 不予公开) makes it a labelled row with a note; otherwise it is *placed by
position* (``TableRead.placed``), and an identity over it is a warning at most.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from giodq import cells as cm
from giodq.extract.han import HAN
from giodq.extract.numbers import is_value_cell

Row = list[str]

# Section headings of the report (二、主动公开…, 三、收到和处理…, 四、…行政复议…, 五、…).
_SECTION_HEADINGS = (
    ("t2", re.compile(r"^二[、.．]\s*(?:行政机关)?主动公开政府信息")),
    ("t3", re.compile(r"^三[、.．]\s*(?:行政机关)?收到和处理政府信息公开申请")),
    ("t4", re.compile(r"^四[、.．].*(?:行政复议|行政诉讼)")),
    ("end", re.compile(r"^[五六][、.．].*(?:问题|改进|其他需要报告)")),
)
_NUMBERING = re.compile(r"^(?:[(（]?[一二三四五六七八九十]+[)）]?[、.．]?|[(（]?\d{1,2}[)）]|\d{1,2}[、.．])\s*")
_DROP = re.compile(r"[\s“”\"'‘’「」:：]")


def norm_label(text: str) -> str:
    """A label as compared: full-width folded, spaces, quotes and leading numbering removed."""
    s = _DROP.sub("", unicodedata.normalize("NFKC", text))
    while True:
        stripped = _NUMBERING.sub("", s, count=1)
        if stripped == s:
            return s
        s = stripped


def _match_row(label: str, rows: tuple[cm.Row, ...]) -> cm.Row | None:
    n = norm_label(label)
    if not n:
        return None
    for r in rows:
        if r.exact and n in r.aliases:
            return r
    for r in rows:
        if not r.exact and any(a in n for a in r.aliases):
            return r
    return None


def split_row(row: Row) -> tuple[list[str], list[str]]:
    """A row -> (its label cells, the cells after the last label)."""
    last = max((i for i, c in enumerate(row) if c and not is_value_cell(c)), default=-1)
    return [c for c in row[: last + 1] if c], row[last + 1:]


_LABEL_THEN_NUMBERS = re.compile(r"^(?P<label>[^\d\s][^|]*?)\s+(?P<values>[\d.,]+(?:\s+[\d.,]+)*)$")


def _split_cell(row: Row) -> Row:
    """A row written as one cell, "行政许可 2293" or "规章 0 0 0": label and numbers apart."""
    filled = [c for c in row if c]
    if len(filled) != 1:
        return row
    m = _LABEL_THEN_NUMBERS.match(filled[0])
    if not m or not all(is_value_cell(v) for v in m.group("values").split()):
        return row
    return [m.group("label")] + m.group("values").split()


def _padding(cell: str) -> bool:
    """A blank that may be merged cells' padding: not a number OCR read and was unsure of
    (ocr.OcrText: ``unsure`` and not ``spanned``), which dropped would shift the row's numbers."""
    return cell == "" and not (getattr(cell, "unsure", False) and not getattr(cell, "spanned", False))


def fit_values(values: list[str], n: int) -> list[str] | None:
    """The n value cells of a row. Blank cells inside a run of numbers are cells
    (a blank 法人 column); blank padding left by merged cells at either end is not."""
    v = list(values)
    while len(v) > n and v and _padding(v[-1]):
        v.pop()
    while len(v) > n and v and _padding(v[0]):
        v.pop(0)
    if len(v) != n or not any(is_value_cell(c) for c in v):
        return None
    return v


def sections(rows: list[Row]) -> dict[str, list[Row]]:
    """Rows grouped by the report section they stand in; 'all' holds every row."""
    out: dict[str, list[Row]] = {"all": rows}
    current = None
    for row in rows:
        labels, values = split_row(row)
        if len(labels) == 1 and not any(values):
            heading = re.sub(r"^#+\s*", "", unicodedata.normalize("NFKC", labels[0]).strip())  # markdown ## 三、
            for name, pattern in _SECTION_HEADINGS:
                if pattern.match(heading):
                    current = name
                    break
        if current:
            out.setdefault(current, []).append(row)
    return out


@dataclass
class TableRead:
    """What was read of one report's tables: raw text per canonical key (None: not located),
    and the rows placed only by their position (row key, e.g. ``t3.partially_granted`` -> why, 中文)."""
    raw: dict[str, str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    placed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Line:
    """A table row on the page, in page order: the canonical row it names (its index in the
    spec), or None with its values and label when its label names none."""
    index: int | None
    values: list[str] | None = None
    label: str = ""


def _labelled_rows(rows: list[Row], table: str, spec, read: TableRead, by_order: bool = False,
                   similar: bool = False) -> None:
    """Fill a labelled table (t2, t3) from rows whose label names a canonical row; with
    ``by_order``, then the rows whose label names none, where their place is certain. With
    ``similar`` (labels read by OCR), a label that names none is taken for the canonical label it is
    clearly closest to (_similar_row), and the row is in doubt."""
    by_row = {r.key: cols for r, cols in spec}
    row_defs = tuple(r for r, _ in spec)
    order = {r.key: i for i, (r, _) in enumerate(spec)}
    n_cols = {len(cols) for _, cols in spec}
    seen: set[str] = set()
    lines: list[_Line] = []
    for row in rows:
        labels, tail = split_row(_split_cell(row))
        if not labels or not any(is_value_cell(c) for c in tail):
            key = _malformed_row(row, table, row_defs, by_row, seen, read)
            if key:
                lines.append(_Line(order[key]))
            elif not labels and any(is_value_cell(c) for c in tail):   # numbers whose label was lost
                lines.append(_Line(None, _fit_any(tail, n_cols)))
            continue
        canon = _match_row(labels[-1], row_defs) or _match_row("".join(labels), row_defs)
        if canon is None and similar:
            canon, shown = _similar_row([labels[-1], "".join(labels)], row_defs, seen)
            if canon is not None:
                read.placed.setdefault(f"{table}.{canon.key}", f"标签「{shown}」识别不清，按字形相近推定为「{canon.label}」")
                read.problems.append(f"{table}.{canon.key}: 行「{shown}」的标签按字形相近读作「{canon.label}」")
        if canon is None:
            lines.append(_Line(None, _fit_any(tail, n_cols), labels[-1]))
            continue
        if canon.key in seen:
            continue
        lines.append(_Line(order[canon.key]))
        cols = by_row[canon.key]
        values = fit_values(tail, len(cols))
        if values is None:
            read.problems.append(f"{table}.{canon.key}: 行「{labels[-1]}」有 {len([c for c in tail if c])} 个数值，应为 {len(cols)} 个")
            seen.add(canon.key)
            continue
        seen.add(canon.key)
        for col, raw in zip(cols, values):
            read.raw[cm.key(table, canon.key, col.key)] = raw
    if by_order:
        _place_by_order(lines, table, spec, seen, read)


_SIMILAR, _CLEARLY = 0.6, 0.15   # a label this close to one canonical label, and this much closer than to any other


# Brackets OCR reads for the （） of a row's numbering: （七）总计 read as 〈七)总计
_OCR_BRACKETS = str.maketrans({"〈": "（", "《": "（", "<": "（", "〉": "）", "》": "）", ">": "）"})


def _similar_row(labels: list[str], rows: tuple[cm.Row, ...], seen: set[str]) -> tuple[cm.Row | None, str]:
    """The canonical row (not yet read) that OCR'd labels (the last label cell, then all of them
    joined) name once misread brackets are mended, or are clearly closest to by the characters they
    share in order (difflib); with the label it rests on. (None, '') when none is clear."""
    from difflib import SequenceMatcher

    for label in labels:
        mended = label.translate(_OCR_BRACKETS)
        canon = _match_row(mended, rows)
        if canon is not None and canon.key not in seen:
            return canon, label
        n = norm_label(mended)
        if len(n) < 2:
            continue
        scored = sorted(((SequenceMatcher(None, n, norm_label(_last_numbering(r.label).removeprefix("三"))).ratio(), r)
                         for r in rows if r.key not in seen), key=lambda x: -x[0])
        if scored and scored[0][0] >= _SIMILAR and (len(scored) == 1 or scored[0][0] - scored[1][0] >= _CLEARLY):
            return scored[0][1], label
    return None, ""


def _fit_any(tail: list[str], n_cols: set[int]) -> list[str] | None:
    """The value cells of a row whose label names no canonical row, when they fit a row of the table."""
    fits = [v for n in sorted(n_cols) if (v := fit_values(tail, n)) is not None]
    return fits[0] if len(fits) == 1 else None


def _place_by_order(lines: list[_Line], table: str, spec, seen: set[str], read: TableRead) -> None:
    """Rows whose label names no canonical row, read by their place: between two labelled rows
    a and b (in the form's order), when the rows in between are exactly as many as the canonical
    rows missing between a and b, each with the number of cells of its row. Anything else there
    (a row that does not fit, a count that differs) and nothing in the gap is read."""
    anchors = [i for i, line in enumerate(lines) if line.index is not None]
    for p, q in zip(anchors, anchors[1:]):
        a, b = lines[p].index, lines[q].index
        if b <= a + 1 or q == p + 1:
            continue
        missing = [spec[i] for i in range(a + 1, b) if spec[i][0].key not in seen]
        loose = lines[p + 1: q]
        if len(missing) != len(loose) or any(line.values is None or len(line.values) != len(cols)
                                             for line, (_, cols) in zip(loose, missing)):
            continue
        before, after = spec[a][0].label, spec[b][0].label
        for line, (row_def, cols) in zip(loose, missing):
            seen.add(row_def.key)
            for col, raw in zip(cols, line.values):
                read.raw[cm.key(table, row_def.key, col.key)] = raw
            shown = f"「{line.label}」" if line.label else "（标签缺失）"
            number = item_number(line.label)
            if number is not None and number == item_number(_last_numbering(row_def.label)):
                read.problems.append(f"{table}.{row_def.key}: 行{shown}的标签与格式不符，按其编号和位置"
                                     f"（「{before}」与「{after}」之间）读作「{row_def.label}」")
                continue
            read.placed[f"{table}.{row_def.key}"] = f"「{row_def.label}」行{'标签缺失' if not line.label else '标签无法识别'}，按位置推定"
            read.problems.append(f"{table}.{row_def.key}: 行{shown}按其位置（「{before}」与「{after}」之间）"
                                 f"推定为「{row_def.label}」；依据该行的勾稽关系只作提示")


_CN_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_ITEM_NUMBER = re.compile(r"^\s*(?:[(（]\s*([一二三四五六七八九十]{1,2})\s*[)）]|([一二三四五六七八九十]{1,2})\s*[、.．]"
                          r"|[(（]?\s*(\d{1,2})\s*[.、．)）])")


def item_number(label: str) -> int | None:
    """The number a row label opens with: 2 for "2.其他…", "（二）部分公开" and "二、…"."""
    m = _ITEM_NUMBER.match(unicodedata.normalize("NFKC", label or "").replace("(", "（").replace(")", "）"))
    if not m:
        return None
    if m.group(3):
        return int(m.group(3))
    cn = m.group(1) or m.group(2)
    return _CN_NUMERALS.get(cn) if len(cn) == 1 else 10 + _CN_NUMERALS.get(cn[1], 0)


def _last_numbering(label: str) -> str:
    """The canonical label from its last numbering on: "三（三）不予公开 2.其他…" -> "2.其他…"."""
    starts = [m.start() for m in re.finditer(r"[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、|\d{1,2}\.", label)]
    return label[starts[-1]:] if starts else label


def _malformed_row(row: Row, table: str, row_defs, by_row, seen: set[str], read: TableRead) -> str | None:
    """A canonical label followed by exactly its number of filled cells, some not numbers
    ("规章 | 3 | 无效 | 5"): keep what is written, so value.type can say what is wrong.
    Returns the row key read, if any."""
    for i, cell in enumerate(row):
        canon = _match_row(cell, row_defs) if cell else None
        if canon is None:
            continue
        rest, cols = _trim(row[i + 1:]), by_row[canon.key]
        if canon.key not in seen and len(rest) == len(cols) and all(rest) \
                and not any(_match_row(c, row_defs) for c in rest):
            seen.add(canon.key)
            for col, raw in zip(cols, rest):
                read.raw[cm.key(table, canon.key, col.key)] = raw
            return canon.key
        return None
    return None


def _trim(cells: list[str]) -> list[str]:
    i, j = 0, len(cells)
    while i < j and cells[i] == "":
        i += 1
    while j > i and cells[j - 1] == "":
        j -= 1
    return cells[i:j]


_T4_CELLS = len(cm.T4_ROWS) * len(cm.T4_COLS)
# The numbers after table 4's header when the two ran together ("…尚未审结总计000000000000000").
_T4_RUN = re.compile(r"(?:总计|审结|总\s*计)\s*(\d[\d\s]*?)\s*$")


def _t4(rows: list[Row], read: TableRead, flat: str = "") -> None:
    """Table 4 is one row of 15 numbers under a two-level header (sometimes wrapped). Header and
    numbers run together in one cell, or the numbers in one run of digits, are split only where
    the split is forced: 15 numbers apart, or 15 digits for 15 cells (split_run)."""
    n = _T4_CELLS
    values: list[str] = []
    for row in rows:
        tail = _trim(split_row(row)[1])
        if any(is_value_cell(c) for c in tail):
            values.extend(tail)
        if len(values) >= n:
            break
    if len(values) != n:
        run = values[0] if len(values) == 1 and values[0].isdigit() and len(values[0]) > 1 else None
        if not values:
            texts = (unicodedata.normalize("NFKC", "".join("".join(r) for r in rows)), _flat_region(flat, "t4"))
            m = next((m for m in map(_T4_RUN.search, texts) if m), None)
            run = m.group(1).strip() if m else None
        split = split_run(run, n) if run else None
        if split is None:
            if run:
                read.problems.append(f"t4: 单元格连在一起（“{run}”），无法确定如何拆分，未读取")
            elif values:
                read.problems.append(f"t4: 找到 {len(values)} 个数值，应为 {n} 个")
            return
        values = split
    it = iter(values)
    for r in cm.T4_ROWS:
        for c in cm.T4_COLS:
            read.raw[cm.key("t4", r.key, c.key)] = next(it)


# Where each table stands in text whose cells ran together (a crawler's flattening of a page).
_FLAT_REGIONS = {
    "t2": (r"二[、.．]\s*主动公开政府信息", r"三[、.．]\s*收到和处理"),
    "t3": (r"三[、.．]\s*收到和处理", r"四[、.．][^。]{0,20}(?:行政复议|行政诉讼)"),
    "t4": (r"四[、.．][^。\d]{0,20}(?:行政复议|行政诉讼)", r"五[、.．]"),
}


def _flat_region(flat: str, table: str) -> str:
    """The stretch of flattened text that holds one table ('' when its heading is not there)."""
    start, end = _FLAT_REGIONS[table]
    m = re.search(start, flat) if flat else None
    if not m:
        return ""
    stop = re.compile(end).search(flat, m.end())
    return flat[m.end(): stop.start() if stop else len(flat)]


def split_run(run: str, n: int, kind: str = cm.COUNT) -> list[str] | None:
    """A run of digits read off flattened text -> n cells, only where the split is certain:
    n tokens separated by spaces, or n digits for n cells (every cell one digit).
    "640020470" for 7 cells is not certain, and is not guessed."""
    tokens = run.split()
    if len(tokens) == n and all(re.fullmatch(r"\d+(?:\.\d{1,4})?" if kind == cm.AMOUNT else r"\d+", t) for t in tokens):
        return tokens
    digits = "".join(tokens)
    if digits.isdigit() and len(digits) == n:
        return list(digits)
    return None


def flat_text(rows: list[Row]) -> str:
    """The long lines of a document run together: where a crawler flattened the tables."""
    return unicodedata.normalize("NFKC", "".join(r[0] for r in rows if len(r) == 1 and len(r[0]) > 200))


def _flat_rows(flat: str, table: str, spec, read: TableRead) -> None:
    """Fill still-missing rows of a labelled table from text whose cells ran together."""
    missing = [(r, cols) for r, cols in spec if all(read.raw.get(cm.key(table, r.key, c.key)) is None for c in cols)]
    region = _flat_region(flat, table) if missing else ""
    if not region:
        return
    for r, cols in missing:
        run = _run_after_label(region, r)
        if run is None:
            continue
        values = split_run(run, len(cols), cols[0].kind)
        if values is None:
            read.problems.append(f"{table}.{r.key}: 单元格连在一起（“{run}”），无法确定如何拆分，未读取")
            continue
        for col, raw in zip(cols, values):
            read.raw[cm.key(table, r.key, col.key)] = raw


# The start of the next row's label: (二) / 三、 / 2.
_NEXT_LABEL = re.compile(rf"[（(][一二三四五六七八九十][）)]|[一二三四五六七八九十]、|\d[.、][{HAN}]")


def _run_after_label(region: str, r: cm.Row) -> str | None:
    """The digits that follow a row's label in flattened text, without the next row's numbering."""
    for alias in r.aliases:
        for hit in re.finditer(re.escape(alias), region):
            rest = region[hit.end():]
            # the rest of a long label (…政府信息公开申请数量), but never into the next row's label
            m = re.match(r"([^\d]{0,40}?)(\d[\d.,]*(?:\s+\d[\d.,]*)*)", rest)
            if not m or (r.exact and m.group(1).strip()) or _NEXT_LABEL.search(m.group(1)):
                continue
            run = m.group(2)
            after = rest[m.end():]
            if re.match(r"\d[.、]$", run[-2:]) and re.match(rf"[{HAN}]", after):
                run = run[:-2]  # "00000002.其他法律…": the 2. numbers the next row
            return run.strip(".,、") or None
    return None


def read_tables(rows: list[Row], fmt: str, scanned: bool = False) -> TableRead:
    """Rows of a report -> raw text for every canonical cell of its format (``scanned``: the rows were
    read by OCR, and a misread label is matched by its likeness)."""
    read = TableRead(raw={c.key: None for c in cm.cells_for(fmt)})
    if fmt == "legacy":
        return read
    sec = sections(rows)
    t2_spec = cm.T2_2019 if fmt == "2019" else cm.T2_2021
    t3_rows = tuple(r for r in cm.T3_ROWS if not (fmt == "2019" and r.key in cm.T3_ROWS_ABSENT_2019))
    t3_spec = tuple((r, cm.T3_COLS) for r in t3_rows)
    _labelled_rows(sec.get("t2") or sec["all"], "t2", t2_spec, read, similar=scanned)
    _labelled_rows(sec.get("t3") or sec["all"], "t3", t3_spec, read, by_order=True, similar=scanned)
    flat = flat_text(rows)
    _flat_rows(flat, "t2", t2_spec, read)
    _flat_rows(flat, "t3", t3_spec, read)
    _t4(sec.get("t4") or [r for r in rows if len(_trim(split_row(r)[1])) == 15], read, flat)
    return read


def detect_format(rows: list[Row]) -> str | None:
    """The table format the page itself shows, or None when it does not say."""
    text = "".join("".join(r) for r in rows)
    if "本年新制作数量" in text or "上一年项目数量" in text:
        return "2019"
    if "逾期不补正" in text or "本年制发件数" in text:
        return "2021"
    return None
