"""Duplicate reports: two or more readable reports of one body and year, or one file's bytes
under two names.

Either can make the cross-year rules compare with the wrong report (frames._predecessors says
which of a body's reports of a year counts as "last year"), and either is something a
reviewer should know about, so every duplicate is flagged:

- ``same_content``: readable reports with the same sha256 (the same file uploaded twice).
- ``same_body_year``: readable reports whose unit (``unit``, district/names.py: one unit under two
  spellings is one unit; else the body normalised: frames.normalise_body) and year are the same but whose contents differ (a corrected re-publication, a draft left beside the
  final, two units' reports under one name). A group whose members are all byte-identical is
  only reported as ``same_content``.

Only readable reports (status ``ok``) count: a file that cannot be read has no body or year,
and every input that could not be fetched has the digest of no bytes.

Everything here is column-wise pandas over the reports table (reports.parquet's columns
``report``, ``sha256``, ``body``, ``year``, ``status``): a district has thousands of reports.
"""
from __future__ import annotations

import pandas as pd

from giodq.extract.waiting import columns_of
from giodq.validate.frames import normalise_body

SAME_CONTENT = "same_content"
SAME_BODY_YEAR = "same_body_year"
KIND_ZH = {SAME_CONTENT: "内容完全相同的文件", SAME_BODY_YEAR: "同一发布机构同一年度有多份报告"}
GROUP_COLUMNS = ["group", "kind", "body", "year", "sha256", "report"]


def inputs_frame(reports, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The columns duplicate_groups reads, and the fields ``extra``, from a run's extracted reports
    (giodq.extract.Extracted), read in one pass (extract/waiting.py columns_of)."""
    names = ("report", "sha256", "body", "year", "status", *extra)
    columns = columns_of(reports, names)
    return pd.DataFrame({n: pd.array(columns[n], dtype="Int64") if n == "year" else columns[n] for n in names})


def duplicate_groups(reports: pd.DataFrame) -> pd.DataFrame:
    """One row per duplicate group and member: ``group`` (a number, groups ordered by kind, body,
    year and first member), ``kind``, ``body`` (as the first member that names one writes it), ``year``,
    ``sha256`` (same_content groups only) and ``report``; members in key order."""
    ok = reports.loc[reports["status"] == "ok"].reindex(columns=["report", "sha256", "body", "year", "unit"]).copy()
    ok["report"] = ok["report"].astype("string")
    ok["year"] = ok["year"].astype("Int64")
    body_key = ok["body"].map(lambda b: normalise_body(b) if isinstance(b, str) else None)
    ok["body_key"] = pd.Series([u if isinstance(u, str) and u else b for u, b in zip(ok["unit"], body_key)],
                               index=ok.index, dtype="object")
    ok = ok.drop(columns="unit")

    same = ok.dropna(subset=["sha256"])
    same = same[same.duplicated("sha256", keep=False)].assign(kind=SAME_CONTENT, key=lambda d: d["sha256"])

    by = ok.dropna(subset=["body_key", "year"])
    by = by[by.duplicated(["body_key", "year"], keep=False)]
    members = by.groupby(["body_key", "year"])["sha256"]
    identical = (members.transform("nunique") == 1) & (members.transform("count") == members.transform("size"))
    by = by[~identical].assign(kind=SAME_BODY_YEAR, key=lambda d: d["body_key"] + "\0" + d["year"].astype("string"))
    by = by.assign(sha256=pd.NA)

    rows = pd.concat([same, by], ignore_index=True)
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c in ("group", "year") else "object")
                             for c in GROUP_COLUMNS})
    rows = rows.sort_values(["kind", "key", "report"], kind="stable")
    first = rows.groupby(["kind", "key"], sort=False).transform("first")
    rows["body"], rows["year"] = first["body"], first["year"]
    rows["first"] = first["report"]
    rows = rows.sort_values(["kind", "body", "year", "first", "report"], kind="stable", na_position="last")
    rows["group"] = (rows[["kind", "key"]] != rows[["kind", "key"]].shift()).any(axis=1).astype(bool).cumsum().astype("Int64")
    return rows[GROUP_COLUMNS].reset_index(drop=True)


def flag_duplicates(reports: pd.DataFrame, groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """reports.parquet's columns, aligned with ``reports``: ``duplicates``, the keys of the other
    reports that duplicate this one (in key order; an empty list when none, null for a report
    that could not be read), and ``duplicate_kind``, the kind of each of them: ``same_content``
    when its bytes are this report's, else ``same_body_year``."""
    groups = duplicate_groups(reports) if groups is None else groups
    # group by group, not pair by pair: a file uploaded 2,000 times is 4 million pairs
    members = {g: list(m) for g, m in groups.groupby("group", sort=False)["report"]}
    kinds = dict(zip(groups["group"], groups["kind"]))
    groups_of: dict[str, list] = {}
    for g, r in zip(groups["group"], groups["report"]):
        groups_of.setdefault(r, []).append(g)
    sha = reports.drop_duplicates("report").set_index("report")["sha256"].to_dict()
    others, kind_of = [], []
    for report, ok in zip(reports["report"], reports["status"] == "ok"):
        mine = groups_of.get(report)
        if not mine:
            others.append([] if ok else None)
            kind_of.append([] if ok else None)
            continue
        if len(mine) == 1:   # members are in key order already
            their = [o for o in members[mine[0]] if o != report]
        else:                # in a same_content group and a same_body_year group
            their = sorted({o for g in mine for o in members[g]} - {report})
        others.append(their)
        if len(mine) == 1 and kinds[mine[0]] == SAME_CONTENT:
            kind_of.append([SAME_CONTENT] * len(their))
        else:
            own = sha.get(report)
            kind_of.append([SAME_CONTENT if sha.get(o) == own else SAME_BODY_YEAR for o in their])
    return pd.DataFrame({"duplicates": others, "duplicate_kind": kind_of}, index=reports.index)


def duplicates_record(groups: pd.DataFrame) -> list[dict]:
    """run.json's ``duplicates``: one entry per group, {kind, body, year, reports[, sha256]}."""
    out = []
    for _, g in groups.groupby("group", sort=True):
        first = g.iloc[0]
        entry = {"kind": first["kind"], "body": None if pd.isna(first["body"]) else str(first["body"]),
                 "year": None if pd.isna(first["year"]) else int(first["year"]), "reports": list(g["report"])}
        if first["kind"] == SAME_CONTENT:
            entry["sha256"] = first["sha256"]
        out.append(entry)
    return out
