"""Coverage (dataset/coverage.parquet): one row per unit and year of the run, and what the district
has of it: ``published``, ``missing`` (no report: form.missing when the unit is on the roster),
``duplicate`` (two or more reports: which one counts, and all of them listed), ``late`` (published
after its level's deadline, levels.py) or ``not_on_roster`` (a body that matches no unit).

The years of the run are the years the units' reports are on (or the ones the command names), so a
unit's row for a year says whether that unit published for it. A unit that has a report whose year
could not be read is not called missing for any year (``undated``): the report may be that year's.
"""
from __future__ import annotations

import pandas as pd

from giodq.district.names import BODY, MATCHED, Match
from giodq.district.roster import Roster
from giodq.validate import levels as lv

PUBLISHED, MISSING, DUPLICATE, LATE, NOT_ON_ROSTER = "published", "missing", "duplicate", "late", "not_on_roster"
STATUS_ZH = {PUBLISHED: "已发布", MISSING: "未发布", DUPLICATE: "重复发布", LATE: "逾期发布", NOT_ON_ROSTER: "不在名册"}
COLUMNS = ["unit", "level", "year", "status", "reports", "counted", "body", "parent", "on_roster", "late",
           "published", "deadline", "undated"]


def counted_report(group: list[dict]) -> str | None:
    """Of one unit's reports of one year (rows with report, published, sha256), the one that counts:
    the one published latest when every one gives its date and one date is latest; else, when those
    in question have the same bytes, the first by key; else none can be told (null), as
    frames._predecessors decides last year's."""
    if len(group) == 1:
        return str(group[0]["report"])
    dates = [g["published"] for g in group]
    latest = [g for g in group if g["published"] == max(dates)] if all(pd.notna(d) for d in dates) else group
    if len(latest) == 1:
        return str(latest[0]["report"])
    shas = {g["sha256"] for g in latest}
    if len(shas) == 1 and all(pd.notna(x) for x in shas):
        return str(min(str(g["report"]) for g in latest))
    return None


def run_years(reports: pd.DataFrame, years: list[int] | None = None) -> list[int]:
    """The years coverage is drawn for: as given, else those the reports (on the roster, when there
    is one) are on."""
    if years:
        return sorted(set(years))
    ok = reports[(reports["status"] == "ok") & reports["year"].notna()]
    if "on_roster" in ok:
        ok = ok[ok["on_roster"]] if ok["on_roster"].any() else ok
    return sorted({int(y) for y in ok["year"]})


def units_frame(reports: pd.DataFrame, matches: dict[str, Match], links: dict[str, str],
                roster: Roster | None) -> pd.DataFrame:
    """report -> ``unit`` (the roster's name; the body normalised without a roster; null when on no
    unit), ``link`` (what the years are compared by), ``unit_match`` (names.py's rule),
    ``spelling`` (rules 5 and 6), ``level`` (the roster's, else from the body's name) and
    ``level_source``, for every row of ``reports`` (report, body)."""
    level_of = {u.name: u.level for u in roster.units} if roster else {}
    body = [b if isinstance(b, str) else None for b in reports["body"]]
    m = [matches.get(b) if isinstance(b, str) else None for b in body]
    unit = [x.unit if x else None for x in m]
    level = [level_of.get(u) if u else None for u in unit]
    by_body = [None if lvl else (x.name if (x := lv.level_of_body(b)) else None) for lvl, b in zip(level, body)]
    return pd.DataFrame({
        "report": reports["report"].astype("string").to_numpy(),
        "unit": pd.array(unit, dtype="string"),
        "link": pd.array([links.get(b) if isinstance(b, str) else None for b in body], dtype="string"),
        "unit_match": pd.array([x.how if x else None for x in m], dtype="string"),
        "spelling": pd.array([x.spelling if x else None for x in m], dtype="string"),
        "unit_note": pd.array([x.note if x and x.how not in (BODY,) else None for x in m], dtype="string"),
        "level": pd.array([a or b for a, b in zip(level, by_body)], dtype="string"),
        "level_source": pd.array(["roster" if a else ("body" if b else None) for a, b in zip(level, by_body)],
                                 dtype="string"),
    })


def coverage_frame(reports: pd.DataFrame, units: pd.DataFrame, roster: Roster | None,
                   years: list[int] | None = None) -> pd.DataFrame:
    """The coverage table. ``reports``: report, body, year, status, published, sha256 of the whole
    district; ``units``: units_frame of them."""
    rep = reports[["report", "body", "year", "status", "published", "sha256"]].merge(
        units[["report", "unit", "link", "unit_match", "level"]], on="report", how="left")
    rep["published"] = pd.to_datetime(rep["published"], errors="coerce")
    ok = rep[rep["status"] == "ok"].copy()
    ok["on_roster"] = ok["unit_match"].isin(MATCHED) if roster is not None else False
    the_years = run_years(ok, years)
    parent = {u.name: u.parent for u in roster.units} if roster else {}
    rows = []

    # plain rows, grouped once: pandas per unit and year costs a millisecond each, minutes for a province
    def row(unit, level, year, group: list[dict], on_roster, undated):
        counted = counted_report(group) if group else None
        level_ = lv.BY_NAME.get(level) if isinstance(level, str) else None
        deadline = (level_ or lv.LATEST).deadline(year)
        published = next(g["published"] for g in group if str(g["report"]) == counted) if counted else pd.NaT
        late = bool(pd.notna(published) and published.date() > deadline)
        status = (NOT_ON_ROSTER if not on_roster and roster is not None else
                  MISSING if not group else DUPLICATE if len(group) > 1 else LATE if late else PUBLISHED)
        bodies = [g["body"] for g in group if pd.notna(g["body"])]
        rows.append({"unit": unit, "level": level, "year": year, "status": status,
                     "reports": sorted(str(g["report"]) for g in group), "counted": counted,
                     "body": bodies[0] if bodies else None,
                     "parent": parent.get(unit), "on_roster": bool(on_roster), "late": late,
                     "published": published.date() if pd.notna(published) else None, "deadline": deadline,
                     "undated": sorted(undated)})

    def first_level(group: list[dict]):
        return next((g["level"] for g in group if pd.notna(g["level"])), None)

    dated = ok[ok["year"].notna()]
    undated_of = ok[ok["year"].isna()].groupby("link")["report"].agg(list).to_dict()
    # plain dicts from each column's list: to_dict("records") boxes a cell at a time (a third of this)
    records = [dict(zip(dated.columns, values)) for values in zip(*(dated[c].tolist() for c in dated.columns))]
    if roster is not None:
        by_unit_year: dict[tuple, list[dict]] = {}
        others: dict[tuple, list[dict]] = {}
        for g in records:
            if g["on_roster"]:
                by_unit_year.setdefault((g["unit"], int(g["year"])), []).append(g)
            else:
                others.setdefault((g["link"] if pd.notna(g["link"]) else "", int(g["year"])), []).append(g)
        for u in roster.units:
            for year in the_years:
                row(u.name, u.level, year, by_unit_year.get((u.name, year), []), True, undated_of.get(u.name, []))
        for (link, year), group in sorted(others.items()):
            row(link or None, first_level(group), year, group, False, [])
    else:
        by_link: dict[str, list[dict]] = {}
        for g in records:
            by_link.setdefault(g["link"] if pd.notna(g["link"]) else "", []).append(g)
        for link, of_unit in sorted(by_link.items()):
            level = first_level(of_unit)
            for year in the_years:
                row(link or None, level, year, [g for g in of_unit if int(g["year"]) == year], False,
                    undated_of.get(link, []))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"unit": "string", "level": "string", "year": "int64", "status": "string",
                         "counted": "string", "body": "string", "parent": "string", "on_roster": "bool",
                         "late": "bool"})
