"""Extracted reports -> the two pandas frames GX validates and the dataset stores.

``cells_frame``: one row per report and canonical cell (report, key, table, row, col,
label, kind, raw, value). ``reports_frame``: one row per readable report, one column
per cell key holding its value, plus ``report``, ``format`` and ``year``. Built
column-wise: a district has millions of cells.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from giodq import cells as cm
from giodq.extract import Extracted
from giodq.extract.numbers import parse_value

CELL_COLUMNS = ["report", "key", "table", "row", "col", "label", "kind", "raw", "value"]


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


def reports_frame(reports: list[Extracted], cells: pd.DataFrame) -> pd.DataFrame:
    """One row per readable report: its format and year, and one value column per cell key."""
    ok = [r for r in reports if r.status == "ok"]
    base = pd.DataFrame({"report": pd.Series([r.report for r in ok], dtype="string"),
                         "format": pd.Series([r.format for r in ok], dtype="string"),
                         "year": pd.Series([r.year for r in ok], dtype="Int64")})
    wide = cells.pivot(index="report", columns="key", values="value") if len(cells) else pd.DataFrame()
    wide = wide.reindex(columns=list(cm.all_cells()), fill_value=np.nan).astype("float64")
    wide.columns = wide.columns.astype(str)
    out = base.merge(wide, left_on="report", right_index=True, how="left")
    return out.reset_index(drop=True)
