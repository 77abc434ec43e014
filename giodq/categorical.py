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
    for name in frame.columns:
        column = frame[name].array
        if isinstance(column, pd.Categorical) and pd.api.types.is_string_dtype(column.categories):
            codes = np.asarray(column.codes)
            decoded = pa.DictionaryArray.from_arrays(
                pa.array(codes, mask=codes < 0),
                pa.array(column.categories.to_numpy(dtype=object), type=pa.string())).cast(pa.large_string())
            out[name] = pd.Series(pd.arrays.ArrowStringArray(decoded), index=frame.index, name=name)
    return out
