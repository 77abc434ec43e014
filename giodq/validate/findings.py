"""GX validation results -> findings: one row per report, rule and place, with a Chinese message.

Findings are read off the unexpected rows GX returns; nothing is re-validated here.
"""
from __future__ import annotations

from collections import defaultdict

import pandas as pd

from giodq import cells as cm
from giodq.validate.rules import SEVERITY_ZH, rule

FINDING_COLUMNS = ["report", "rule", "severity", "cells", "expected", "observed", "sentence", "message",
                   "title", "where"]


def fmt_number(x) -> str:
    """12.0 -> '12', 4068.208 -> '4068.208'."""
    if x is None or x != x:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:.6f}".rstrip("0").rstrip(".")


def finding(report, rule_id, severity, cells, expected, observed, where, sentence=None) -> dict:
    """One finding row, its message rendered from the rule's template."""
    r = rule(rule_id)
    message = r.template.format(where=where, expected=expected, observed=observed, sentence=sentence or "")
    return {"report": report, "rule": rule_id, "severity": severity, "cells": list(cells),
            "expected": expected, "observed": observed, "sentence": sentence,
            "message": f"【{SEVERITY_ZH[severity]}】{r.title}：{message}", "title": r.title, "where": where}


def _balance_findings(cfg: dict, result: dict) -> list[dict]:
    meta, cols, n_left = cfg["meta"], cfg["kwargs"]["column_list"], cfg["kwargs"]["n_left"]
    table, line_axis = meta["cell"].split(".")[0], ("col" if meta["cell"].endswith("{line}") else "row")
    out = []
    for row in result.get("unexpected_index_list") or []:
        line = row.get("col", row.get("row"))
        observed = sum(float(row[c]) for c in cols[:n_left])
        expected = sum(float(row[c]) for c in cols[n_left:])
        where = meta["where"].format(label=cm.line_label(table, line_axis, line))
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
                           f"{table}中 {row['marker_cells']} 个单元格用空白或“/”“—”等符号表示无，其余用 0",
                           table))
    return out


def _total_blank_findings(cfg: dict, result: dict) -> list[dict]:
    meta = cfg["meta"]
    return [finding(row["report"], meta["rule_id"], meta["severity"], [row["key"]], "填写总计",
                    "总计空白，但分项有数", f"「{cm.label(row['key'])}」")
            for row in result.get("unexpected_index_list") or []]


_HANDLERS = {
    "balance": _balance_findings,
    "value_type": _value_type_findings,
    "missing_cells": _missing_cells_findings,
    "legacy_format": _format_findings,
    "pair": _pair_findings,
    "zero_mix": _zero_mix_findings,
    "total_blank": _total_blank_findings,
}


def results_to_findings(results: dict[str, dict]) -> pd.DataFrame:
    """{suite: GX result JSON} -> the findings frame."""
    rows: list[dict] = []
    for suite_result in results.values():
        for r in suite_result["results"]:
            if r["success"]:
                continue
            if r.get("exception_info", {}).get("raised_exception"):
                raise RuntimeError(f"GX could not evaluate {r['expectation_config']['type']}: "
                                   f"{r['exception_info'].get('exception_message')}")
            cfg = r["expectation_config"]
            rows.extend(_HANDLERS[cfg["meta"]["finding"]](cfg, r["result"]))
    df = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    return df.sort_values(["report", "rule"], kind="stable").reset_index(drop=True)


def not_assessed(frames: dict[str, pd.DataFrame], results: dict[str, dict]) -> dict[str, list[str]]:
    """Per report, the identity rules GX skipped for it because a cell it needs is missing
    (rows with a missing value are ignored by the expectation: not assessed, not passed)."""
    from giodq.validate.suites import SUITE_BATCH

    out: dict[str, set[str]] = defaultdict(set)
    for suite, suite_result in results.items():
        frame = frames[SUITE_BATCH[suite]]
        for r in suite_result["results"]:
            cfg = r["expectation_config"]
            if cfg["meta"]["finding"] != "balance":
                continue
            skipped = frame[frame[cfg["kwargs"]["column_list"]].isna().any(axis=1)]
            # reports with none of the table's lines at all (legacy reports, a table not found)
            absent = frames["reports"][~frames["reports"]["report"].isin(frame["report"])]
            skipped = pd.concat([skipped[["report", "format"]], absent[["report", "format"]]])
            fmt = cfg["meta"].get("format")
            if fmt:  # the 2019 and 2021 variants each apply to their own format only
                skipped = skipped[(skipped["format"] == "2019") == (fmt == "2019")]
            for report in skipped["report"].unique():
                out[report].add(cfg["meta"]["rule_id"])
    return {k: sorted(v) for k, v in out.items()}
