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
- ``reports``: one row per readable report: report, format, year.

So one expectation checks a rule for every report and line at once. Frames are
built column-wise: a district has millions of cells.
"""
from __future__ import annotations

import pandas as pd

from giodq import cells as cm
from giodq.extract import Extracted
from giodq.extract.numbers import parse_value

CELL_COLUMNS = ["report", "key", "table", "row", "col", "label", "kind", "raw", "value"]
# The column that names a line of the table in each frame, next to "report".
LINE_COLUMN = {"t3_columns": "col", "t3_rows": "row", "t4_rows": "row", "cells": "key", "reports": None}


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
    ok = [r for r in reports if r.status == "ok"]
    return pd.DataFrame({"report": pd.Series([r.report for r in ok], dtype="string"),
                         "format": pd.Series([r.format for r in ok], dtype="string"),
                         "year": pd.Series([r.year for r in ok], dtype="Int64")})


def _table_frame(cells: pd.DataFrame, reports: pd.DataFrame, table: str, line: str, columns: list[str]) -> pd.DataFrame:
    """Cells of one table -> one row per report and `line` (row or col), one column per other axis key."""
    other = "col" if line == "row" else "row"
    part = cells[cells["table"] == table]
    wide = part.pivot(index=["report", line], columns=other, values="value")
    wide = wide.reindex(columns=columns).astype("float64").reset_index()
    wide.columns.name = None
    wide[line] = wide[line].astype("string")
    return reports[["report", "format"]].merge(wide, on="report", how="inner")


def validation_frames(reports: list[Extracted]) -> dict[str, pd.DataFrame]:
    """All the frames of a run, by batch name."""
    cells = cells_frame(reports)
    rep = reports_frame(reports)
    t3_rows = [r.key for r in cm.T3_ROWS]
    t3_cols = [c.key for c in cm.T3_COLS]
    t4_cols = [c.key for c in cm.T4_COLS]
    return {
        "cells": cells,
        "reports": rep,
        "t3_columns": _table_frame(cells, rep, "t3", "col", t3_rows),
        "t3_rows": _table_frame(cells, rep, "t3", "row", t3_cols),
        "t4_rows": _table_frame(cells, rep, "t4", "row", t4_cols),
    }
