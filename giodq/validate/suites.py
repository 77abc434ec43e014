"""The GX suites, generated from the rule catalogue and the cell model.

``write_suites()`` writes ``expectations/<suite>.json`` in the GX 1.x shape
(``giodq suites``); the files are committed so a reviewer reads a rule change
as a diff, and a test fails when they drift from the code. ``load_suites()``
reads them back for a run.

Each expectation's ``meta`` carries ``rule_id``, ``severity``, ``where`` (the
Chinese location, with ``{label}`` for the table line a result row stands for)
and, for identities, ``cell`` (``t3.{column}.{line}``: how a column of the frame
and the row's line name a canonical key), so a GX result maps straight back to a finding.

Each suite validates one batch of frames.py (named alike), holding every report of the run.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from giodq import cells as cm
from giodq.extract.numbers import valid_cell_pattern
from giodq.validate import expectations as custom  # registers ExpectSumsToBalance
from giodq.validate.frames import JUMP_FACTOR, JUMP_FLOOR
from giodq.validate.rules import ERROR, SEVERITY_ZH, WARNING, rule, rules_markdown

from giodq.extract.batch import SUITES_DIR  # noqa: E402 (beside the code digest, which covers the suites)
# Which batch (frames.py) each suite validates.
SUITE_BATCH = {"t3_columns": "t3_columns", "t3_rows": "t3_rows", "t4_rows": "t4_rows",
               "cells": "cells", "reports": "reports", "tables": "tables", "totals": "totals",
               "claims": "claims", "shares": "shares", "placeholders": "placeholders",
               "sections": "sections", "problems": "problems",
               "carry": "carry", "in_force": "in_force", "copied": "copied", "jump": "jump",
               "coverage": "coverage"}
_NAMESPACE = uuid.UUID("6f1c1a8e-0b7e-4c55-9a43-1f1d0e6b5a21")
_GX_SEVERITY = {ERROR: "critical", WARNING: "warning"}


def _tag(expectation, suite: str, rule_id: str, where: str, severity: str | None = None, scope: str = "",
         **meta):
    """Attach the rule, location and Chinese description that results and Data Docs show.
    ``where`` may hold {label}: the label of the table line a result row stands for;
    ``scope`` says which part of the rule this expectation covers, when it covers a part."""
    r = rule(rule_id)
    sev = severity or r.severity
    expectation.meta = {"rule_id": rule_id, "severity": sev, "where": where, **meta}
    # plain text: GX renders descriptions as text, not markdown
    expectation.description = f"{r.title}（{r.id}，{SEVERITY_ZH[sev]}）{scope}：{r.description}"
    expectation.severity = _GX_SEVERITY[sev]
    expectation.id = str(uuid.uuid5(_NAMESPACE, f"{suite}/{rule_id}/{where}/{meta}"))
    return expectation


def _balance(suite, rule_id, where, cell, left, right, row_condition=None, scope="", finding="balance", **meta):
    """left sum == right sum in every row; ``cell`` maps a column and the row's line to a cell key."""
    kwargs = {"column_list": left + right, "n_left": len(left)}
    if row_condition is not None:
        kwargs["row_condition"] = row_condition
    return _tag(custom.ExpectSumsToBalance(**kwargs), suite, rule_id, where, scope=scope, cell=cell,
                finding=finding, **meta)


# Each identity and claim twice: over lines read from their labels (the rule's own severity), and
# over lines resting on a row placed only by its position (a warning that names the doubt).
_READ, _PLACED = "【各行均按标签读取】", "【含按位置推定的行，只作提示】"


def _read_or_placed(doubt: str, condition=None):
    """(row condition, severity, scope, meta) for the labelled lines and for the doubtful ones."""
    both = lambda c: c if condition is None else condition & c  # noqa: E731
    return ((both(Column(doubt) == ""), None, _READ, {}),
            (both(Column(doubt) != ""), WARNING, _PLACED, {"doubt": doubt}))


def t3_columns_expectations() -> list:
    out = [_balance("t3_columns", "t3.flow", "表三「{label}」列", "t3.{column}.{line}",
                    ["new_received", "carried_over"], ["total_processed", "carried_forward"], cond,
                    scope=scope, severity=severity, **meta)
           for cond, severity, scope, meta in _read_or_placed("doubt_flow")]
    for fmt, fmt_cond in (("2021", Column("format") != "2019"), ("2019", Column("format") == "2019")):
        rows = [r for r in cm.T3_RESULT_ROWS if not (fmt == "2019" and r in cm.T3_ROWS_ABSENT_2019)]
        for cond, severity, scope, meta in _read_or_placed("doubt_results", fmt_cond):
            out.append(_balance("t3_columns", "t3.results", f"表三「{{label}}」列（{fmt} 年格式，{len(rows)} 项办理结果）",
                                "t3.{column}.{line}", ["total_processed"], rows, cond,
                                scope=f"【{fmt} 年格式报告】{scope}", format=fmt, severity=severity, **meta))
    return out


def t3_rows_expectations() -> list:
    return [_balance("t3_rows", "t3.row_total", "表三「{label}」行", "t3.{line}.{column}",
                     ["total"], list(cm.T3_APPLICANT_COLS), cond, scope=scope, severity=severity, **meta)
            for cond, severity, scope, meta in _read_or_placed("doubt")]


def t4_rows_expectations() -> list:
    parts = [c.key for c in cm.T4_COLS if c.key != "total"]
    return [_balance("t4_rows", "t4.total", "表四「{label}」", "t4.{line}.{column}", ["total"], parts)]


def cells_expectations() -> list:
    what = {"count": "非负整数", "amount": "非负数（万元）", "change": "整数（可为负）"}
    out = [_tag(gxe.ExpectColumnValuesToMatchRegex(column="raw", regex=valid_cell_pattern(kind),
                                                   row_condition=Column("kind") == kind),
                "cells", "value.type", f"{what[kind]}单元格", scope=f"【{what[kind]}单元格】", expected=what[kind],
                finding="value_type")
           for kind in (cm.COUNT, cm.AMOUNT, cm.CHANGE)]
    out.append(_tag(gxe.ExpectColumnValuesToNotBeNull(column="raw"), "cells", "form.tables", "规定单元格",
                    scope="【每个规定单元格都能读取】", finding="missing_cells"))
    return out


def reports_expectations() -> list:
    return [
        # Reports on years before 2019 predate the tables: a warning, not an error.
        _tag(gxe.ExpectColumnValuesToBeInSet(column="format", value_set=["2021", "2019", "unknown"]),
             "reports", "form.tables", "报告格式", severity="warning", scope="【2019 年以前格式的报告】",
             finding="legacy_format"),
        _tag(gxe.ExpectColumnPairValuesToBeEqual(column_A="title_year", column_B="period_year",
                                                 ignore_row_if="either_value_is_missing"),
             "reports", "form.year", "报告年度", finding="pair", observed="title_year", expected="period_year"),
        _tag(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="deadline", column_B="published", or_equal=True,
                                                         ignore_row_if="either_value_is_missing"),
             "reports", "form.deadline", "发布时间", finding="deadline", observed="published", expected="deadline"),
        # district/names.py: matched to a unit only by correcting a place name or a town's one character
        _tag(gxe.ExpectColumnValuesToNotBeInSet(column="unit_match", value_set=["gazetteer", "similar"]),
             "reports", "form.body", "发布机构名称", finding="body"),
    ]


def coverage_expectations() -> list:
    return [_tag(gxe.ExpectColumnValuesToNotBeInSet(column="status", value_set=["missing"],
                                                    row_condition=(Column("on_roster") == 1) & (Column("undated") == 0)),
                 "coverage", "form.missing", "{unit}（{year} 年度）", finding="missing")]


def zero_markers_expectations() -> dict[str, list]:
    return {
        "tables": [_tag(gxe.ExpectColumnValuesToBeInSet(column="marker_cells", value_set=[0],
                                                        row_condition=Column("zero_cells") > 0),
                        "tables", "zero.markers", "{label}", scope="【同一表格混用空白等符号与 0】",
                        finding="zero_mix")],
        "totals": [_tag(gxe.ExpectColumnValuesToBeInSet(column="total_blank", value_set=[0],
                                                        row_condition=Column("parts_with_numbers") > 0),
                        "totals", "zero.markers", "{label}", scope="【分项有数而总计空白】",
                        finding="total_blank")],
    }


def narrative_expectations() -> dict[str, list]:
    claims = [_tag(custom.ExpectFirstColumnToEqualOneOfTheOthers(
                       column_list=["claimed", "reading_1", "reading_2"], row_condition=cond),
                   "claims", rule_id, "{subject}", severity=severity, scope=scope, finding="claim", **meta)
              for rule_id in ("narrative.count", "narrative.none", "narrative.all_done")
              for cond, severity, scope, meta in _read_or_placed("doubt", Column("rule") == rule_id)]
    shares = [
        _tag(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="share", column_B="low", or_equal=True),
             "shares", "narrative.percent", "百分比", scope="【所写百分比不高于按件数计算的值】", finding="percent"),
        _tag(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="high", column_B="share", or_equal=True),
             "shares", "narrative.percent", "百分比", scope="【所写百分比不低于按件数计算的值】", finding="percent"),
    ]
    placeholders = [_tag(gxe.ExpectColumnValuesToBeInSet(column="blanks", value_set=[0]),
                         "placeholders", "form.placeholder", "正文", finding="placeholder")]
    problems = [_tag(gxe.ExpectColumnValuesToBeInSet(column="lacks", value_set=[0]),
                     "problems", "narrative.problems", "第五部分", finding="problems")]
    return {"claims": claims, "shares": shares, "placeholders": placeholders, "problems": problems}


def sections_expectations() -> list:
    return [
        _tag(gxe.ExpectColumnValuesToBeInSet(column="found", value_set=[1], row_condition=Column("judged") == 1),
             "sections", "form.sections", "「{title}」", scope="【六部分齐全】", finding="section_missing"),
        _tag(gxe.ExpectColumnValuesToBeInSet(column="in_order", value_set=[1], row_condition=Column("found") == 1),
             "sections", "form.sections", "「{title}」", scope="【六部分顺序正确】", finding="section_order"),
    ]


def cross_year_expectations() -> dict[str, list]:
    both_counted = (Column("this") >= JUMP_FLOOR) & (Column("prev") >= JUMP_FLOOR)
    return {
        "carry": [_balance("carry", "cross_year.carry", "表三「{label}」列", "t3.{column}.{line}",
                           ["carried_over"], ["prev_carried_forward"], cond, scope=scope, severity=severity,
                           finding="cross_year", **meta)
                  for cond, severity, scope, meta in _read_or_placed("doubt")],
        "in_force": [_balance("in_force", "cross_year.in_force", "表二「{label}」", "t2.{line}.{column}",
                              ["in_force", "repealed"], ["prev_in_force", "issued"], finding="cross_year")],
        "copied": [_tag(gxe.ExpectColumnValuesToBeBetween(column="share", min_value=0, max_value=0.5),
                        "copied", "cross_year.copied", "正文", finding="copied")],
        "jump": [
            _tag(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="high", column_B="this", or_equal=True,
                                                             row_condition=both_counted),
                 "jump", "cross_year.jump", "「{label}」", scope=f"【增长不超过 {JUMP_FACTOR} 倍】", finding="jump"),
            _tag(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="this", column_B="low", or_equal=True,
                                                             row_condition=both_counted),
                 "jump", "cross_year.jump", "「{label}」", scope=f"【不降至上年的 1/{JUMP_FACTOR} 以下】",
                 finding="jump"),
        ],
    }


BUILDERS = {"t3_columns": t3_columns_expectations, "t3_rows": t3_rows_expectations,
            "t4_rows": t4_rows_expectations, "cells": cells_expectations, "reports": reports_expectations,
            "tables": lambda: zero_markers_expectations()["tables"],
            "totals": lambda: zero_markers_expectations()["totals"],
            "claims": lambda: narrative_expectations()["claims"],
            "shares": lambda: narrative_expectations()["shares"],
            "placeholders": lambda: narrative_expectations()["placeholders"],
            "sections": sections_expectations,
            "problems": lambda: narrative_expectations()["problems"],
            "carry": lambda: cross_year_expectations()["carry"],
            "in_force": lambda: cross_year_expectations()["in_force"],
            "copied": lambda: cross_year_expectations()["copied"],
            "jump": lambda: cross_year_expectations()["jump"],
            "coverage": coverage_expectations}


def build_suite(name: str) -> dict:
    """One suite as the JSON dict GX 1.x reads."""
    return {
        "name": name,
        "id": str(uuid.uuid5(_NAMESPACE, f"suite/{name}")),
        "expectations": [e.configuration.to_json_dict() | {"id": e.id} for e in BUILDERS[name]()],
        "meta": {"great_expectations_version": gx.__version__, "batch": SUITE_BATCH[name]},
        "notes": {"format": "markdown",
                  "content": [f"由 `giodq suites` 根据 giodq/validate/rules.py 生成，请勿手工修改。"
                              f" Generated from the rule catalogue; do not edit by hand. Batch: `{SUITE_BATCH[name]}`."]},
    }


def render_suite(name: str) -> str:
    return json.dumps(build_suite(name), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


README = SUITES_DIR.parent / "README.md"
_RULES_START, _RULES_END = "<!-- rules:start (generated by `giodq suites`) -->", "<!-- rules:end -->"


def render_readme(text: str) -> str:
    """The README with its rule list regenerated from the catalogue."""
    head, _, rest = text.partition(_RULES_START)
    _, _, tail = rest.partition(_RULES_END)
    return f"{head}{_RULES_START}\n{rules_markdown()}{_RULES_END}{tail}"


def write_suites(directory: Path = SUITES_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in BUILDERS:
        p = directory / f"{name}.json"
        p.write_text(render_suite(name), encoding="utf-8")
        paths.append(p)
    if directory == SUITES_DIR and README.exists():
        README.write_text(render_readme(README.read_text(encoding="utf-8")), encoding="utf-8")
        paths.append(README)
    return paths


def stale_suites(directory: Path = SUITES_DIR) -> list[str]:
    """Suite files that differ from what the catalogue generates (empty when in sync)."""
    stale = [n for n in BUILDERS
             if not (directory / f"{n}.json").exists()
             or (directory / f"{n}.json").read_text(encoding="utf-8") != render_suite(n)]
    if directory == SUITES_DIR and README.exists():
        text = README.read_text(encoding="utf-8")
        if render_readme(text) != text:
            stale.append("README.md (rule list)")
    return stale


def load_suites(directory: Path = SUITES_DIR) -> dict[str, gx.ExpectationSuite]:
    """The committed suite files -> GX suites. Fails loudly on any expectation GX rejects
    (GX itself would only log it and drop the expectation)."""
    out = {}
    for name in BUILDERS:
        data = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        suite = gx.ExpectationSuite(name=data["name"], expectations=data["expectations"],
                                    meta=data["meta"], notes=data.get("notes"), id=data["id"])
        if len(suite.expectations) != len(data["expectations"]):
            raise ValueError(f"expectations/{name}.json: GX rejected "
                             f"{len(data['expectations']) - len(suite.expectations)} expectation(s)")
        out[name] = suite
    return out
