"""A stable identity for each finding (``finding_id``): the same problem keeps its id from run to
run, through reruns, and when the corrected file comes under another name.

The id is made of what the problem is, never of the run or the file name:

- the unit: the report's body (发布机构) normalised (frames.normalise_body), or, where a roster
  matched the body to its unit only through its places or a misspelling (``unit_match`` prefix,
  gazetteer, similar: district/names.py), the roster's name normalised; so the ids stay when the
  roster renames a unit (the old name an alias) and when a unit corrects its spelling, and without
  a roster they are what they were before rosters; a report whose body could not be read is known
  by its file name, as nothing else names it; a form.missing finding, which has no report, by its
  own ``unit`` and ``year``;
- the year reported on;
- the rule;
- where the problem sits: the canonical cells the finding names (``t3.new_received.total``...);
- its ordinal among the findings of the same unit, year, rule and cells (two narrative sentences
  that both misstate the same count are two problems). The ordinal is counted across reports, so
  that two reports of one unit and year (a duplicate, a corrected file left beside the first) never
  share an id: the report that counts comes first (the one published latest, as
  validate/frames._predecessors chooses last year's report; then the first by key), so a unit's
  only report, or its latest, numbers its findings as if it were alone.

Observed and expected values and the sentence are not part of it: they change when a unit
corrects part of a problem, and the decision then goes back to 待核实 (decisions.py).
"""
from __future__ import annotations

import hashlib

import pandas as pd

from giodq.district.names import GAZETTEER, PREFIX, SIMILAR
from giodq.validate.rules import NO_REPORT

BY_PLACE = (PREFIX, GAZETTEER, SIMILAR)
from giodq.validate.frames import normalise_body


def unit_of(reports: pd.DataFrame) -> pd.Series:
    """report -> the unit a finding of it belongs to (see the module's docstring)."""
    names = reports["unit"] if "unit" in reports else pd.Series(pd.NA, index=reports.index)
    # a body that names its unit itself (exactly, by an alias, written otherwise) is the unit: its ids
    # stay when the roster renames the unit; one matched through its places or a misspelling is known
    # by the roster's name, so that the ids stay when the unit corrects its spelling
    through = reports["unit_match"].isin(BY_PLACE) if "unit_match" in reports else pd.Series(False, index=reports.index)
    names = names.where(through)
    body = reports["body"].map(normalise_body, na_action="ignore")
    unit = names.map(normalise_body, na_action="ignore").where(names.notna() & (names.astype("string") != ""), body)
    return pd.Series(unit.where(unit.notna(), "file:" + reports["report"]).to_numpy(), index=reports["report"])


def finding_ids(findings: pd.DataFrame, reports: pd.DataFrame) -> pd.Series:
    """One id per finding row (index of ``findings``): 16 hex digits of a SHA-256, unique among
    the rows (see the module's docstring for the ordinal)."""
    if findings.empty:
        return pd.Series([], index=findings.index, dtype="string")
    meta = reports.drop_duplicates("report").set_index("report")
    published = pd.to_datetime(meta["published"], errors="coerce") if "published" in meta else None
    report = findings["report"].reset_index(drop=True)   # by position: the caller's index may repeat
    own = report == NO_REPORT   # form.missing: the unit and year are the finding's own
    own_unit = findings["unit"].reset_index(drop=True) if "unit" in findings else pd.Series(pd.NA, index=report.index)
    own_year = findings["year"].reset_index(drop=True) if "year" in findings else pd.Series(pd.NA, index=report.index)
    parts = pd.DataFrame({
        "unit": report.map(unit_of(reports)).where(~own, own_unit).astype("string").fillna(""),
        # written as the reports' years are (their dtype), so that ids made before stay as they were
        "year": report.map(meta["year"]).astype("string").where(
            ~own, pd.to_numeric(own_year, errors="coerce").astype(meta["year"].dtype if meta["year"].dtype.kind in "fiu"
                                                                  else "Int64").astype("string")).fillna(""),
        "rule": findings["rule"].reset_index(drop=True).astype("string").fillna(""),
        "cells": findings["cells"].reset_index(drop=True).map(lambda c: ",".join(c) if c is not None else "")
        .astype("string"),
    })
    # the report that counts first: latest published (undated last), then by key; each report's own
    # findings in their order
    order = pd.DataFrame({"published": report.map(published) if published is not None else pd.NaT,
                          "report": report.astype("string"), "row": parts.index})
    ranked = order.sort_values(["published", "report", "row"], ascending=[False, True, True], na_position="last",
                               kind="stable").index
    parts["n"] = parts.loc[ranked].groupby(["unit", "year", "rule", "cells"], sort=False).cumcount() \
        .sort_index().astype("string")
    text = parts["unit"].str.cat([parts["year"], parts["rule"], parts["cells"], parts["n"]], sep="\x1f")
    text.index = findings.index
    return text.map(lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest()[:16]).astype("string")
