"""The district dashboard at the top of the site's index (issue #13): which unit published which
year's report (coverage), and three charts (findings by rule, unit-years by status, the district's
applications received by year).

- ``dashboard_section``: the dashboard as an HTML fragment, rendered by the report list's Jinja
  environment (autoescaped: a unit's name or a report key is shown as text); docs.py puts it into
  GX's index page between its own markers, above the report list.
- ``write_charts``: the charts as SVG files in the site (static/giodq/charts/), drawn with
  matplotlib's Figure API and SVG canvas (no pyplot, no GUI backend). Text stays text
  (``svg.fonttype: none``) under a CJK font-family list, so the browser draws it with the
  machine's fonts and the site loads nothing from elsewhere; the layout is measured with a CJK
  font when matplotlib finds one. The files are byte-identical on a rerun (fixed hash salt, no date).

Both take the same frames and agree on which charts there are (``_charts``): a chart with no data
is not drawn, and the dashboard says 无 in its place. The dashboard is the run's: a review's
redraw of the index (docs.redraw) keeps it as drawn.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from giodq.publish.review import _ENV
from giodq.publish.sources import report_id
from giodq.validate.levels import LEVELS
from giodq.validate.rules import BY_ID, ERROR, SEVERITY_ZH

CHARTS_DIR = "static/giodq/charts"          # from the site's root
DRAWN = "static/giodq/charts.json"          # chart name -> what its file was drawn from (write_charts)
NONE = "无"


@dataclass(frozen=True)
class Status:
    key: str
    label: str
    colour: str      # the chart's bar; the table's cell has the same hue (giodq.css)


STATUSES: tuple[Status, ...] = (
    Status("published", "已发布", "#2e8b57"),
    Status("late", "逾期发布", "#d39e00"),
    Status("duplicate", "重复发布", "#e67e22"),
    Status("missing", "未发布", "#c0392b"),
    Status("not_on_roster", "不在名册", "#7f8c8d"),
)
STATUS_BY_KEY = {s.key: s for s in STATUSES}
SEVERITY_COLOUR = {ERROR: "#c0392b", "warning": "#d39e00"}
RECEIVED_KEY = "t3.new_received.total"
ALL_LEVELS = "全部"

# The charts' text: the browser draws it with the first of these it has (svg.fonttype none); the
# last two are there for matplotlib, which must find one of the list (DejaVu Sans ships with it).
CSS_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Microsoft YaHei", "PingFang SC")
_METRIC_FONTS = CSS_FONTS + ("Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans CN", "SimHei",
                             "Droid Sans Fallback", "AR PL UMing CN")
_FALLBACK_FONT = "DejaVu Sans"


@dataclass(frozen=True)
class Chart:
    name: str              # file name without .svg
    title: str             # 中文, the figure's caption
    alt: str               # 中文, what the chart shows, for the <img>
    labels: tuple[str, ...]
    values: tuple[float, ...]
    colours: tuple[str, ...]
    horizontal: bool
    axis: str              # 中文, the value axis' label

    @property
    def src(self) -> str:
        return f"{CHARTS_DIR}/{self.name}.svg"


def _frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    return frame if frame is not None else pd.DataFrame()


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


# --- the coverage table

_LEVEL_RANK = {lv.name: i for i, lv in enumerate(LEVELS)}


def _coverage_table(coverage: pd.DataFrame) -> tuple[list[int], list[dict]]:
    """The years (columns) and one row per unit: on the roster first, by level then name; each
    year's cell its status and, where a report counts, the link to its page."""
    if not len(coverage) or not {"unit", "year", "status"} <= set(coverage.columns):
        return [], []
    coverage = coverage[coverage["unit"].notna() & coverage["year"].notna()]
    years = sorted({int(y) for y in coverage["year"]})
    rows = []
    # plain rows grouped once: a sub-frame per unit costs a millisecond, seconds for a province
    by_unit: dict[str, list] = {}
    for r in coverage.itertuples(index=False):
        by_unit.setdefault(str(r.unit), []).append(r)
    for unit, g in by_unit.items():
        levels = [r.level for r in g if _text(getattr(r, "level", None))]
        level = levels[0] if levels else None
        on_roster = (any(bool(r.on_roster) for r in g if pd.notna(r.on_roster)) if "on_roster" in coverage
                     else not all(r.status == "not_on_roster" for r in g))
        cells: dict[int, dict] = {}
        for r in g:
            status = STATUS_BY_KEY.get(r.status)
            counted = _text(getattr(r, "counted", None))
            reports = getattr(r, "reports", None)   # a list, or an array from Parquet
            reports = [str(k) for k in reports] if isinstance(reports, (list, tuple, np.ndarray)) else []
            cells[int(r.year)] = {"status": status.key if status else "other",
                                  "label": status.label if status else str(r.status),
                                  "href": f"reports/{report_id(counted)}.html" if counted else None,
                                  "reports": "、".join(reports), "count": len(reports)}
        rows.append({"unit": unit, "level": level, "on_roster": on_roster,
                     "cells": [cells.get(y) for y in years],
                     "key": (not on_roster, _LEVEL_RANK.get(level, len(_LEVEL_RANK)), level or "", unit)})
    rows.sort(key=lambda r: r["key"])
    return years, rows


# --- the charts' data

def _findings_chart(findings: pd.DataFrame) -> Chart | None:
    if not len(findings) or "rule" not in findings:
        return None
    counts = findings.groupby(findings["rule"].astype(str)).size()
    counts = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    labels, colours, parts = [], [], []
    for rule, n in counts:
        known = BY_ID.get(rule)
        label = f"{known.title}（{rule}）" if known else rule
        labels.append(label)
        colours.append(SEVERITY_COLOUR.get(known.severity if known else "warning", "#d39e00"))
        parts.append(f"{label} {n} 项")
    return Chart("findings-by-rule", "问题按规则", "问题按规则：" + "；".join(parts), tuple(labels),
                 tuple(float(n) for _, n in counts), tuple(colours), True, "问题数（项）")


def _status_chart(coverage: pd.DataFrame) -> Chart | None:
    if not len(coverage) or "status" not in coverage:
        return None
    counts = coverage["status"].value_counts()
    shown = [s for s in STATUSES] + [Status(str(k), str(k), "#555555") for k in counts.index
                                     if k not in STATUS_BY_KEY]
    values = [int(counts.get(s.key, 0)) for s in shown]
    return Chart("reports-by-status", "报告按状态",
                 "报告按状态（单位·年度数）：" + "；".join(f"{s.label} {v}" for s, v in zip(shown, values)),
                 tuple(s.label for s in shown), tuple(float(v) for v in values), tuple(s.colour for s in shown),
                 False, "单位·年度数")


def _received_chart(summary: pd.DataFrame) -> Chart | None:
    if not len(summary) or not {"scope", "level", "key", "year", "value"} <= set(summary.columns):
        return None
    wanted = (summary["scope"].eq("level") & summary["level"].eq(ALL_LEVELS) & summary["key"].eq(RECEIVED_KEY)
              & summary["value"].notna() & summary["year"].notna())
    rows = summary[wanted.fillna(False).astype(bool)]     # string columns: NA compares as NA
    if not len(rows):
        return None
    by_year = rows.groupby(rows["year"].astype("int64"))["value"].sum().sort_index()
    return Chart("received-by-year", "全区收到申请数（按年度）",
                 "全区收到申请数（按年度）：" + "；".join(f"{y} 年 {_number(v)} 件" for y, v in by_year.items()),
                 tuple(str(y) for y in by_year.index), tuple(float(v) for v in by_year), ("#2f6f9f",) * len(by_year),
                 False, "本年新收申请（件）")


def _charts(coverage: pd.DataFrame | None, summary: pd.DataFrame | None,
            findings: pd.DataFrame | None) -> list[tuple[str, str, Chart | None]]:
    """(name, title, chart or None when there is nothing to draw), in the dashboard's order."""
    return [("findings-by-rule", "问题按规则", _findings_chart(_frame(findings))),
            ("reports-by-status", "报告按状态", _status_chart(_frame(coverage))),
            ("received-by-year", "全区收到申请数（按年度）", _received_chart(_frame(summary)))]


# --- the HTML

def dashboard_section(coverage: pd.DataFrame | None, summary: pd.DataFrame | None,
                      findings: pd.DataFrame | None) -> Iterator[str]:
    """The dashboard as an HTML fragment for the site's index (links relative to the site root), in
    pieces as Jinja draws them: a province's coverage table is tens of MB of HTML, written as it is
    drawn (docs._draw_board), not held as one string under the site's peak."""
    coverage = _frame(coverage)
    years, rows = _coverage_table(coverage)
    counts = coverage["status"].value_counts() if "status" in coverage else pd.Series(dtype="int64")
    return _ENV.get_template("dashboard.html").generate(
        years=years, rows=rows, statuses=STATUSES, nothing=NONE,
        counts=[{"key": s.key, "label": s.label, "n": int(counts.get(s.key, 0))} for s in STATUSES],
        on_roster=sum(r["on_roster"] for r in rows), off_roster=sum(not r["on_roster"] for r in rows),
        charts=[{"name": name, "title": title, "src": c.src if c else None, "alt": c.alt if c else None}
                for name, title, c in _charts(coverage, summary, findings)])


def error_section(error: str) -> str:
    """The dashboard of a run whose dashboard could not be drawn: why, escaped."""
    return _ENV.get_template("dashboard_error.html").render(error=error)


# --- the SVG files

def _cjk_font() -> str | None:
    """The first CJK font of the list that matplotlib's font manager knows, if any."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _METRIC_FONTS if name in known), None)


def _rc() -> dict:
    metrics = _cjk_font()
    fonts = list(dict.fromkeys(([metrics] if metrics else []) + list(CSS_FONTS) + [_FALLBACK_FONT]))
    return {"svg.fonttype": "none", "svg.hashsalt": "giodq", "font.family": ["sans-serif"],
            "font.sans-serif": fonts, "font.size": 10, "text.parse_math": False, "axes.unicode_minus": False,
            "axes.spines.top": False, "axes.spines.right": False}


def _svg(chart: Chart) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    n = len(chart.values)
    if chart.horizontal:
        longest = max(len(label) for label in chart.labels)
        fig = Figure(figsize=(min(11.0, 3.5 + 0.13 * longest), 0.8 + 0.32 * n), layout="constrained")
    else:
        fig = Figure(figsize=(max(3.6, 1.0 + 0.7 * n), 3.0), layout="constrained")
    ax = fig.add_subplot()
    positions = range(n)
    if chart.horizontal:
        bars = ax.barh(positions, chart.values, color=chart.colours, height=0.65)
        ax.set_yticks(positions, chart.labels)
        ax.invert_yaxis()
        ax.set_xlabel(chart.axis)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlim(0, max(chart.values) * 1.15 or 1)
        used = dict.fromkeys(chart.colours)
        names = {v: SEVERITY_ZH[k] for k, v in SEVERITY_COLOUR.items()}
        ax.legend(handles=[Patch(color=c, label=names.get(c, "")) for c in used], loc="upper left",
                  bbox_to_anchor=(1.0, 1.0), frameon=False)
    else:
        bars = ax.bar(positions, chart.values, color=chart.colours, width=0.6)
        ax.set_xticks(positions, chart.labels)
        ax.set_ylabel(chart.axis)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylim(0, max(chart.values) * 1.15 or 1)
    ax.bar_label(bars, labels=[_number(v) for v in chart.values], padding=2)
    out = io.BytesIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def write_charts(folder: Path, coverage: pd.DataFrame | None, summary: pd.DataFrame | None,
                 findings: pd.DataFrame | None, kept: Path | None = None) -> list[Path]:
    """The dashboard's charts as SVG files under the site root ``folder`` (static/giodq/charts/);
    returns the files written (none for a chart with no data). ``kept``: the current site's root,
    whose charts are copied where their data, giodq's code and matplotlib are the same (a chart is
    byte-identical then: drawing it again would cost a nightly run seconds, and the matplotlib import)."""
    charts = [c for _, _, c in _charts(coverage, summary, findings) if c is not None]
    if charts:
        (Path(folder) / CHARTS_DIR).mkdir(parents=True, exist_ok=True)
    keys = {chart.name: _chart_key(chart) for chart in charts}
    before = _drawn(kept)
    todo = []
    for chart in charts:
        path = Path(folder) / chart.src
        path.unlink(missing_ok=True)    # a new file, never through a link shared with a live site
        if before.get(chart.name) == keys[chart.name] and (kept / chart.src).is_file():   # none: kept is None
            shutil.copyfile(kept / chart.src, path)
        else:
            todo.append(chart)
    if todo:
        import matplotlib

        with matplotlib.rc_context(_rc()), warnings.catch_warnings():
            # no CJK font here: the layout is measured with DejaVu Sans, the browser still draws the text
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
            for chart in todo:
                (Path(folder) / chart.src).write_bytes(_svg(chart))
    if keys:
        (Path(folder) / DRAWN).write_text(json.dumps(keys, sort_keys=True), encoding="utf-8")
    return [Path(folder) / chart.src for chart in charts]


def _chart_key(chart: Chart) -> str:
    """What a chart's file is drawn from: its data, giodq's code (this module's drawing) and matplotlib."""
    from giodq.extract.batch import code_version

    made_of = json.dumps([asdict(chart), code_version(), version("matplotlib")], ensure_ascii=False)
    return hashlib.sha256(made_of.encode("utf-8")).hexdigest()


def _drawn(site: Path | None) -> dict[str, str]:
    """name -> key of the charts drawn in ``site`` (none before the first run with this record)."""
    try:
        drawn = json.loads((site / DRAWN).read_text(encoding="utf-8")) if site is not None else {}
    except (OSError, ValueError):
        return {}
    return drawn if isinstance(drawn, dict) else {}
