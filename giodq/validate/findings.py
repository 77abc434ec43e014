"""GX validation results -> findings: one row per report, rule and place, with a Chinese message.

Findings are read off the unexpected rows GX returns; nothing is re-validated here.
"""
from __future__ import annotations

from collections import defaultdict

import pandas as pd

from giodq import cells as cm
from giodq.extract.parts import PARTS
from giodq.validate.frames import FLOW_ROWS, JUMP_COUNTS, RESULTS_ROWS, unknown_totals
from giodq.validate.rules import ERROR, NO_REPORT, SEVERITY_ZH, WARNING, rule
from giodq.validate.suites import SUITE_BATCH

FINDING_COLUMNS = ["report", "rule", "severity", "cells", "expected", "observed", "sentence", "message",
                   "title", "where", "unit", "year"]



def fmt_number(x) -> str:
    """12.0 -> '12', 4068.208 -> '4068.208'."""
    if x is None or x != x:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:.6f}".rstrip("0").rstrip(".")


def finding(report, rule_id, severity, cells, expected, observed, where, sentence=None, unit=None,
            year=None) -> dict:
    """One finding row, its message rendered from the rule's template. ``unit`` and ``year`` are
    filled from the report's row (with_units) unless given (form.missing, which has no report)."""
    r = rule(rule_id)
    message = r.template.format(where=where, expected=expected, observed=observed, sentence=sentence or "")
    return {"report": report, "rule": rule_id, "severity": severity, "cells": list(cells),
            "expected": expected, "observed": observed, "sentence": sentence,
            "message": f"【{SEVERITY_ZH[severity]}】{r.title}：{message}", "title": r.title, "where": where,
            "unit": unit, "year": year}


def _doubt(meta: dict, row: dict) -> str:
    """The doubt a finding over rows placed by position names, after its place ('' for none)."""
    doubt = row.get(meta["doubt"]) if meta.get("doubt") else None
    return f"（{doubt}，只作提示）" if doubt else ""


def _balance_findings(cfg: dict, result: dict) -> list[dict]:
    meta, cols, n_left = cfg["meta"], cfg["kwargs"]["column_list"], cfg["kwargs"]["n_left"]
    table, line_axis = meta["cell"].split(".")[0], ("col" if meta["cell"].endswith("{line}") else "row")
    out = []
    for row in result.get("unexpected_index_list") or []:
        line = row.get("col", row.get("row"))
        observed = sum(float(row[c]) for c in cols[:n_left])
        expected = sum(float(row[c]) for c in cols[n_left:])
        where = meta["where"].format(label=cm.line_label(table, line_axis, line)) + _doubt(meta, row)
        keys = [meta["cell"].format(column=c, line=line) for c in cols]
        out.append(finding(row["report"], meta["rule_id"], meta["severity"], keys,
                           fmt_number(expected), fmt_number(observed), where))
    return out


def _value_type_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [row["key"]], meta["expected"],
                    str(row.get("raw")), f"「{cm.label(row['key'])}」")
            for row in result.get("unexpected_index_list") or []]


def _missing_cells_findings(cfg: dict, result: dict) -> list[dict]:
    """Cells that could not be located, one finding per report and table."""
    meta = cfg["meta"]
    missing: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in result.get("unexpected_index_list") or []:
        missing[(row["report"], row["key"].split(".")[0])].append(row["key"])
    out = []
    for (report, table), keys in sorted(missing.items()):
        whole = {sum(c.table == table for c in cm.cells_for(f)) for f in cm.TABLE_FORMATS}
        if len(keys) in whole:
            observed = "未找到该表格，或表格中没有可读取的数字（按缺失处理，不按零处理）"
        else:
            rows = list(dict.fromkeys(cm.all_cells()[k].row_label for k in keys))
            shown = "、".join(f"「{r}」" for r in rows[:4]) + (f" 等 {len(rows)} 行" if len(rows) > 4 else "")
            observed = f"未能读取 {len(keys)} 个单元格：{shown}"
        out.append(finding(report, meta["rule_id"], meta["severity"], keys, "每个规定单元格都能读取",
                           observed, cm.TABLES[table]))
    return out


def _format_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [], "2019 年及以后的标准表格",
                    "2019 年以前的报告格式，没有标准表格，表格规则未评估", meta["where"])
            for row in result.get("unexpected_index_list") or []]


def _pair_findings(cfg: dict, result: dict) -> list[dict]:
    """Two report-level facts that disagree (form.year, form.deadline)."""
    meta = cfg["meta"]
    show = lambda v: str(v)[:10] if v is not None else ""  # years, or dates without their time
    return [finding(row["report"], meta["rule_id"], meta["severity"], [], show(row[meta["expected"]]),
                    show(row[meta["observed"]]), meta["where"])
            for row in result.get("unexpected_index_list") or []]


def _zero_mix_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    out = []
    for row in result.get("unexpected_index_list") or []:
        table = cm.TABLES[row["table"]]
        out.append(finding(row["report"], meta["rule_id"], meta["severity"], [], "同一表格统一用 0 表示无",
                           f"{row['marker_cells']} 个单元格用空白或“/”“—”等符号表示无，{row['zero_cells']} 个用 0",
                           table))
    return out


def _total_blank_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [row["key"]], "填写总计",
                    "总计空白，但分项有数（空白的总计不按 0 计算，依赖它的勾稽关系和正文比对未评估）",
                    f"「{cm.label(row['key'])}」")
            for row in result.get("unexpected_index_list") or []]


def _deadline_findings(cfg: dict, result: dict) -> list[dict]:
    """A report published after the deadline of its level (levels.py), the basis named."""
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [], str(row["deadline"])[:10],
                    str(row["published"])[:10], f"{meta['where']}（{row['deadline_basis']}）")
            for row in result.get("unexpected_index_list") or []]


def _body_findings(cfg: dict, result: dict) -> list[dict]:
    """A body matched to its unit only through the gazetteer or one character (form.body)."""
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [], str(row["unit"]), str(row["body"]),
                    f"{meta['where']}（{row['spelling']}）")
            for row in result.get("unexpected_index_list") or []]


def _missing_findings(cfg: dict, result: dict) -> list[dict]:
    """A unit on the roster with no report for a year of the run (form.missing): no report key."""
    meta = cfg["meta"]
    return [finding(NO_REPORT, meta["rule_id"], meta["severity"], [],
                    f"于 {str(row['deadline'])[:10]} 前公布 {row['year']} 年度报告（{row['level']}）",
                    "未找到该单位的年度报告", meta["where"].format(unit=row["unit"], year=row["year"]),
                    unit=str(row["unit"]), year=int(row["year"]))
            for row in result.get("unexpected_index_list") or []]


def _section_missing_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [], "六部分齐全",
                    "报告中未找到这一部分（按序号和标题关键词查找）", meta["where"].format(title=row["title"]))
            for row in result.get("unexpected_index_list") or []]


def _section_order_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [], "按一至六的顺序排列",
                    f"这一部分位于「{row['before']}」之前，顺序不对", meta["where"].format(title=row["title"]))
            for row in result.get("unexpected_index_list") or []]


def _problems_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [], "至少一个具体问题和一项改进措施",
                    row["lacking"], meta["where"], sentence=row["sentence"])
            for row in result.get("unexpected_index_list") or []]


def _copied_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    out = []
    for row in result.get("unexpected_index_list") or []:
        n, same = int(row["sentences"]), int(row["same"])
        where = f"{meta['where']}（与上年报告 {row['previous']} 比较）"
        out.append(finding(row["report"], meta["rule_id"], meta["severity"], [], "一半",
                           f"有 {same} 句（共 {n} 句，{same / n:.0%}）", where))
    return out


def _jump_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    keys = {name: list(cells) for name, _, cells in JUMP_COUNTS}
    return [finding(row["report"], meta["rule_id"], meta["severity"], keys[row["count"]], fmt_number(row["prev"]),
                    fmt_number(row["this"]),
                    meta["where"].format(label=row["label"]) + f"（与上年报告 {row['previous']} 比较）")
            for row in result.get("unexpected_index_list") or []]


def _claim_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    out = []
    for row in result.get("unexpected_index_list") or []:
        r1, r2 = fmt_number(row["reading_1"]), fmt_number(row["reading_2"])
        expected = r1 if r1 == r2 else f"{r1}（本年新收）或 {r2}（含上年结转）"
        out.append(finding(row["report"], meta["rule_id"], meta["severity"], row["cells"].split(","),
                           expected, fmt_number(row["claimed"]), row["subject"] + _doubt(meta, row),
                           sentence=row["sentence"]))
    return out


def _percent_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    out = []
    for row in result.get("unexpected_index_list") or []:
        decimals = len(f"{row['stated']}".split(".")[1]) if "." in f"{row['stated']}" else 0
        share = 100 * row["count"] / row["base"]
        expected = f"{fmt_number(row['count'])}/{fmt_number(row['base'])} = {share:.{max(decimals, 1) + 1}f}%"
        out.append(finding(row["report"], meta["rule_id"], meta["severity"], [], expected,
                           f"{fmt_number(row['stated'])}%", meta["where"], sentence=row["sentence"]))
    return out


def _placeholder_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [], "填写完整",
                    "模板空白未填", meta["where"], sentence=row["sentence"])
            for row in result.get("unexpected_index_list") or []]


def _cross_year_findings(cfg: dict, result: dict) -> list[dict]:
    """This year's cells against last year's report of the same body (named in ``where``)."""
    meta = cfg["meta"]
    out = []
    for row in result.get("unexpected_index_list") or []:
        if meta["rule_id"] == "cross_year.carry":
            line, table, axis = row["col"], "t3", "col"
            keys = [f"t3.carried_over.{line}", f"t3.carried_forward.{line}"]
            observed, expected = row["carried_over"], row["prev_carried_forward"]
        else:
            line, table, axis = row["row"], "t2", "row"
            keys = [f"t2.{line}.in_force", f"t2.{line}.issued", f"t2.{line}.repealed", f"t2.{line}.in_force"]
            observed, expected = row["in_force"], row["prev_in_force"] + row["issued"] - row["repealed"]
        where = (meta["where"].format(label=cm.line_label(table, axis, line)) + f"（与上年报告 {row['previous']} 比较）"
                 + _doubt(meta, row))
        out.append(finding(row["report"], meta["rule_id"], meta["severity"], keys, fmt_number(expected),
                           fmt_number(observed), where))
    return out


_HANDLERS = {
    "balance": _balance_findings,
    "value_type": _value_type_findings,
    "missing_cells": _missing_cells_findings,
    "legacy_format": _format_findings,
    "pair": _pair_findings,
    "zero_mix": _zero_mix_findings,
    "total_blank": _total_blank_findings,
    "claim": _claim_findings,
    "percent": _percent_findings,
    "placeholder": _placeholder_findings,
    "cross_year": _cross_year_findings,
    "deadline": _deadline_findings,
    "section_missing": _section_missing_findings,
    "section_order": _section_order_findings,
    "problems": _problems_findings,
    "copied": _copied_findings,
    "jump": _jump_findings,
    "body": _body_findings,
    "missing": _missing_findings,
}


def gx_error(result: dict) -> str | None:
    """GX's message where it could not evaluate an expectation: its ``exception_info`` is flat, or
    (a metric that failed) one entry per metric id; None where it evaluated it."""
    info = result.get("exception_info") or {}
    for entry in [info, *(v for v in info.values() if isinstance(v, dict))]:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "GX raised an exception")
    return None


def results_to_findings(results: dict[str, dict]) -> pd.DataFrame:
    """{suite: GX result JSON} -> the findings frame."""
    rows: list[dict] = []
    for suite_result in results.values():
        for r in suite_result["results"]:
            if r["success"]:
                continue
            error = gx_error(r)   # never read as "no finding": the run stops and says why
            if error:
                raise RuntimeError(f"GX could not evaluate {r['expectation_config']['type']}: {error}")
            cfg = r["expectation_config"]
            rows.extend(_HANDLERS[cfg["meta"]["finding"]](cfg, r["result"]))
    df = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    return df.sort_values(["report", "rule"], kind="stable").reset_index(drop=True)


OCR_NOTE = "（报告为扫描件，由文字识别（OCR）读取或无法识别：此项可能源于识别，而非报告本身，请对照原件人工核对后确认）"


def scanned_as_warnings(findings: pd.DataFrame, scanned: set[str]) -> pd.DataFrame:
    """Findings on reports read by OCR: an error is a warning that asks for a reading by eye, never an
    error on OCR'd text alone (a misread digit and a misprinted one look the same)."""
    hit = findings["report"].isin(scanned) & (findings["severity"] == ERROR) if scanned else None
    if hit is None or not hit.any():
        return findings
    out = findings.copy()
    out.loc[hit, "severity"] = WARNING
    out.loc[hit, "message"] = [f"【{SEVERITY_ZH[WARNING]}】" + m.removeprefix(f"【{SEVERITY_ZH[ERROR]}】") + OCR_NOTE
                               for m in out.loc[hit, "message"]]
    return out


def with_units(findings: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Each finding's ``unit`` (the roster's name, or the body normalised without a roster; null for
    a body on no unit) and ``year``, from its report's row (``units``: report, unit, year)."""
    meta = units.drop_duplicates("report").set_index("report")
    unit = findings["unit"] if "unit" in findings else pd.Series(None, index=findings.index, dtype="object")
    year = findings["year"] if "year" in findings else pd.Series(None, index=findings.index, dtype="object")
    return findings.assign(
        unit=unit.where(unit.notna(), findings["report"].map(meta["unit"])).astype("string"),
        year=pd.to_numeric(year.where(year.notna(), findings["report"].map(meta["year"])),
                           errors="coerce").astype("Int64"))


CROSS_YEAR_RULES = ("cross_year.carry", "cross_year.in_force", "cross_year.copied", "cross_year.jump")


class NotAssessed(dict):
    """report -> the rule ids not assessed for it (a plain dict, as before), and ``why``:
    report -> the reasons, in Chinese, that are not a missing cell (reports.parquet's notes)."""

    def __init__(self, rules=(), why: dict[str, list[str]] | None = None):
        super().__init__(rules)
        self.why = why or {}


def not_assessed(frames: dict[str, pd.DataFrame], results: dict[str, dict]) -> NotAssessed:
    """Per report, the rules GX skipped for it because a cell they need is missing: rows with a
    missing value are ignored by the identity and claim expectations (not assessed, not passed),
    and a report with no line of a table at all (legacy, or the table not found) is skipped too.
    The cross-year rules are also not assessed for a report whose last year's report cannot be
    told (frames._predecessors), and the rules whose reasons are not a missing cell say why too:
    a total left blank beside numbers (per line), a text cut off before the parts it lacks, last
    year's sentences not kept."""
    formats = frames["reports"].set_index("report")["format"]
    out: dict[str, set[str]] = defaultdict(set)
    why: dict[str, list[str]] = defaultdict(list)
    assessed = {r for suite in results for r in _suite_rules(results[suite])}
    if "cross_year_undecided" in frames["reports"]:
        undecided = frames["reports"].dropna(subset=["cross_year_undecided"])
        undecided = undecided[undecided["format"].isin(cm.TABLE_FORMATS)]   # legacy: no tables to compare
        rules = [r for r in CROSS_YEAR_RULES if r in assessed]
        for report, reason in zip(undecided["report"], undecided["cross_year_undecided"]):
            if rules:
                out[report].update(rules)
                why[report].append(reason)
    for report, key in unknown_totals(frames["totals"]).itertuples(index=False):
        lines = [f"{rule_id}（{place}）" for rule_id, place in _lines_on_total(key) if rule_id in assessed]
        if lines:
            why[report].append(f"「{cm.label(key)}」空白而分项有数，不按 0 计算，依赖它的{'、'.join(lines)}未评估")
    _parts_not_assessed(frames, assessed, out, why)
    if "cross_year.copied" in assessed:
        copied = frames["copied"]
        for report, reason in zip(copied.loc[copied["share"].isna(), "report"], copied.loc[copied["share"].isna(), "why"]):
            out[report].add("cross_year.copied")
            why[report].append(reason)
    if "cross_year.jump" in assessed:
        jump = frames["jump"]
        for report in set(jump.loc[jump[["this", "prev"]].isna().any(axis=1), "report"]):
            out[report].add("cross_year.jump")
    for suite, suite_result in results.items():
        frame = frames[SUITE_BATCH[suite]]
        for r in suite_result["results"]:
            cfg = r["expectation_config"]
            kind, rule_id = cfg["meta"]["finding"], cfg["meta"]["rule_id"]
            if kind not in ("balance", "claim"):
                continue
            skipped = set(frame.loc[frame[cfg["kwargs"]["column_list"]].isna().any(axis=1), "report"])
            if kind == "balance":
                skipped |= set(formats.index) - set(frame["report"])
                fmt = cfg["meta"].get("format")
                if fmt:  # the 2019 and 2021 variants each apply to their own format only
                    skipped = {rep for rep in skipped if (formats[rep] == "2019") == (fmt == "2019")}
            elif "rule" in frame:
                in_rule = set(frame.loc[frame["rule"] == rule_id, "report"])
                skipped &= in_rule
            for report in skipped:
                out[report].add(rule_id)
    return NotAssessed({k: sorted(v) for k, v in out.items()}, {k: v for k, v in why.items() if v})


def _lines_on_total(key: str) -> list[tuple[str, str]]:
    """(rule, place) of every identity line that uses a total cell: 't3.carried_forward.total' ->
    t3.row_total on its row, t3.flow on the 总计 column."""
    table, row, col = key.split(".")
    if table == "t4":
        return [("t4.total", f"表四「{cm.line_label('t4', 'row', row)}」")]
    out = [("t3.row_total", f"表三「{cm.line_label('t3', 'row', row)}」行")] if col == "total" else []
    column = f"表三「{cm.line_label('t3', 'col', col)}」列"
    if row in FLOW_ROWS:
        out.append(("t3.flow", column))
    if row in RESULTS_ROWS:
        out.append(("t3.results", column))
    return out


def _parts_not_assessed(frames: dict[str, pd.DataFrame], assessed: set[str], out: dict, why: dict) -> None:
    """form.sections and narrative.problems where the text does not allow them: a report with no
    readable text or not in the six-part format (2019 and later) is not assessed; a text cut off
    in a heading leaves the parts after it unjudged; part five not found or cut leaves its rule."""
    rep, sections = frames["reports"], frames["sections"]
    if "form.sections" in assessed:
        for report in set(rep["report"]) - set(sections["report"]):
            out[report].add("form.sections")
        # a report of the six-part format in which no heading at all was found: its layout was not
        # read (a scan, a page laid out in a table), which is no proof that the parts are missing
        blind = rep.loc[rep["format"].isin(cm.TABLE_FORMATS) & ~rep["report"].isin(sections["report"]), "report"]
        for report in blind:
            why[report].append("正文中未能识别任何部分标题（扫描件或版式无法读取），form.sections 未评估")
        cut = sections.loc[sections["cut"] > 0, ["report", "cut"]].drop_duplicates()
        for report, n in cut.itertuples(index=False):
            later = "、".join(f"「{PARTS[i].title}」" for i in range(n, len(PARTS)))
            unjudged = [f"{later}是否齐全（form.sections）"] if later else []
            if n == 5 and "narrative.problems" in assessed:
                unjudged.append("第五部分写了什么（narrative.problems）")
            if unjudged:
                out[report].add("form.sections")
                why[report].append(f"正文在「{PARTS[n - 1].title}」的标题处中断（文本不完整），{'、'.join(unjudged)}未评估")
    if "narrative.problems" in assessed:
        for report in set(rep["report"]) - set(frames["problems"]["report"]):
            out[report].add("narrative.problems")


def _suite_rules(suite_result: dict) -> set[str]:
    return {r["expectation_config"]["meta"]["rule_id"] for r in suite_result["results"]}
