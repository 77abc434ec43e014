"""Categorical columns for the cells frame: a district has millions of cells but only a few hundred
distinct keys, labels and report names, so the frame holds them as codes (validate/frames.py) and
turns them back into plain strings only where it leaves giodq (the dataset's Parquet files)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def categorical(values: list[str], positions: np.ndarray) -> pd.Categorical:
    """values[positions] as a categorical whose categories are the distinct values sorted, so that
    sorting and grouping by it order rows as the strings would."""
    categories, inverse = np.unique(np.array(values, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(inverse.astype(np.int32)[positions],
                                     categories=pd.Index(categories, dtype="string"))


def plain_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each categorical column of strings as plain strings, decoded by Arrow from the codes
    (a million cells in milliseconds; pandas' own astype builds a Python string per cell)."""
    out = frame.copy(deep=False)
    for name, column in _of_strings(frame):
        codes = np.asarray(column.codes)
        decoded = pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=codes < 0),
            pa.array(column.categories.to_numpy(dtype=object), type=pa.string())).cast(pa.large_string())
        out[name] = pd.Series(pd.arrays.ArrowStringArray(decoded), index=frame.index, name=name)
    return out


def objects(column: pd.Series) -> np.ndarray:
    """A column as a numpy array of Python objects; a categorical's values share one string per
    category (pandas' to_numpy makes a string per row: hundreds of MB for a district's cells)."""
    if not isinstance(column.array, pd.Categorical):
        return column.to_numpy(dtype=object)
    codes, strings = codes_and_strings(column)
    return strings[codes]


def codes_and_strings(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A categorical column's codes (a view) and its categories as Python objects, with None last for
    code -1 (missing): ``strings[codes[at]]`` are the values at ``at``."""
    values = column.array
    return np.asarray(values.codes), np.append(values.categories.to_numpy(dtype=object), None)


def with_sorted_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Each categorical column of strings (as Arrow reads a dictionary column: in the order met) with
    its categories sorted and held as ``string``, as ``categorical`` makes them."""
    out = frame.copy(deep=False)
    for name, column in _of_strings(frame):
        out[name] = frame[name].astype(pd.CategoricalDtype(_sorted(column.categories)))
    return out


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """pd.concat, keeping a column categorical where any frame has it so (categories: the union,
    sorted): pandas puts a categorical beside strings, or beside other categories, as Python objects,
    a million of them for a district's cells."""
    names = [n for n in dict.fromkeys(c for f in frames for c in f.columns)
             if any(n in f and isinstance(f[n].dtype, pd.CategoricalDtype) for f in frames)]
    if names:
        frames = [f.copy(deep=False) for f in frames]
        for name in names:
            values = [f[name].cat.categories if isinstance(f[name].dtype, pd.CategoricalDtype) else f[name].dropna().unique()
                      for f in frames if name in f]
            dtype = pd.CategoricalDtype(_sorted(pd.Index(np.concatenate([np.asarray(v, dtype=object) for v in values]))))
            for f in frames:
                if name in f:
                    f[name] = f[name].astype(dtype)
    return pd.concat(frames, ignore_index=True)


def _of_strings(frame: pd.DataFrame):
    """(name, Categorical) of each categorical column whose categories are strings."""
    for name in frame.columns:
        column = frame[name].array
        if isinstance(column, pd.Categorical) and pd.api.types.is_string_dtype(column.categories):
            yield name, column


def _sorted(values: pd.Index) -> pd.Index:
    return pd.Index(np.unique(np.asarray(values.dropna().unique(), dtype=object)), dtype="string")
