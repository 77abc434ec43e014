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
- ``carry``, ``in_force``: a report beside the same body's report of the year before (cross_year.*);
  which report that is, when the body has several for the year before, is ``_predecessors``'s rule.

So one expectation checks a rule for every report and line at once. Frames are
built column-wise: a district has millions of cells.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

import pandas as pd

from giodq import cells as cm
from giodq.extract import Extracted
from giodq.extract.numbers import ZERO_MARKERS, parse_value

CELL_COLUMNS = ["report", "key", "table", "row", "col", "label", "kind", "raw", "value"]
# The column that names a line of the table in each frame, next to "report".
INDEX_COLUMNS = {
    "t3_columns": ["report", "col"], "t3_rows": ["report", "row"], "t4_rows": ["report", "row"],
    "cells": ["report", "key"], "reports": ["report"], "tables": ["report", "table", "zero_cells"], "totals": ["report", "key"],
    "claims": ["report", "sentence", "subject", "cells"], "shares": ["report", "sentence", "stated", "count", "base"],
    "placeholders": ["report", "sentence"],
    "carry": ["report", "previous", "col"], "in_force": ["report", "previous", "row"],
}


def cells_frame(reports: list[Extracted]) -> pd.DataFrame:
    """Every canonical cell of every readable report, found or not."""
    names, keys, raws = [], [], []
    for r in reports:
        if r.status != "ok":
            continue
        fmt_keys = [c.key for c in cm.cells_for(r.format)]
        names.extend([r.report] * len(fmt_keys))
        keys.extend(fmt_keys)
        raws.extend(r.raw.get(k) for k in fmt_keys)
    df = pd.DataFrame({"report": pd.Series(names, dtype="string"), "key": pd.Series(keys, dtype="string"),
                       "raw": pd.Series(raws, dtype="object")})
    meta = pd.DataFrame([(c.key, c.table, c.row, c.col, c.label, c.kind) for c in cm.all_cells().values()],
                        columns=["key", "table", "row", "col", "label", "kind"]).astype("string")
    df = df.merge(meta, on="key", how="left", sort=False)
    # parse each distinct raw text once: a district writes "0" a million times
    uniq = {raw: parse_value(raw) for raw in pd.unique(df["raw"].dropna())}
    df["value"] = df["raw"].map(uniq).astype("float64")
    df["raw"] = df["raw"].astype("string")
    return df[CELL_COLUMNS]


def reports_frame(reports: list[Extracted]) -> pd.DataFrame:
    """One row per readable report: format, year, the years title and period give (form.year),
    publication date and deadline, 31 January of the next year (form.deadline); its sha256 (which of
    a body's reports is last year's: _predecessors)."""
    ok = [r for r in reports if r.status == "ok"]
    return pd.DataFrame({
        "report": pd.Series([r.report for r in ok], dtype="string"),
        "sha256": pd.Series([r.sha256 for r in ok], dtype="string"),
        "body": pd.Series([r.body for r in ok], dtype="string"),
        "format": pd.Series([r.format for r in ok], dtype="string"),
        "year": pd.Series([r.year for r in ok], dtype="Int64"),
        "title_year": pd.Series([r.title_year for r in ok], dtype="Int64"),
        "period_year": pd.Series([r.period_year for r in ok], dtype="Int64"),
        "published": pd.to_datetime(pd.Series([r.published for r in ok], dtype="object")),
        "deadline": pd.to_datetime(pd.Series([date(r.year + 1, 1, 31) if r.year else None for r in ok],
                                             dtype="object")),
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


def _table_frame(cells: pd.DataFrame, reports: pd.DataFrame, table: str, line: str, columns: list[str]) -> pd.DataFrame:
    """Cells of one table -> one row per report and `line` (row or col), one column per other axis key."""
    other = "col" if line == "row" else "row"
    part = cells[cells["table"] == table]
    wide = part.pivot(index=["report", line], columns=other, values="value")
    wide = wide.reindex(columns=columns).astype("float64").reset_index()
    wide.columns.name = None
    wide[line] = wide[line].astype("string")
    return reports[["report", "format"]].merge(wide, on="report", how="inner")


def claims_frame(reports: list[Extracted], cells: pd.DataFrame) -> pd.DataFrame:
    """One row per narrative claim: the number stated and the table's value under each allowed
    reading (the sum of the reading's cells; a single reading is repeated so that the
    expectation sees no gap). A reading over a cell that could not be read is null."""
    values = cells.set_index(["report", "key"])["value"]
    rows = []
    for r in reports:
        if r.status != "ok":
            continue
        for c in r.claims:
            sums = [sum(values.get((r.report, k), float("nan")) for k in reading) for reading in c.readings]
            sums = (sums + sums)[:2]
            keys = [k for reading in c.readings for k in reading]
            rows.append({"report": r.report, "rule": c.rule, "subject": c.subject, "sentence": c.sentence,
                         "cells": ",".join(dict.fromkeys(keys)), "claimed": c.claimed,
                         "reading_1": sums[0], "reading_2": sums[1]})
    cols = ["report", "rule", "subject", "sentence", "cells", "claimed", "reading_1", "reading_2"]
    df = pd.DataFrame(rows, columns=cols)
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


def normalise_body(name: str | None) -> str | None:
    """A body's name as matched across years: full-width folded, spaces and punctuation dropped."""
    if not name:
        return None
    s = unicodedata.normalize("NFKC", name)
    return re.sub(r"[\s\W_]+", "", s) or None


def _predecessors(current: pd.DataFrame, pool: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(report, previous) for each current report whose last year's report is known, and
    (report, undecided) for each whose last year's report cannot be told: the reason, in Chinese.

    Last year's report is a report of the same body (normalise_body) on the year before, from this
    run or from the dataset already at OUT (``pool``), chosen by this rule and never by file name:

    1. one such report: that one;
    2. several: the one published latest (``published``: the 成文日期 / 发布日期 the report gives),
       when every one of them gives a date and one date is the latest;
    3. otherwise (the latest date shared, or a date missing, so that any of them may be the latest):
       if the reports still in question have the same content (sha256), the first by key, which
       gives the same values whichever is taken; if their contents differ, none: the report's
       cross-year rules are not assessed, and ``undecided`` says why.
    """
    keys = ["body_key", "prev_year"]
    cur = current.assign(body_key=current["body"].map(normalise_body, na_action="ignore"), prev_year=current["year"] - 1)
    cur = cur.dropna(subset=keys)[["report", *keys]]
    cand = pool.assign(body_key=pool["body"].map(normalise_body, na_action="ignore")).dropna(subset=["body_key", "year"])
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


def cross_year_frames(rep: pd.DataFrame, cells: pd.DataFrame,
                      previous: tuple[pd.DataFrame, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    """``carry``: one row per report, table-3 column and predecessor: this year's 上年结转 and last
    year's 结转下年度. ``in_force``: one row per report, document row (规章, 行政规范性文件) and
    predecessor: this year's in_force, repealed, issued and last year's in_force. The predecessor is
    chosen by ``_predecessors``; ``undecided``: (report, why) where it cannot be."""
    pool_cols = ["report", "body", "year", "published", "sha256"]
    pool_reports, pool_cells = rep[pool_cols], cells[["report", "key", "value"]]
    if previous is not None:
        prev_reports, prev_cells = previous
        older = prev_reports[(prev_reports["status"] == "ok") & ~prev_reports["report"].isin(rep["report"])]
        # a dataset of an older giodq has no publication dates: its reports' dates are unknown
        older = older.reindex(columns=pool_cols)
        pool_reports = pd.concat([pool_reports.astype({"published": "object"}),
                                  older.astype({"published": "object"})], ignore_index=True)
        pool_cells = pd.concat([pool_cells, prev_cells.loc[prev_cells["report"].isin(older["report"]),
                                                           ["report", "key", "value"]]], ignore_index=True)
    pool_reports = pool_reports.astype({"report": "string", "body": "string", "year": "Int64", "sha256": "string"})
    pool_reports["published"] = pd.to_datetime(pool_reports["published"])
    pairs, undecided = _predecessors(rep, pool_reports)
    values = pool_cells.astype({"report": "string", "key": "string"}).set_index(["report", "key"])["value"]
    value = lambda reports, key: values.reindex(list(zip(reports, [key] * len(reports)))).to_numpy()  # noqa: E731
    carry, in_force = [], []
    for c in cm.T3_COLS:
        carry.append(pd.DataFrame({"report": pairs["report"], "previous": pairs["previous"], "col": c.key,
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
    as_frame = lambda parts, cols: (pd.concat(parts, ignore_index=True) if len(pairs)  # noqa: E731
                                    else pd.DataFrame(columns=cols)).astype({c: "float64" for c in cols[3:]})
    return {"carry": as_frame(carry, ["report", "previous", "col", "carried_over", "prev_carried_forward"]),
            "in_force": as_frame(in_force, ["report", "previous", "row", "in_force", "repealed", "prev_in_force",
                                            "issued"]),
            "undecided": undecided}


def validation_frames(reports: list[Extracted],
                      previous: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """All the frames of a run, by batch name. ``previous``: (reports, cells) of the dataset already
    at OUT, for the cross-year rules."""
    cells = cells_frame(reports)
    rep = reports_frame(reports)
    t3_rows = [r.key for r in cm.T3_ROWS]
    t3_cols = [c.key for c in cm.T3_COLS]
    t4_cols = [c.key for c in cm.T4_COLS]
    cross_year = cross_year_frames(rep, cells, previous)
    # why last year's report could not be told, per report (findings.not_assessed reads it)
    undecided = cross_year.pop("undecided").set_index("report")["undecided"]
    rep["cross_year_undecided"] = rep["report"].map(undecided).astype("string")
    return {
        "cells": cells,
        "reports": rep,
        "t3_columns": _table_frame(cells, rep, "t3", "col", t3_rows),
        "t3_rows": _table_frame(cells, rep, "t3", "row", t3_cols),
        "t4_rows": _table_frame(cells, rep, "t4", "row", t4_cols),
        "tables": tables_frame(cells),
        "totals": totals_frame(cells),
        "claims": claims_frame(reports, cells),
        "shares": shares_frame(reports),
        "placeholders": placeholders_frame(reports),
        **cross_year,
    }
