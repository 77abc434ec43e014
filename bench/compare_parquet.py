"""Compare the dataset Parquet files of two giodq run outputs.

    uv run python bench/compare_parquet.py OUT_A OUT_B

OUT is a run's --out folder (its dataset/ is read through the current release) or a dataset
folder itself. For every *.parquet in either dataset: present in both, same columns and column
types, same rows (as a multiset: the order of rows is not compared; list-valued cells are compared
as lists, floats to 12 significant digits and 9 decimals;
string and large_string types are the same type). Prints one line per file, `reports.parquet: same (5 rows)`
or its first differences, and exits 1 when any file differs.

Not compared, because they describe the copy of the inputs rather than the run's results:
IGNORED below (no dataset column carries a run id or the run's time; those are in run.json only).

    from compare_parquet import compare   # compare(out_a, out_b) -> list of differences ([] = same)
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

# file -> columns left out of the comparison, and why
IGNORED = {
    "reports.parquet": {"version": "the listing's version tag of the input file: its size and mtime "
                                   "(differs whenever the same reports are written again)"},
}
SHOWN = 3   # differing rows shown per side


def dataset_dir(out: str | Path) -> Path:
    out = Path(out)
    return out / "dataset" if (out / "dataset").is_dir() else out


def _plain(v):
    """A cell as plain Python: arrays and lists as lists, every null as None, floats rounded."""
    if isinstance(v, (np.ndarray, list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in sorted(v.items())}
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return float(f"{round(v, 9):.12g}")
    return v


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Every column as comparable scalars: object columns (lists, dates) as JSON text."""
    out = {}
    for c in df.columns:
        col = df[c]
        if col.dtype == object:
            out[c] = [None if p is None else json.dumps(p, ensure_ascii=False, default=str)
                      for p in map(_plain, col)]
            out[c] = pd.Series(out[c], dtype="string")
        elif pd.api.types.is_float_dtype(col):
            out[c] = col.map(_plain).astype("Float64")
        else:
            out[c] = col.astype("string") if pd.api.types.is_string_dtype(col) else col
    return pd.DataFrame(out, index=df.index)


def _short(v):
    v = _plain(v)
    return v[:57] + "..." if isinstance(v, str) and len(v) > 60 else v


def _first_rows(raw: pd.DataFrame, canonical: pd.DataFrame, mask) -> list[str]:
    """The first rows under mask (in the order of their comparable values), as written."""
    order = canonical[mask].sort_values(list(canonical.columns), na_position="first").index[:SHOWN]
    return [json.dumps({k: _short(v) for k, v in r.items()}, ensure_ascii=False, default=str)
            for r in raw.loc[order].to_dict("records")]


def _type(field) -> str:
    return str(field.type).replace("large_string", "string").replace("large_list", "list")


def compare_file(a: Path, b: Path) -> tuple[int, list[str]]:
    """(rows in a, differences between parquet files a and b)."""
    diffs = []
    ignored = set(IGNORED.get(a.name, {}))
    sa, sb = pq.read_schema(a), pq.read_schema(b)
    ca, cb = [n for n in sa.names if n not in ignored], [n for n in sb.names if n not in ignored]
    if ca != cb:
        diffs.append(f"columns differ: only in A {sorted(set(ca) - set(cb))}, only in B {sorted(set(cb) - set(ca))}"
                     + ("" if set(ca) != set(cb) else f", order A {ca} / B {cb}"))
    common = [c for c in ca if c in cb]
    types = [f"{c} {_type(sa.field(c))} / {_type(sb.field(c))}" for c in common
             if _type(sa.field(c)) != _type(sb.field(c))]
    if types:
        diffs.append("column types differ (A / B): " + ", ".join(types))
    ra, rb = (pd.read_parquet(p, columns=common) for p in (a, b))
    da, db = _canonical(ra), _canonical(rb)
    if len(da) != len(db):
        diffs.append(f"rows: {len(da)} in A, {len(db)} in B")
    ha, hb = (pd.util.hash_pandas_object(d, index=False) for d in (da, db))
    # the rows as multisets: the k-th copy of a row in A matches the k-th copy in B
    ka = ha.astype(str) + "#" + ha.groupby(ha).cumcount().astype(str)
    kb = hb.astype(str) + "#" + hb.groupby(hb).cumcount().astype(str)
    only_a, only_b = ~ka.isin(set(kb)), ~kb.isin(set(ka))
    if only_a.any() or only_b.any():
        diffs.append(f"{only_a.sum()} rows only in A, {only_b.sum()} rows only in B")
        diffs += [f"  A: {r}" for r in _first_rows(ra, da, only_a.to_numpy())]
        diffs += [f"  B: {r}" for r in _first_rows(rb, db, only_b.to_numpy())]
    return len(da), diffs


def compare(out_a: str | Path, out_b: str | Path, echo: bool = False) -> list[str]:
    """Differences between the datasets of two run outputs, `file: difference` each; [] when the same.
    ``echo``: print one line per file as it goes."""
    da, db = dataset_dir(out_a), dataset_dir(out_b)
    names = sorted({p.name for d in (da, db) for p in d.glob("*.parquet")})
    if not names:
        return [f"no parquet files in {da} or {db}"]
    found = []
    for name in names:
        missing = [label for label, d in (("A", da), ("B", db)) if not (d / name).is_file()]
        if missing:
            diffs, line = [f"missing in {missing[0]}"], f"{name}: missing in {missing[0]}"
        else:
            rows, diffs = compare_file(da / name, db / name)
            line = f"{name}: same ({rows} rows)" if not diffs else f"{name}: DIFFERENT\n    " + "\n    ".join(diffs)
        if echo:
            print(line)
        found += [f"{name}: {d}" for d in diffs]
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    for name, cols in IGNORED.items():
        for col, why in cols.items():
            print(f"not compared: {name} {col} ({why})")
    return 1 if compare(*argv, echo=True) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
