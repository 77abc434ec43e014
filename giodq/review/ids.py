"""A stable identity for each finding (``finding_id``): the same problem keeps its id from run to
run, through reruns, and when the corrected file comes under another name.

The id is made of what the problem is, never of the run or the file name:

- the unit: the report's ``unit`` (a roster's name) where there is one, else its body (发布机构)
  normalised as the cross-year rules match it; a report whose body could not be read is known by
  its file name, as nothing else names it;
- the year reported on;
- the rule;
- where the problem sits: the canonical cells the finding names (``t3.new_received.total``...);
- its ordinal among the report's findings of the same rule and cells (two narrative sentences
  that both misstate the same count are two problems).

Observed and expected values and the sentence are not part of it: they change when a unit
corrects part of a problem, and the decision then goes back to 待核实 (decisions.py).
"""
from __future__ import annotations

import hashlib

import pandas as pd

from giodq.validate.frames import normalise_body


def unit_of(reports: pd.DataFrame) -> pd.Series:
    """report -> the unit a finding of it belongs to (see the module's docstring)."""
    names = reports["unit"] if "unit" in reports else pd.Series(pd.NA, index=reports.index)
    body = reports["body"].map(normalise_body, na_action="ignore")
    unit = names.where(names.notna() & (names.astype("string") != ""), body)
    return pd.Series(unit.where(unit.notna(), "file:" + reports["report"]).to_numpy(), index=reports["report"])


def finding_ids(findings: pd.DataFrame, reports: pd.DataFrame) -> pd.Series:
    """One id per finding row (index of ``findings``): 16 hex digits of a SHA-256."""
    if findings.empty:
        return pd.Series([], index=findings.index, dtype="string")
    unit = findings["report"].map(unit_of(reports))
    year = findings["report"].map(reports.set_index("report")["year"]).astype("string").fillna("")
    cells = findings["cells"].map(lambda c: ",".join(c) if c is not None else "")
    ordinal = pd.DataFrame({"r": findings["report"], "rule": findings["rule"], "c": cells}) \
        .groupby(["r", "rule", "c"], sort=False).cumcount().astype("string")
    parts = pd.DataFrame({"unit": unit.astype("string"), "year": year, "rule": findings["rule"].astype("string"),
                          "cells": cells.astype("string"), "n": ordinal})
    text = parts["unit"].str.cat([parts["year"], parts["rule"], parts["cells"], parts["n"]], sep="\x1f")
    return text.map(lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest()[:16]).astype("string")
