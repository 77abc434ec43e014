"""The reviewer's pages, built next to GX's Data Docs from the same run.

- ``reports_section_parts``: the list of reports, worst first, and the inputs that failed; put into
  GX's index page after GX has rendered it (docs.py), so a reviewer starts there.
- ``report_page``: one page per report: body, year, each finding with its place (labels),
  expected and observed and the sentence quoted, the tables as read, a link to the source
  file and to the GX validation pages the findings come from.

Everything is rendered by Jinja with autoescaping on: report text (titles, file names,
sentences) is shown as text, never run.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from urllib.parse import quote

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from giodq import cells as cm
from giodq.publish import sources
from giodq.publish.sources import report_id
from giodq.review.ids import unit_of
from giodq.review.notices import notice_name, notice_unit, report_notice_name
from giodq.review.states import BY_KEY, DISMISSED, OPEN, RESOLVED, STATES
from giodq.validate.duplicates import KIND_ZH, SAME_CONTENT, duplicate_groups
from giodq.validate.rules import BY_ID, SEVERITY_ZH

_ENV = Environment(loader=PackageLoader("giodq.publish", "review_templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True))
_SEVERITY_ORDER = {"error": 0, "warning": 1}
DUPLICATES_SHOWN = 20   # on a report's page
FORMAT_ZH = {"2021": "2021 年格式", "2019": "2019 年格式", "legacy": "2019 年以前（无标准表格）", "unknown": "未能确定"}


def _worst_first(reports: pd.DataFrame) -> pd.DataFrame:
    ok = reports[reports["status"] == "ok"].copy()
    return ok.sort_values(["errors", "warnings", "report"], ascending=[False, False, True], kind="stable")


def _state_counts(reports: pd.DataFrame, findings: pd.DataFrame | None) -> pd.DataFrame:
    """report -> errors and warnings not dismissed, and findings by state."""
    columns = ["errors", "warnings"] + [s.key for s in STATES]
    if findings is None or not len(findings):
        return pd.DataFrame(0, index=reports["report"], columns=columns)
    f = findings.assign(state=findings["state"].fillna(OPEN) if "state" in findings else OPEN)
    live = f[f["state"] != DISMISSED]
    counts = pd.DataFrame({"errors": live[live["severity"] == "error"].groupby("report").size(),
                           "warnings": live[live["severity"] == "warning"].groupby("report").size()})
    by_state = f.groupby(["report", "state"]).size().unstack(fill_value=0)
    counts = counts.join(by_state, how="outer").reindex(index=reports["report"], columns=columns)
    return counts.fillna(0).astype("int64")


def reports_section_parts(reports: pd.DataFrame, findings: pd.DataFrame | None = None,
                          resolved: pd.DataFrame | None = None) -> Iterator[str]:
    """The index's list of reports (worst first, by errors not dismissed) and failed inputs, as an
    HTML fragment; each report's findings by review state, which the list can be filtered by. In the
    pieces Jinja draws it in, a row at a time: a province's list (45 MB of HTML at 50,000 reports,
    four times that as Python strings) is written as it is drawn (docs._write_pieces)."""
    counts = _state_counts(reports, findings)
    # only the columns the list shows: sorting copies them (a province's sentence digests: ~50 MB)
    shown_columns = [c for c in ("report", "status", "body", "year", "format", "not_assessed") if c in reports]
    ok = reports.loc[reports["status"] == "ok", shown_columns].merge(
        counts[["errors", "warnings"]], left_on="report", right_index=True, how="left")
    ok = _worst_first(ok)
    failed = reports[reports["status"] != "ok"].sort_values("report")
    shown = [s.key for s in STATES if s.key != RESOLVED]
    states = counts[shown].to_dict("index")   # one lookup per report, not one pandas .at per state
    rows = ({"report": r.report, "href": f"reports/{report_id(r.report)}.html",
             "body": r.body if isinstance(r.body, str) and r.body else "（未识别）",
             "year": "" if pd.isna(r.year) else int(r.year), "format": FORMAT_ZH.get(r.format, r.format),
             "errors": int(r.errors), "warnings": int(r.warnings),
             "states": {k: int(n) for k, n in states[r.report].items()},
             "not_assessed": len(r.not_assessed) if r.not_assessed is not None else 0}
            for r in ok.itertuples())
    totals = {s.key: int(counts[s.key].sum()) for s in STATES}
    totals[RESOLVED] = int(len(resolved)) if resolved is not None else 0
    return _ENV.get_template("reports_section.html").generate(
        rows=rows, readable=len(ok), failed=[{"report": r.report, "error": r.error} for r in failed.itertuples()],
        total=len(reports), errors=int(ok["errors"].sum()), warnings=int(ok["warnings"].sum()),
        states=[s for s in STATES if s.key != RESOLVED], totals=totals, duplicates=_duplicate_groups(reports))


def _duplicate_groups(reports: pd.DataFrame) -> list[dict]:
    """The index's 重复报告: each group of duplicate reports (validate.duplicates), over the whole
    table the site is drawn from (after a rerun too)."""
    if not {"report", "sha256", "body", "year", "status"} <= set(reports.columns):
        return []
    out = []
    for _, g in duplicate_groups(reports).groupby("group", sort=True):
        first = g.iloc[0]
        out.append({"kind": first["kind"], "kind_zh": KIND_ZH[first["kind"]],
                    "body": first["body"] if isinstance(first["body"], str) and first["body"] else "（未识别）",
                    "year": "" if pd.isna(first["year"]) else int(first["year"]),
                    "reports": [{"report": r, "href": f"reports/{report_id(r)}.html"} for r in g["report"]]})
    return out


def _tables(cells) -> list[dict]:
    """The report's cells (pairs of key and raw text) laid out as its tables (raw text as written;
    missing shown as such)."""
    raw = {k: (None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v)
           for k, v in cells}  # NA: not located
    # each cell as (class, text), worked out here: the page's grid is most of what Jinja draws
    return [{"title": title, "cols": list(cols),
             "rows": [(label, [_shown(_NA if k is None else raw[k]) for k in keys]) for label, keys in rows]}
            for title, cols, rows in _layout(tuple(raw))]


@functools.lru_cache(maxsize=64)
def _layout(keys: tuple[str, ...]) -> tuple:
    """(title, column labels, ((row label, the key under each column or None), ...)) of each table
    the keys are in, rows and columns in the order the keys first name them: the same for every
    report of a format, so worked out once per format rather than once per page."""
    out = []
    for table, title in cm.TABLES.items():
        mine = [k for k in keys if k.startswith(table + ".")]
        if not mine:
            continue
        rows: dict[str, tuple[str, dict[str, str]]] = {}
        cols: list[str] = []
        for k in mine:
            c = cm.all_cells()[k]
            rows.setdefault(c.row, (c.row_label, {}))[1][c.col_label] = k
            if c.col_label not in cols:
                cols.append(c.col_label)
        out.append((title, tuple(cols), tuple((label, tuple(by_col.get(col) for col in cols))
                                              for label, by_col in rows.values())))
    return tuple(out)


_NA = object()   # no such cell in this row of the table


def _shown(raw) -> tuple[str, str]:
    if raw is None:
        return "giodq-missing", "未读取"
    if raw is _NA:
        return "giodq-na", ""
    if raw == "":
        return "giodq-blank", "（空白）"
    return "", raw


@dataclass(frozen=True)
class Reviews:
    """What the site shows of the review loop besides each finding's state: the decisions giodq
    resolved (a finding no longer found), and the 整改通知 written for units."""
    resolved: pd.DataFrame = field(default_factory=pd.DataFrame)   # decisions.parquet rows, state resolved
    notices: frozenset[str] = frozenset()                           # file names under OUT/notices/
    # report -> its unit (ids.unit_of) and its notice's name, worked out once for the whole table
    # (for_reports): one report at a time, pandas costs ~10 ms a report, minutes for a province
    units: dict[str, str] = field(default_factory=dict)
    notice_names: dict[str, str] = field(default_factory=dict)

    def for_reports(self, reports: pd.DataFrame) -> "Reviews":
        """These reviews with the unit and notice name of every report of ``reports`` looked up once."""
        if not len(reports) or not (len(self.resolved) or self.notices):
            return self
        return replace(self, units=unit_of(reports).to_dict() if len(self.resolved) else {},
                       notice_names=notice_unit(reports).map(notice_name).to_dict() if self.notices else {})

    def resolved_of(self, report: pd.Series) -> list[dict]:
        """The resolved findings of the report's unit and year (the corrected file may have another name)."""
        if not len(self.resolved):
            return []
        unit = self.units.get(report.report) or unit_of(pd.DataFrame([report.to_dict()])).iloc[0]
        year = None if pd.isna(report.year) else int(report.year)
        mine = self.resolved[(self.resolved["unit"] == unit) & (self.resolved["year"].astype("Int64") == year)]
        return [{"title": r.title, "rule": r.rule, "where": r.where, "observed": r.observed,
                 "was": BY_KEY.get(r.previous_state, BY_KEY[OPEN]).label, "run": (r.resolved_run or "")[:8],
                 "at": r.decided_at} for r in mine.itertuples()]

    def notice_href(self, report: pd.Series) -> str | None:
        """The link to the 整改通知 of the report's unit (one per unit: review/notices.py), if written;
        the name quoted, as a unit's name may hold "#", "%" or "?"."""
        if not self.notices:
            return None
        name = self.notice_names.get(report.report) or report_notice_name(report)
        return f"../../notices/{quote(name)}" if name in self.notices else None


class ReportRow(dict):
    """One row of reports.parquet, read by name (``row.body``) or as a mapping (``row.get("media")``),
    like the pandas Series it stands for: building a Series per report costs more than its page."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> dict:
        return dict(self)


def _state(f) -> dict:
    state = BY_KEY.get(getattr(f, "state", None) or OPEN, BY_KEY[OPEN])
    text = lambda v: v if isinstance(v, str) and v else None  # noqa: E731
    return {"state": state.key, "state_zh": state.label, "decided_by": text(getattr(f, "decided_by", None)),
            "decided_at": text(getattr(f, "decided_at", None)), "note": text(getattr(f, "note", None)),
            "finding_id": getattr(f, "finding_id", None)}


def report_page(report: "ReportRow | pd.Series", findings: list, cells: list[tuple[str, object]], suite_pages: dict[str, str],
                has_source: bool, reviews: Reviews | None = None, crops: dict[int, str] | None = None) -> str:
    """One report's page. ``findings``: its rows of findings.parquet (named tuples), ``cells``: its
    (key, raw) pairs (docs.rows_by_report gives both); ``suite_pages``: rule id -> path of the GX
    validation page (from the site root); ``crops``: a finding's position in ``findings`` -> the crop of
    the scan it rests on (publish/crops.py)."""
    reviews = reviews or Reviews()
    crops = crops or {}
    items = []
    # errors first, then by rule, stable (in Python: a pandas sort per report costs more than the page)
    for i, f in sorted(enumerate(findings), key=lambda p: (_SEVERITY_ORDER.get(p[1].severity, 2), p[1].rule)):
        items.append({**_state(f),
            "severity": f.severity, "severity_zh": SEVERITY_ZH[f.severity], "rule": f.rule, "title": f.title,
            "description": BY_ID[f.rule].description, "where": f.where, "expected": f.expected,
            "observed": f.observed, "sentence": None if pd.isna(f.sentence) else f.sentence, "message": f.message,
            "cells": [{"key": k, "label": cm.label(k)} for k in dict.fromkeys(f.cells)],
            "gx_page": suite_pages.get(f.rule), "crop": crops.get(i),
        })
    skipped = report.not_assessed if report.not_assessed is not None else []  # a list, or an array from Parquet
    not_assessed = [{"rule": r, "title": BY_ID[r].title} for r in skipped]
    text = lambda v: v if isinstance(v, str) and v else None  # noqa: E731 (NaN, None -> None)
    listed = lambda v: [] if v is None or isinstance(v, float) else list(v)  # noqa: E731 (a list, an array, none)
    others = listed(report.get("duplicates"))
    # a file crawled a thousand times would make every copy's page list the thousand: the first few,
    # and the index's 重复报告 lists them all
    duplicates = [{"report": o, "href": f"{report_id(o)}.html",
                   "kind_zh": "内容完全相同" if k == SAME_CONTENT else "同一发布机构同一年度"}
                  for o, k in zip(others[:DUPLICATES_SHOWN], listed(report.get("duplicate_kind")))]
    return _ENV.get_template("report_page.html").render(
        r=report, body=text(report.body), title=text(report.get("title")), year="" if pd.isna(report.year) else int(report.year),
        format_zh=FORMAT_ZH.get(report.format, report.format), findings=items,
        errors=sum(i["severity"] == "error" and i["state"] != DISMISSED for i in items),
        warnings=sum(i["severity"] == "warning" and i["state"] != DISMISSED for i in items),
        dismissed=sum(i["state"] == DISMISSED for i in items), resolved=reviews.resolved_of(report),
        notice=reviews.notice_href(report),
        not_assessed=not_assessed, notes=list(report.notes) if report.notes is not None else [],
        tables=_tables(cells), source=f"../sources/{sources.copy_name(report.report, report.get('media'))}" if has_source else None,
        source_label=sources.LINK_LABEL.get(report.get("media"), "下载原文件"),
        source_download=sources.is_download(report.get("media")),
        published=None if pd.isna(report.published) else str(report.published)[:10], duplicates=duplicates,
        more_duplicates=max(0, len(others) - DUPLICATES_SHOWN))


def error_page(report: str, error: str) -> str:
    """The page of a report whose page could not be drawn: the report and why, escaped."""
    return _ENV.from_string(
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="UTF-8"><title>{{ report }}</title>'
        '<link rel="stylesheet" href="../static/giodq/giodq.css"></head><body class="giodq-page">'
        '<nav class="giodq-nav"><a href="../index.html#giodq-reports">← 返回报告清单</a></nav>'
        '<h1 class="giodq-title">{{ report }}</h1><p>本页未能生成（{{ error }}），请查看数据集中的 findings。</p>'
        '</body></html>').render(report=report, error=error)
