"""The district's figures (dataset/summary.parquet), in one long table:

- scope ``level``: per year and level (本级政府 / 部门 / 乡镇街道, and 全部 for all), the number of
  reports and the sum of each table-3 and table-4 total and of each table-2 cell;
- scope ``unit``: per unit and year, each main count (cross_year.jump's: new requests, reviews,
  lawsuits, licensing and penalty decisions) beside last year's, and the change.

A unit-year counts once: its report that counts (coverage.counted; of duplicates whose counting
report cannot be told, the first by key, so that the unit is not left out of the sums). A sum is
over the reports that give the cell; ``reports`` says how many did, and a sum no report gives is null.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from giodq import cells as cm
from giodq.categorical import concat
from giodq.validate.frames import JUMP_COUNTS
from giodq.validate.spool import CellSpool, cell_parts

ALL_LEVELS = "全部"
NO_LEVEL = "未能确定"
COLUMNS = ["scope", "year", "level", "unit", "key", "label", "value", "reports", "previous", "change", "ratio"]


def summed_keys() -> list[str]:
    """The cells the level rows sum: table 3's and table 4's 总计 columns and every cell of table 2."""
    return [c.key for c in cm.all_cells().values()
            if c.table == "t2" or (c.table in ("t3", "t4") and c.col == "total")]


def counted_reports(coverage: pd.DataFrame) -> pd.DataFrame:
    """(report, unit, year, level): the report each unit-year of the coverage counts with."""
    rows = coverage[coverage["reports"].map(len) > 0]
    report = [c if isinstance(c, str) else sorted(r)[0] for c, r in zip(rows["counted"], rows["reports"])]
    return pd.DataFrame({"report": pd.Series(report, dtype="string"),
                         "unit": rows["unit"].astype("string").to_numpy(),
                         "year": rows["year"].astype("int64").to_numpy(),
                         "level": rows["level"].fillna(NO_LEVEL).astype("string").to_numpy()})


def _counted_cells(cells: pd.DataFrame, counted: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The cells ``keys`` of the counted reports: (row, key, value), ``row`` the position of the
    cell's report in ``counted``; sorted stably by ``row`` they are counted.merge(cells, on="report").
    Joined on the report's category code, without the report's strings: a province's summed cells
    are millions of rows."""
    part = cells.loc[cells["key"].isin(keys).to_numpy(dtype=bool), ["report", "key", "value"]]
    report = part["report"].astype("category").array   # the run's cells are categoricals already
    row_of_code = np.full(len(report.categories) + 1, -1, dtype=np.int64)   # code -1 (no report): last
    at = pd.Index(report.categories).get_indexer(counted["report"])
    row_of_code[at[at >= 0]] = np.flatnonzero(at >= 0)
    row = row_of_code[np.asarray(report.codes, dtype=np.int64)]
    kept = row >= 0
    return pd.DataFrame({"row": row[kept], "key": part["key"].astype("category").array[kept],
                         "value": part["value"].to_numpy()[kept]})


def summary_frame(coverage: pd.DataFrame, cells: pd.DataFrame | CellSpool) -> pd.DataFrame:
    counted = counted_reports(coverage)
    keys = summed_keys()
    wanted = keys + [k for *_, ks in JUMP_COUNTS for k in ks]
    # a province's cells a part of the spool at a time (validate/spool.py): only the summed ones are kept, then
    # in counted's order (the order of each sum's terms), each with its report's unit, year and level
    values = concat([_counted_cells(part, counted, wanted) for part in cell_parts(cells)])
    values = values.iloc[np.argsort(values["row"].to_numpy(), kind="stable")].reset_index(drop=True)
    row = values.pop("row").to_numpy()
    for name in ("unit", "level"):
        codes, names = pd.factorize(counted[name], sort=True)
        values[name] = pd.Categorical.from_codes(codes[row], categories=pd.Index(names, dtype="string"))
    values["year"] = counted["year"].to_numpy()[row]
    mine = values[values["key"].isin(keys)]
    parts = []
    for level_col in ("level", None):
        by = ["year", "level"] if level_col else ["year"]
        g = mine.groupby([*by, "key"], sort=True, observed=True)["value"]
        agg = pd.DataFrame({"value": g.sum(min_count=1), "reports": g.count()}).reset_index()
        if not level_col:
            agg["level"] = ALL_LEVELS
        parts.append(agg)
    level_rows = pd.concat(parts, ignore_index=True).assign(scope="level", unit=None)
    level_rows["label"] = level_rows["key"].astype("string").map(cm.label)

    unit_parts = []
    for name, label, cell_keys in JUMP_COUNTS:
        picked = values[values["key"].isin(cell_keys)]
        g = picked.groupby(["unit", "year", "level"], sort=True, observed=True)["value"]
        agg = pd.DataFrame({"value": g.sum(min_count=len(cell_keys)), "reports": g.count().clip(upper=1)}).reset_index()
        agg = agg.assign(key=name, label=label)
        last = agg.assign(year=agg["year"] + 1)[["unit", "year", "value"]].rename(columns={"value": "previous"})
        unit_parts.append(agg.merge(last, on=["unit", "year"], how="left"))
    unit_rows = (pd.concat(unit_parts, ignore_index=True) if unit_parts else pd.DataFrame(columns=COLUMNS))
    unit_rows = unit_rows.assign(scope="unit")
    unit_rows["change"] = unit_rows["value"] - unit_rows["previous"]
    unit_rows["ratio"] = (unit_rows["value"] / unit_rows["previous"].where(unit_rows["previous"] != 0))
    out = pd.concat([level_rows.reindex(columns=COLUMNS), unit_rows.reindex(columns=COLUMNS)], ignore_index=True)
    return out.astype({"scope": "string", "year": "int64", "level": "string", "unit": "string", "key": "string",
                       "label": "string", "value": "float64", "reports": "int64", "previous": "float64",
                       "change": "float64", "ratio": "float64"})
