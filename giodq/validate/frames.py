"""Extracted reports -> the pandas frames GX validates (and the dataset stores).

Each accounting identity is a row-wise sum over one axis of a table, so each
table is also laid out along that axis, one row per report and line of the table:

- ``cells``: one row per report and canonical cell (report, key, table, row, col,
  label, kind, raw, value): the dataset's cells.parquet, and value.type/form.tables.
- ``t3_columns``: one row per report and table-3 column, one column per table-3 row
  (t3.flow, t3.results).
- ``t3_rows``: one row per report and table-3 row, one column per applicant column
  (t3.row_total).
- ``t4_rows``: one row per report and table-4 row (t4.total).
- ``reports``: one row per readable report: format, years, publication date (form.*).
- ``tables``, ``totals``: how each table and each total writes "none" (zero.markers).
- ``claims``, ``shares``, ``placeholders``: what the narrative states (narrative.*, form.placeholder).
- ``sections``, ``problems``: the six parts of the format, and what part five states (form.sections,
  narrative.problems).
- ``carry``, ``in_force``, ``copied``, ``jump``: a report beside the same body's report of the year
  before (cross_year.*); which report that is, when the body has several for the year before, is
  ``_predecessors``'s rule.

So one expectation checks a rule for every report and line at once. Frames are
built column-wise: a district has millions of cells.

What a finding may rest on: the identity and claim frames take the cells' values with two
doubts applied. A total left blank while its parts carry numbers is unknown, not 0
(``unknown_totals``: null, so that the line is not assessed). A table row placed only by its
position (extract.tables) is named in the line's ``doubt`` columns, and the suites check such
lines with a warning, never an error.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from giodq import cells as cm
from giodq.categorical import categorical, plain_strings
from giodq.extract import Extracted, ocr
from giodq.extract.numbers import ZERO_MARKERS, parse_value
from giodq.extract.parts import PARTS
from giodq.extract.rawcells import RawCells
from giodq.extract.waiting import columns_of
from giodq.district import coverage as cov
from giodq.district.scope import District
from giodq.validate import levels as lv

CELL_COLUMNS = ["report", "key", "table", "row", "col", "label", "kind", "raw", "value"]
# The column that names a line of the table in each frame, next to "report".
INDEX_COLUMNS = {
    "t3_columns": ["report", "col", "doubt_flow", "doubt_results"], "t3_rows": ["report", "row", "doubt"],
    "t4_rows": ["report", "row"],
    "cells": ["report", "key"], "reports": ["report", "deadline_basis", "body", "unit", "spelling"], "tables": ["report", "table", "zero_cells"],
    "totals": ["report", "key"],
    "claims": ["report", "sentence", "subject", "cells", "doubt"],
    "shares": ["report", "sentence", "stated", "count", "base"],
    "placeholders": ["report", "sentence"],
    "sections": ["report", "part", "title", "how", "before"], "problems": ["report", "sentence", "lacking"],
    "carry": ["report", "previous", "col", "doubt"], "in_force": ["report", "previous", "row"],
    "copied": ["report", "previous", "sentences", "same"], "jump": ["report", "previous", "count", "label", "this", "prev"],
    "coverage": ["unit", "year", "level", "deadline"],
}


def cells_frame(reports: list[Extracted]) -> pd.DataFrame:
    """Every canonical cell of every readable report, found or not. The report and the catalogue's
    columns (key, table, row, col, label, kind) are categoricals, their categories sorted as the
    strings sort: a district has millions of cells and only a few hundred distinct keys and labels,
    so filters, groupings and pivots work on small integer codes (categorical.plain_strings turns
    them back into strings where the dataset is written)."""
    every = list(cm.all_cells().values())
    code = {c.key: i for i, c in enumerate(every)}
    layouts: dict[str, tuple[list[str], np.ndarray]] = {}   # format -> its keys, their rows in ``every``
    names, counts, codes, raws, read_by_ocr = [], [], [], [], []
    at = 0
    for r in reports:
        if r.status != "ok":
            continue
        if r.format not in layouts:
            keys = [c.key for c in cm.cells_for(r.format)]
            layouts[r.format] = keys, np.array([code[k] for k in keys], dtype=np.int32)
        fmt_keys, fmt_codes = layouts[r.format]
        if r.ocr:
            read_by_ocr.append((at, [r.ocr.get(k) for k in fmt_keys]))
        names.append(r.report)
        counts.append(len(fmt_keys))
        codes.append(fmt_codes)
        raws.extend(r.raw.texts if isinstance(r.raw, RawCells) and r.raw.fmt == r.format else map(r.raw.get, fmt_keys))
        at += len(fmt_keys)
    cell = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32)
    report = categorical(names, np.repeat(np.arange(len(names), dtype=np.int32), counts))
    written = pa.array(raws, type=pa.large_string())
    df = pd.DataFrame({"report": report,
                       **{name: categorical([getattr(c, name) for c in every], cell)
                          for name in ("key", "table", "row", "col", "label", "kind")},
                       "raw": pd.arrays.ArrowStringArray(written)})
    # parse each distinct raw text once: a district writes "0" a million times
    distinct = written.dictionary_encode()
    parsed = np.array([parse_value(raw) for raw in distinct.dictionary.to_pylist()] + [None], dtype="float64")
    df["value"] = parsed[distinct.indices.fill_null(len(distinct.dictionary)).to_numpy()]
    if not read_by_ocr:   # the OCR columns are null in the dataset (publish/dataset.py)
        return df[CELL_COLUMNS]
    return df[CELL_COLUMNS].join(_ocr_columns(len(df), read_by_ocr))


def _ocr_columns(n: int, read_by_ocr: list[tuple[int, list]]) -> pd.DataFrame:
    """Where OCR read each cell (cells.parquet): confidence 0..1, page, box (ocr.Where), null for a cell
    of a text layer; at the rows given as (first row, wheres)."""
    confidence = np.full(n, np.nan)
    page = pd.array([pd.NA] * n, dtype="Int64")
    box = np.full(n, None, dtype=object)
    for start, wheres in read_by_ocr:
        for i, w in enumerate(wheres, start=start):
            if w is not None:
                confidence[i], page[i], box[i] = w.confidence, w.page, list(w.box)
    return pd.DataFrame({"ocr_confidence": confidence, "ocr_page": page, "ocr_box": box})


def reports_frame(reports: list[Extracted], roster_levels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per readable report: format, year, the years title and period give (form.year),
    publication date and the deadline of its level (form.deadline: levels.py; the level from
    ``roster_levels``, report -> 层级, when the roster gives one, else from the body); its sha256
    (which of a body's reports is last year's: _predecessors)."""
    ok = [r for r in reports if r.status == "ok"]
    roster_levels = roster_levels or {}
    level = [lv.BY_NAME.get(roster_levels.get(r.report, "")) or lv.level_of_body(r.body) for r in ok]
    source = ["roster" if r.report in roster_levels and lv.BY_NAME.get(roster_levels[r.report]) else "body" for r in ok]
    deadline = [(level_ or lv.LATEST).deadline(r.year) if r.year else None for r, level_ in zip(ok, level)]
    return pd.DataFrame({
        "report": pd.Series([r.report for r in ok], dtype="string"),
        "sha256": pd.Series([r.sha256 for r in ok], dtype="string"),
        "body": pd.Series([r.body for r in ok], dtype="string"),
        "format": pd.Series([r.format for r in ok], dtype="string"),
        "year": pd.Series([r.year for r in ok], dtype="Int64"),
        "title_year": pd.Series([r.title_year for r in ok], dtype="Int64"),
        "period_year": pd.Series([r.period_year for r in ok], dtype="Int64"),
        "published": pd.to_datetime(pd.Series([r.published for r in ok], dtype="object")),
        "level": pd.Series([x.name if x else None for x in level], dtype="string"),
        "deadline": pd.to_datetime(pd.Series(deadline, dtype="object")),
        "deadline_basis": pd.Series([lv.deadline_basis(x, src) for x, src in zip(level, source)], dtype="string"),
        "sentence_hashes": pd.Series([list(r.sentence_hashes) for r in ok], dtype="object"),
    })


def tables_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per report and table: how many cells say "none" with a marker (blank, /, —, 无 …)
    and how many with an explicit 0 (zero.markers: a table should not mix the two)."""
    raw = cells["raw"].str.strip()
    marker = raw.isin([m for m in ZERO_MARKERS if m != "0"])
    zero = (cells["value"] == 0) & ~marker
    df = pd.DataFrame({"report": cells["report"], "table": cells["table"],
                       "marker_cells": marker.fillna(False).astype("int64"),
                       "zero_cells": zero.fillna(False).astype("int64")})
    return df.groupby(["report", "table"], as_index=False, sort=False).sum()


def _total_lines() -> list[tuple[str, str, str, list[str]]]:
    """(table, line, total key, part keys) for every total of tables 3 and 4."""
    k = cm.key
    out = [("t3", r.key, k("t3", r.key, "total"), [k("t3", r.key, c) for c in cm.T3_APPLICANT_COLS])
           for r in cm.T3_ROWS]
    out += [("t3", c.key, k("t3", "total_processed", c.key), [k("t3", r, c.key) for r in cm.T3_RESULT_ROWS])
            for c in cm.T3_COLS]
    parts = [c.key for c in cm.T4_COLS if c.key != "total"]
    out += [("t4", r.key, k("t4", r.key, "total"), [k("t4", r.key, p) for p in parts]) for r in cm.T4_ROWS]
    return out


def totals_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per report and total cell: is the total written blank, and how many of its parts
    carry a number (zero.markers: a blank total beside parts with numbers)."""
    links = pd.DataFrame([(total, part) for _, _, total, parts in _total_lines() for part in parts],
                         columns=["key", "part"]).astype("string")
    parts = cells.loc[cells["value"] > 0, ["report", "key"]].rename(columns={"key": "part"})
    counted = parts.merge(links, on="part").groupby(["report", "key"]).size().rename("parts_with_numbers")
    totals = cells.loc[cells["key"].isin(links["key"].unique()), ["report", "key", "raw"]]
    out = totals.assign(total_blank=(totals["raw"].str.strip() == "").fillna(False).astype("int64"))
    out = out.merge(counted.reset_index(), on=["report", "key"], how="left")
    out["parts_with_numbers"] = out["parts_with_numbers"].fillna(0).astype("int64")
    return out[["report", "key", "total_blank", "parts_with_numbers"]].reset_index(drop=True)


def unknown_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """(report, key) of every total left blank while its parts carry numbers: unknown, not 0, for
    the rules that use it (report-format.md, "Uncertainty")."""
    return totals.loc[(totals["total_blank"] == 1) & (totals["parts_with_numbers"] > 0), ["report", "key"]]


def _totals_zero_beside_parts(cells: pd.DataFrame) -> pd.DataFrame:
    """(report, key) of every total whose value is 0 while its parts add up to more: for reports
    from the dataset at OUT read without what was written (``raw``), a blank total is one of these
    (an explicit 0 is too, and is then not relied on either)."""
    links = pd.DataFrame([(total, part) for _, _, total, parts in _total_lines() for part in parts],
                         columns=["key", "part"]).astype("string")
    parts = cells[["report", "key", "value"]].rename(columns={"key": "part"}).merge(links, on="part")
    sums = parts.groupby(["report", "key"])["value"].sum().rename("parts").reset_index()
    totals = cells[["report", "key", "value"]].merge(sums, on=["report", "key"])
    return totals.loc[(totals["value"] == 0) & (totals["parts"] > 0), ["report", "key"]]


def checked_values(cells: pd.DataFrame, unknown: pd.DataFrame) -> pd.DataFrame:
    """The cells the identity and claim rules read: the same values, with every unknown total null."""
    out = cells[["report", "key", "table", "row", "col", "value"]].copy()
    if len(unknown):
        mask = pd.MultiIndex.from_frame(out[["report", "key"]]).isin(pd.MultiIndex.from_frame(unknown))
        out.loc[mask, "value"] = float("nan")
    return out


def placed_frame(reports: list[Extracted]) -> pd.DataFrame:
    """One row per table row placed only by its position: report, row key (t3.partially_granted), the doubt."""
    rows = [(r.report, key, why) for r in reports if r.status == "ok" for key, why in r.placed.items()]
    return pd.DataFrame(rows, columns=["report", "row_key", "doubt"]).astype("string")


def _doubts(placed: pd.DataFrame, reports: pd.Series, row_keys: pd.Series) -> pd.Series:
    """For each (report, list of row keys): the doubts of those rows placed by position, joined
    ('' when every one was read from its label)."""
    if placed.empty:
        return pd.Series("", index=reports.index, dtype="string")
    by = placed.groupby("report")[["row_key", "doubt"]].apply(lambda g: dict(zip(g["row_key"], g["doubt"]))).to_dict()
    return pd.Series(["；".join(by[r][k] for k in keys if k in by[r]) if r in by else ""
                      for r, keys in zip(reports, row_keys)], index=reports.index, dtype="string")


def _row_doubts(placed: pd.DataFrame, reports: pd.Series, row_keys: pd.Series) -> pd.Series:
    """For each (report, row key): the doubt of that row if it was placed by position, else ''
    (``_doubts`` for lines that rest on one row each, without a list per line)."""
    if placed.empty:
        return pd.Series("", index=reports.index, dtype="string")
    by = dict(zip(zip(placed["report"], placed["row_key"]), placed["doubt"]))
    return pd.Series([by.get(at, "") for at in zip(reports, row_keys)], index=reports.index, dtype="string")


# The table-3 rows each identity over a column rests on.
FLOW_ROWS = ("new_received", "carried_over", "total_processed", "carried_forward")
RESULTS_ROWS = ("total_processed", *cm.T3_RESULT_ROWS)


def _with_doubts(frame: pd.DataFrame, placed: pd.DataFrame, columns: dict[str, list[str]]) -> pd.DataFrame:
    """A frame with one doubt column per entry of ``columns`` (name -> the row keys it rests on)."""
    for name, keys in columns.items():
        frame[name] = _doubts(placed, frame["report"], pd.Series([keys] * len(frame), index=frame.index))
    return frame


def _table_frame(cells: pd.DataFrame, reports: pd.DataFrame, table: str, line: str, columns: list[str]) -> pd.DataFrame:
    """Cells of one table -> one row per report and `line` (row or col), one column per other axis
    key: a pivot, done on the categoricals' codes (cells_frame) rather than on the strings. Rows in
    the reports' order, and by line as the line keys sort within a report."""
    other = "col" if line == "row" else "row"
    at = (cells["table"] == table).to_numpy(dtype=bool)
    report, lines, others = (cells[c].astype("category").array for c in ("report", line, other))
    report_codes, line_codes = np.asarray(report.codes)[at], np.asarray(lines.codes)[at]
    where = {c: i for i, c in enumerate(columns)}
    column = np.array([where.get(c, -1) for c in others.categories], dtype=np.int32)[np.asarray(others.codes)[at]]
    # each (report, line) numbered in the order of its codes, as a pivot sorts its index (taken from
    # the whole frame's codes, not a copy of the table's cells: a district's table 3 has a million)
    n_lines = max(len(lines.categories), 1)
    pair = report_codes.astype(np.int64) * n_lines + line_codes
    present = np.zeros(len(report.categories) * n_lines, dtype=bool)
    present[pair] = True
    pairs = np.flatnonzero(present)
    row = (np.cumsum(present, dtype=np.int32) - 1)[pair]
    del pair, report_codes, line_codes
    kept = column >= 0
    row, column = row[kept], column[kept]
    cell = row.astype(np.int64) * len(columns) + column
    if len(cell) and np.bincount(cell).max() > 1:   # as pivot refuses them
        raise ValueError(f"{table}: a report has a cell twice (duplicate report keys in the run?)")
    wide = np.full((len(pairs), len(columns)), np.nan)
    wide.reshape(-1)[cell] = cells["value"].to_numpy(dtype="float64")[at][kept]
    frame = pd.DataFrame(wide, columns=columns)
    frame.insert(0, line, pd.Series(np.asarray(lines.categories, dtype=object)[pairs % n_lines], dtype="string"))
    frame.insert(0, "report", pd.Series(np.asarray(report.categories, dtype=object)[pairs // n_lines], dtype="string"))
    return reports[["report", "format"]].merge(frame, on="report", how="inner")


def claims_frame(reports: list[Extracted], cells: pd.DataFrame, placed: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per narrative claim: the number stated and the table's value under each allowed
    reading (the sum of the reading's cells; a single reading is repeated so that the
    expectation sees no gap). A reading over a cell that could not be read is null; a cell the
    report's format does not have (2019: one 其他处理 row) is no part of a reading. ``doubt``: the
    rows of the readings placed only by position."""
    # only the cells claims are read against, as a dict: a lookup in the whole MultiIndex per claim
    # costs a second per 10,000 reports
    used = {k for r in reports if r.status == "ok" for c in r.claims for reading in c.readings for k in reading}
    part = cells[cells["key"].isin(used)]
    values = dict(zip(zip(part["report"], part["key"]), part["value"]))
    rows = []
    for r in reports:
        if r.status != "ok":
            continue
        own = {c.key for c in cm.cells_for(r.format)}
        for c in r.claims:
            readings = [[k for k in reading if k in own] for reading in c.readings]
            sums = [sum(values.get((r.report, k), float("nan")) for k in reading) if reading else float("nan")
                    for reading in readings]
            sums = (sums + sums)[:2]
            keys = [k for reading in readings for k in reading]
            rows.append({"report": r.report, "rule": c.rule, "subject": c.subject, "sentence": c.sentence,
                         "cells": ",".join(dict.fromkeys(keys)), "claimed": c.claimed,
                         "reading_1": sums[0], "reading_2": sums[1],
                         "row_keys": list(dict.fromkeys(k.rsplit(".", 1)[0] for k in keys))})
    cols = ["report", "rule", "subject", "sentence", "cells", "claimed", "reading_1", "reading_2", "row_keys"]
    df = pd.DataFrame(rows, columns=cols)
    df["doubt"] = _doubts(placed if placed is not None else placed_frame([]), df["report"], df["row_keys"])
    df = df.drop(columns="row_keys")
    return df.astype({"claimed": "float64", "reading_1": "float64", "reading_2": "float64"})


def shares_frame(reports: list[Extracted]) -> pd.DataFrame:
    """One row per stated percentage: the share its count is of its base, and the interval the
    stated figure covers at its precision (12.4 % written to one decimal covers 12.35-12.45)."""
    rows = [{"report": r.report, "sentence": s.sentence, "stated": s.stated, "count": s.count, "base": s.base,
             "share": 100 * s.count / s.base, "low": s.stated - 0.5 * 10 ** -s.decimals - 1e-9,
             "high": s.stated + 0.5 * 10 ** -s.decimals + 1e-9}
            for r in reports if r.status == "ok" for s in r.shares]
    return pd.DataFrame(rows, columns=["report", "sentence", "stated", "count", "base", "share", "low", "high"])


def placeholders_frame(reports: list[Extracted]) -> pd.DataFrame:
    """One row per readable report: how many sentences hold template blanks, and the first."""
    ok = [r for r in reports if r.status == "ok"]
    return pd.DataFrame({"report": pd.Series([r.report for r in ok], dtype="string"),
                         "blanks": pd.Series([len(r.placeholders) for r in ok], dtype="int64"),
                         "sentence": pd.Series([r.placeholders[0] if r.placeholders else None for r in ok],
                                               dtype="object")})


def _six_parts(r: Extracted) -> bool:
    """A report the six-part format applies to, with text to look in."""
    return r.status == "ok" and r.format in cm.TABLE_FORMATS and r.parts is not None and any(
        a is not None for a in r.parts.at)


def sections_frame(reports: list[Extracted]) -> pd.DataFrame:
    """One row per report of the 2019/2021 formats and part of the six: whether its heading was
    found (``found``), whether it stands after the parts before it (``in_order``; ``before``: the part
    it stands before, when not), how it was found, and ``judged``: 0 for the parts after the one
    the text was cut off in (nothing there to judge)."""
    ok = [r for r in reports if _six_parts(r)]
    n = len(PARTS)
    at = [r.parts.at for r in ok]

    def before(parts_at, i):
        """The first part that should come before part i+1 and stands after it."""
        later = [j for j in range(i) if parts_at[j] is not None and parts_at[i] is not None and parts_at[j] > parts_at[i]]
        return PARTS[later[0]].title if later else ""

    return pd.DataFrame({
        "report": pd.Series([r.report for r in ok for _ in PARTS], dtype="string"),
        "part": pd.Series([p.number for _ in ok for p in PARTS], dtype="int64"),
        "title": pd.Series([p.title for _ in ok for p in PARTS], dtype="string"),
        "found": pd.Series([int(a is not None) for r in ok for a in r.parts.at], dtype="int64"),
        "in_order": pd.Series([int(o) for r in ok for o in r.parts.in_order], dtype="int64"),
        "how": pd.Series([h for r in ok for h in r.parts.how], dtype="string"),
        "before": pd.Series([before(a, i) for a in at for i in range(n)], dtype="string"),
        "judged": pd.Series([int(r.parts.cut is None or p.number <= r.parts.cut) for r in ok for p in PARTS],
                            dtype="int64"),
        "cut": pd.Series([r.parts.cut or 0 for r in ok for _ in PARTS], dtype="int64"),
    })


def problems_frame(reports: list[Extracted]) -> pd.DataFrame:
    """One row per report of the 2019/2021 formats whose part five was found and not cut off:
    whether it states a shortcoming and a measure (``lacks``: how many of the two it lacks,
    ``lacking`` which), and the text quoted in a finding."""
    ok = [r for r in reports if _six_parts(r) and r.part_five is not None and r.parts.cut != 5]
    lacking = ["和".join(w for w, n in (("存在的具体问题", r.part_five.problems), ("改进措施", r.part_five.measures))
                        if n == 0) for r in ok]
    text = [re.sub(r"\s*\n\s*", "", r.part_five.text) for r in ok]
    quote = [(t[:120] + ("…" if len(t) > 120 else "")) or "（只有标题，没有内容）" for t in text]
    return pd.DataFrame({
        "report": pd.Series([r.report for r in ok], dtype="string"),
        "problems": pd.Series([r.part_five.problems for r in ok], dtype="int64"),
        "measures": pd.Series([r.part_five.measures for r in ok], dtype="int64"),
        "lacks": pd.Series([(r.part_five.problems == 0) + (r.part_five.measures == 0) for r in ok], dtype="int64"),
        "lacking": pd.Series(lacking, dtype="string"),
        "sentence": pd.Series(quote, dtype="string"),
    })


def normalise_body(name: str | None) -> str | None:
    """A body's name with full widths folded, spaces and punctuation dropped (a finding's id, without
    a roster; the years are compared by unit: district/names.py)."""
    if not name:
        return None
    s = unicodedata.normalize("NFKC", name)
    return re.sub(r"[\s\W_]+", "", s) or None


def _predecessors(current: pd.DataFrame, pool: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(report, previous) for each current report whose last year's report is known, and
    (report, undecided) for each whose last year's report cannot be told: the reason, in Chinese.

    Last year's report is a report of the same unit (``link``: district/names.py, so that a unit
    that spelt its name otherwise last year is still compared with itself) on the year before, from
    this run or from the dataset already at OUT (``pool``), chosen by this rule and never by file name:

    1. one such report: that one;
    2. several: the one published latest (``published``: the 成文日期 / 发布日期 the report gives),
       when every one of them gives a date and one date is the latest;
    3. otherwise (the latest date shared, or a date missing, so that any of them may be the latest):
       if the reports still in question have the same content (sha256), the first by key, which
       gives the same values whichever is taken; if their contents differ, none: the report's
       cross-year rules are not assessed, and ``undecided`` says why.
    """
    keys = ["body_key", "prev_year"]
    cur = current.assign(body_key=current["link"], prev_year=current["year"] - 1)
    cur = cur.dropna(subset=keys)[["report", *keys]]
    cand = pool.assign(body_key=pool["link"]).dropna(subset=["body_key", "year"])
    cand = cand.rename(columns={"report": "previous", "year": "prev_year"})[["previous", *keys, "published", "sha256"]]
    group = cand.groupby(keys)["published"]
    all_dated = group.transform("count") == group.transform("size")
    in_question = ~all_dated | (cand["published"] == group.transform("max"))
    cand = cand[in_question]
    left = cand.groupby(keys)["sha256"]
    size = left.transform("size")
    one = (size == 1) | ((left.transform("nunique") == 1) & (left.transform("count") == size))   # or all identical
    chosen = cand[one].sort_values("previous").drop_duplicates(keys)
    pairs = cur.merge(chosen[["previous", *keys]], on=keys, how="inner")

    open_ = cand[~one].sort_values("previous")
    undecided = open_.groupby(keys, as_index=False).agg(names=("previous", "、".join), n=("previous", "size"),
                                                        dated=("published", "count"))
    count = undecided["n"].map(lambda n: "两" if n == 2 else f" {n} ").astype("string")
    why = pd.Series("发布日期相同", index=undecided.index, dtype="string")
    why[undecided["dated"] < undecided["n"]] = "部分报告未能读取发布日期"
    why[undecided["dated"] == 0] = "各报告均未能读取发布日期"
    undecided["undecided"] = ("上年度有" + count + "份报告（" + undecided["names"].astype("string") + "），" + why
                              + "且内容不同，无法确定以哪份为准，跨年度规则未评估")
    undecided = cur.merge(undecided[[*keys, "undecided"]], on=keys, how="inner")
    return pairs[["report", "previous"]], undecided[["report", "undecided"]]


# The main counts cross_year.jump follows from year to year: (name, 中文, the cells that add up to it).
JUMP_COUNTS = (
    ("new_received", "本年新收政府信息公开申请数量", (cm.key("t3", "new_received", "total"),)),
    ("review", "行政复议总计", (cm.key("t4", "review", "total"),)),
    ("suits", "行政诉讼总计", (cm.key("t4", "suit_direct", "total"), cm.key("t4", "suit_after_review", "total"))),
    ("licensing", "行政许可本年处理决定数量", (cm.key("t2", "licensing", "decisions"),)),
    ("penalty", "行政处罚本年处理决定数量", (cm.key("t2", "penalty", "decisions"),)),
)
JUMP_FACTOR, JUMP_FLOOR = 5, 20      # more than 5× up or below a fifth, both years at least 20


# The cells the cross-year rules read: 上年结转/结转下年度, the documents in force, the main counts.
CROSS_YEAR_KEYS = ([cm.key("t3", row, c.key) for row in ("carried_over", "carried_forward") for c in cm.T3_COLS]
                   + [cm.key("t2", row, col) for row in ("regulations", "normative_docs")
                      for col in ("in_force", "repealed", "issued")]
                   + [k for _, _, keys in JUMP_COUNTS for k in keys])


def _cross_year_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """(report, key, value) of the cells the cross-year rules read, as strings: a district has
    millions of cells, and this run's categoricals beside the dataset's strings would make each a
    Python object."""
    return plain_strings(cells.loc[cells["key"].isin(CROSS_YEAR_KEYS).to_numpy(dtype=bool), ["report", "key", "value"]])


def cross_year_frames(rep: pd.DataFrame, cells: pd.DataFrame,
                      previous: tuple[pd.DataFrame, pd.DataFrame] | None,
                      placed: pd.DataFrame | None = None,
                      links: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """``carry``: one row per report, table-3 column and predecessor: this year's 上年结转 and last
    year's 结转下年度 (``doubt``: either row placed only by position). ``in_force``: one row per report,
    document row (规章, 行政规范性文件) and predecessor: this year's in_force, repealed, issued and last
    year's in_force. ``copied``: one row per report and predecessor: how many of this year's
    narrative sentences there are and how many are last year's too (null where last year's were not
    kept: ``copied_why``). ``jump``: one row per report, main count and predecessor: this year's and
    last year's count, and the bounds (a fifth, 5×). ``cells`` are the values the rules read
    (checked_values): the dataset's older reports get the same doubt on their totals
    (_totals_zero_beside_parts). The predecessor is chosen by ``_predecessors``; ``undecided``:
    (report, why) where it cannot be. ``links``: body -> the unit the years are compared by
    (District.units_of; without it, the body normalised)."""
    pool_cols = ["report", "body", "year", "published", "sha256", "sentence_hashes"]
    pool_reports, pool_cells = rep[pool_cols], _cross_year_cells(cells)
    link = (lambda b: links.get(b)) if links is not None else normalise_body  # noqa: E731
    rep = rep.assign(link=rep["body"].map(link, na_action="ignore").astype("string"))
    if previous is not None:
        prev_reports, prev_cells = previous
        older = prev_reports[(prev_reports["status"] == "ok") & ~prev_reports["report"].isin(rep["report"])]
        # only the dataset's reports of this run's units can be a predecessor (_predecessors pairs by
        # link): a rerun of one report need not carry the district's million cells through
        older = older[older["body"].map(link, na_action="ignore").isin(set(rep["link"].dropna()))]
        # a dataset of an older giodq has no publication dates (nor sentences): its reports' are unknown
        older = older.reindex(columns=pool_cols)
        pool_reports = pd.concat([pool_reports.astype({"published": "object"}),
                                  older.astype({"published": "object"})], ignore_index=True)
        written = "raw" in prev_cells   # the whole dataset (a rerun's, an update's): what was written too
        older_cells = prev_cells.loc[prev_cells["report"].isin(older["report"]),
                                     ["report", "key", "value"] + (["raw"] if written else [])]
        unknown = unknown_totals(totals_frame(older_cells)) if written else _totals_zero_beside_parts(older_cells)
        older_cells = checked_values(older_cells.assign(table=None, row=None, col=None), unknown)[["report", "key", "value"]]
        pool_cells = pd.concat([pool_cells, _cross_year_cells(older_cells)], ignore_index=True)
    pool_reports = pool_reports.astype({"report": "string", "body": "string", "year": "Int64", "sha256": "string"})
    pool_reports["published"] = pd.to_datetime(pool_reports["published"])
    pool_reports["link"] = pool_reports["body"].map(link, na_action="ignore").astype("string")
    pairs, undecided = _predecessors(rep, pool_reports)
    paired = set(pairs["report"]) | set(pairs["previous"])
    values = pool_cells[pool_cells["report"].isin(paired).to_numpy(dtype=bool)]
    values = values.astype({"report": "string", "key": "string"}).set_index(["report", "key"])["value"]
    value = lambda reports, key: values.reindex(list(zip(reports, [key] * len(reports)))).to_numpy()  # noqa: E731
    placed = placed if placed is not None else placed_frame([])
    carry, in_force, jump = [], [], []
    rows_of = lambda key: pd.Series([[key]] * len(pairs), index=pairs.index, dtype="object")  # noqa: E731
    doubt = pd.Series(["；".join(d for d in (mine, f"上年报告{theirs}" if theirs else "") if d) for mine, theirs in
                       zip(_doubts(placed, pairs["report"], rows_of("t3.carried_over")),
                           _doubts(placed, pairs["previous"], rows_of("t3.carried_forward")))],
                      index=pairs.index, dtype="string")
    for c in cm.T3_COLS:
        carry.append(pd.DataFrame({"report": pairs["report"], "previous": pairs["previous"], "col": c.key,
                                   "doubt": doubt,
                                   "carried_over": value(pairs["report"], cm.key("t3", "carried_over", c.key)),
                                   "prev_carried_forward": value(pairs["previous"],
                                                                 cm.key("t3", "carried_forward", c.key))}))
    for row in ("regulations", "normative_docs"):
        k = lambda col, row=row: cm.key("t2", row, col)  # noqa: E731
        in_force.append(pd.DataFrame({"report": pairs["report"], "previous": pairs["previous"], "row": row,
                                      "in_force": value(pairs["report"], k("in_force")),
                                      "repealed": value(pairs["report"], k("repealed")),
                                      "prev_in_force": value(pairs["previous"], k("in_force")),
                                      "issued": value(pairs["report"], k("issued"))}))
    for name, label, keys in JUMP_COUNTS:
        this = sum(value(pairs["report"], k) for k in keys) if len(pairs) else []
        prev = sum(value(pairs["previous"], k) for k in keys) if len(pairs) else []
        jump.append(pd.DataFrame({"report": pairs["report"], "previous": pairs["previous"], "count": name,
                                  "label": label, "this": this, "prev": prev}))
    def as_frame(parts, keys, numbers):
        frame = pd.concat(parts, ignore_index=True) if len(pairs) else pd.DataFrame(columns=keys + numbers)
        return frame.astype({c: "float64" for c in numbers})

    jumps = as_frame(jump, ["report", "previous", "count", "label"], ["this", "prev"])
    jumps["high"], jumps["low"] = jumps["prev"] * JUMP_FACTOR, jumps["prev"] / JUMP_FACTOR
    return {"carry": as_frame(carry, ["report", "previous", "col", "doubt"], ["carried_over", "prev_carried_forward"]),
            "in_force": as_frame(in_force, ["report", "previous", "row"],
                                 ["in_force", "repealed", "prev_in_force", "issued"]),
            "copied": _copied_frame(pairs, pool_reports),
            "jump": jumps,
            "undecided": undecided}


def _copied_frame(pairs: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    """One row per report and predecessor: this year's narrative sentences (``sentences``), how
    many of them are in last year's report word for word (``same``), and the share; null (and
    ``why``) where last year's sentences were not kept or this year's report has none."""
    hashes = dict(zip(pool["report"], pool["sentence_hashes"]))
    this = [hashes.get(r) for r in pairs["report"]]
    prev = [hashes.get(r) for r in pairs["previous"]]
    kept = lambda h: h is not None and not (isinstance(h, float) and h != h)  # noqa: E731
    n = [len(set(t)) if kept(t) else 0 for t in this]
    same = [len(set(t) & set(p)) if kept(t) and kept(p) else 0 for t, p in zip(this, prev)]
    ok = [k > 0 and kept(p) for k, p in zip(n, prev)]
    why = ["" if good else (f"上年报告 {q} 的正文句子未保存（较早版本的数据集），cross_year.copied 未评估" if not kept(p)
                            else "本年报告没有可比较的正文句子，cross_year.copied 未评估")
           for good, p, q in zip(ok, prev, pairs["previous"])]
    return pd.DataFrame({
        "report": pd.Series(list(pairs["report"]), dtype="string"),
        "previous": pd.Series(list(pairs["previous"]), dtype="string"),
        "sentences": pd.Series(n, dtype="int64"),
        "same": pd.Series(same, dtype="int64"),
        "share": pd.Series([s / k if good else float("nan") for s, k, good in zip(same, n, ok)], dtype="float64"),
        "why": pd.Series(why, dtype="string"),
    })


def _inputs(reports: Sequence[Extracted]) -> pd.DataFrame:
    c = columns_of(reports, ("report", "body", "year", "status", "published", "sha256"))
    return pd.DataFrame({"report": pd.Series(c["report"], dtype="string"),
                         "body": pd.Series(c["body"], dtype="object"),
                         "year": pd.Series(c["year"], dtype="Int64"),
                         "status": c["status"],
                         "published": pd.to_datetime(pd.Series(c["published"], dtype="object")),
                         "sha256": c["sha256"]})


def district_frames(reports: Sequence[Extracted], previous: tuple[pd.DataFrame, pd.DataFrame] | None,
                    district: District) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """(units, coverage, links): the unit of each report of the district (this run's, and a rerun's
    others: coverage.units_frame), its coverage, and body -> link for the cross-year rules (over this
    run's and the dataset's bodies)."""
    inputs = _inputs(reports)
    whole = inputs
    if district.others is not None and len(district.others):
        others = district.others[~district.others["report"].isin(inputs["report"])]
        others = others.reindex(columns=inputs.columns).astype({"published": "object"})
        others["published"] = pd.to_datetime(others["published"], errors="coerce")
        whole = pd.concat([inputs.astype({"published": "object"}), others.astype({"published": "object"})],
                          ignore_index=True)
        whole["published"] = pd.to_datetime(whole["published"], errors="coerce")
    bodies = list(whole["body"]) + (list(previous[0]["body"]) if previous is not None else [])
    matches, links = district.units_of(bodies)
    units = cov.units_frame(whole, matches, links, district.roster)
    coverage = cov.coverage_frame(whole, units, district.roster, list(district.years) or None)
    return units, coverage, links


def coverage_check_frame(coverage: pd.DataFrame) -> pd.DataFrame:
    """The coverage rows form.missing checks (the suite ``coverage``): a unit on the roster with no
    report for a year, unless it has a report whose year could not be read."""
    return pd.DataFrame({
        "unit": coverage["unit"].astype("string"), "year": coverage["year"].astype("int64"),
        "level": coverage["level"].astype("string"),
        "deadline": pd.Series([str(d) for d in coverage["deadline"]], dtype="string"),
        "status": coverage["status"].astype("string"),
        "on_roster": coverage["on_roster"].astype("int64"),
        "undated": pd.Series([len(u) if isinstance(u, list) else 0 for u in coverage["undated"]], dtype="int64"),
    })


# the dataset's reports.attrs: the input keys whose cells and digests its reading left out
READ_ANEW = "giodq_read_anew"


class ReadAnew(frozenset):
    """The keys under reports.attrs[READ_ANEW]. pandas deep-copies a frame's attrs in every
    operation (~25 ms for a province's keys): this set is immutable, and its copy is itself."""

    def __deepcopy__(self, memo) -> ReadAnew:
        return self


def other_reports(previous: tuple[pd.DataFrame, pd.DataFrame] | None,
                  reports: Sequence[Extracted]) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``previous`` without the dataset's own copies of this run's inputs: not other reports. A
    dataset read without some inputs' cells (publish/dataset.py read_dataset ``inputs``) serves
    only a run that reads every one of them: another run would take them for reports without cells."""
    if previous is None:
        return None
    keys = {r.report for r in reports}
    missing = previous[0].attrs.get(READ_ANEW, frozenset()) - keys
    if missing:
        raise ValueError(f"the dataset was read without the cells of {len(missing)} reports this run does not "
                         f"check (e.g. {sorted(missing)[0]}): read it with the run's own inputs")
    again = previous[0]["report"].isin(keys)
    return (previous[0][~again], previous[1]) if again.any() else previous


def validation_frames(reports: list[Extracted],
                      previous: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                      roster_levels: dict[str, str] | None = None,
                      district: District | None = None,
                      whole: tuple[pd.DataFrame, pd.DataFrame, dict[str, str]] | None = None) -> dict[str, pd.DataFrame]:
    """All the frames of a run, by batch name. ``previous``: (reports, cells) of the dataset already
    at OUT, for the cross-year rules; ``roster_levels``: report -> the roster's 层级 of its unit
    (taken from ``district``'s roster when it has one); ``district``: the roster, the years and a
    rerun's other reports (frames ``units``, of the whole district, and ``coverage``).
    ``whole``: ``reports`` are a chunk of the run (pipeline.validate_reports), and this is
    district_frames of the whole run, ``previous`` already without the run's inputs (other_reports)."""
    district = district or District()
    if whole is None:
        previous = other_reports(previous, reports)
    units, coverage, links = whole or district_frames(reports, previous, district)
    if district.roster is not None:
        roster_levels = dict(zip(units.loc[units["level_source"] == "roster", "report"],
                                 units.loc[units["level_source"] == "roster", "level"]))
    cells = cells_frame(reports)
    rep = reports_frame(reports, roster_levels)
    rep = rep.merge(units[["report", "unit", "unit_match", "spelling", "unit_note"]], on="report", how="left")
    totals = totals_frame(cells)
    checked = checked_values(cells, unknown_totals(totals))
    placed = placed_frame(reports)
    if previous is not None and "ocr" in previous[0]:   # last year's report a scan: its 结转下年度 was OCR'd
        scans = previous[0].loc[previous[0]["ocr"].fillna(False).astype(bool), "report"]
        placed = pd.concat([placed, pd.DataFrame({"report": scans, "row_key": "t3.carried_forward",
                                                  "doubt": ocr.OCR_DOUBT}).astype("string")], ignore_index=True)
    t3 = lambda rows: [f"t3.{r}" for r in rows]  # noqa: E731
    t3_columns = _with_doubts(_table_frame(checked, rep, "t3", "col", [r.key for r in cm.T3_ROWS]), placed,
                              {"doubt_flow": t3(FLOW_ROWS), "doubt_results": t3(RESULTS_ROWS)})
    t3_rows = _table_frame(checked, rep, "t3", "row", [c.key for c in cm.T3_COLS])
    t3_rows["doubt"] = _row_doubts(placed, t3_rows["report"], "t3." + t3_rows["row"])
    cross_year = cross_year_frames(rep, checked, previous, placed, links)
    # why last year's report could not be told, per report (findings.not_assessed reads it)
    undecided = cross_year.pop("undecided").set_index("report")["undecided"]
    rep["cross_year_undecided"] = rep["report"].map(undecided).astype("string")
    return {
        "cells": cells,
        "reports": rep,
        "t3_columns": t3_columns,
        "t3_rows": t3_rows,
        "t4_rows": _table_frame(checked, rep, "t4", "row", [c.key for c in cm.T4_COLS]),
        "tables": tables_frame(cells),
        "totals": totals,
        "claims": claims_frame(reports, checked, placed),
        "shares": shares_frame(reports),
        "placeholders": placeholders_frame(reports),
        "sections": sections_frame(reports),
        "problems": problems_frame(reports),
        **cross_year,
        "units": units,
        "coverage_table": coverage,
        "coverage": coverage_check_frame(coverage),
    }
