"""The rule catalogue: every rule of report-format.md, defined once.

The GX suites in ``expectations/`` are generated from it (suites.py), findings
take their severity, Chinese title and message from it (findings.py), and the
README's rule list is rendered from it. A rule with no ``suites`` is not
evaluated yet: runs list it as not assessed, never as passed.
"""
from __future__ import annotations

from dataclasses import dataclass

ERROR, WARNING = "error", "warning"
NO_REPORT = ""   # the report key of a finding with no report (form.missing: a unit's year not published)
SEVERITY_ZH = {ERROR: "错误", WARNING: "提示"}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str              # 中文 title a reviewer reads
    description: str        # 中文: what the rule checks
    template: str           # 中文 message; placeholders filled from the finding
    tags: tuple[str, ...]
    suites: tuple[str, ...]  # the expectations/<suite>.json files that encode it; empty: not assessed yet


RULES: tuple[Rule, ...] = (
    Rule("t3.flow", ERROR, "申请数量勾稽关系",
         "表三每一列：第一项（本年新收）加第二项（上年结转）之和，等于第三项（办理结果总计）加第四项（结转下年度继续办理）之和。",
         "{where}：本年新收与上年结转之和为 {observed}，办理结果总计与结转下年度之和为 {expected}，两者应相等。",
         ("#t3", "#identity"), ("t3_columns",)),
    Rule("t3.results", ERROR, "办理结果合计",
         "表三每一列：（七）总计等于（一）至（六）各项办理结果之和（2021 年格式 21 项，2019 年格式 19 项）。",
         "{where}：（七）总计填写为 {observed}，但各项办理结果之和为 {expected}。",
         ("#t3", "#identity"), ("t3_columns",)),
    Rule("t3.row_total", ERROR, "申请人合计",
         "表三每一行：总计等于自然人与五类法人或其他组织之和。",
         "{where}：总计填写为 {observed}，但自然人与法人或其他组织之和为 {expected}。",
         ("#t3", "#identity"), ("t3_rows",)),
    Rule("t4.total", ERROR, "复议诉讼合计",
         "表四每一类：总计等于结果维持、结果纠正、其他结果、尚未审结之和。",
         "{where}：总计填写为 {observed}，但结果维持、结果纠正、其他结果、尚未审结之和为 {expected}。",
         ("#t4", "#identity"), ("t4_rows",)),
    Rule("value.type", ERROR, "数值格式",
         "每个计数单元格是非负整数，收费金额是非负数；空白、“/”、“—”、“-”、“无”、“0”表示零。",
         "{where}：填写为「{observed}」，应为{expected}。",
         ("#cells",), ("cells",)),
    Rule("form.tables", ERROR, "表格完整",
         "三张标准表格齐全，每个规定的行和单元格都能读取；2019 年以前的报告没有标准表格，只作提示。",
         "{where}：{observed}。",
         ("#form",), ("cells", "reports")),
    Rule("cross_year.carry", ERROR, "跨年度结转一致",
         "同一机关相邻两年：本年“上年结转”各列等于上年“结转下年度继续办理”各列。",
         "{where}：本年上年结转为 {observed}，上年报告结转下年度为 {expected}。",
         ("#cross_year",), ("carry",)),
    Rule("cross_year.in_force", WARNING, "现行有效件数衔接",
         "同一机关相邻两年：上年现行有效件数加本年制发件数减本年废止件数，等于本年现行有效件数（文件也会自然失效，故只作提示）。",
         "{where}：本年现行有效件数为 {observed}，按上年推算应为 {expected}。",
         ("#cross_year",), ("in_force",)),
    Rule("zero.markers", WARNING, "零值写法一致",
         "表示“无”的写法要一致：同一表格混用空白与 0，或分项有数而总计空白，均提示；分项有数而空白的总计不按 0 计算，"
         "依赖它的勾稽关系和正文比对不评估。",
         "{where}：{observed}。",
         ("#zero",), ("tables", "totals")),
    Rule("narrative.none", ERROR, "正文称“无”与表格不符",
         "正文称未收到申请、无行政复议或行政诉讼、制发规范性文件 0 件（或逐项列举某类办理结果 0 件）时，对应单元格必须为零。",
         "正文称“{sentence}”，即{where}为零，但表格中为 {expected}。",
         ("#narrative",), ("claims",)),
    Rule("narrative.count", ERROR, "正文数字与表格不符",
         "正文所述申请、复议、诉讼、结转等件数必须等于表格对应单元格（收到申请可指本年新收或加上年结转）；"
         "逐项列举办理结果（同意公开、部分公开、不予公开、无法提供、不予处理、其他处理）的，每项与表三对应各行之和比较。",
         "正文称“{sentence}”，即{where} {observed} 件，但表格中为 {expected}。",
         ("#narrative",), ("claims",)),
    Rule("narrative.all_done", ERROR, "正文称全部办结与结转不符",
         "正文称申请已全部办结（全部办结、均已办结、均在法定期限内办结完毕）时，表三“结转下年度继续办理”总计必须为零。",
         "正文称“{sentence}”，即申请已全部办结，但表格中{where}为 {expected}。",
         ("#narrative",), ("claims",)),
    Rule("narrative.problems", WARNING, "问题与改进措施",
         "第五部分（存在的主要问题及改进情况）至少写明一个具体问题和一项改进措施，而不是“无”或只有标题。",
         "{where}未写明{observed}（应写明{expected}），所写为“{sentence}”",
         ("#narrative",), ("problems",)),
    Rule("narrative.percent", WARNING, "正文百分比",
         "正文所述百分比与其分子分母按所写精度一致。",
         "正文称“{sentence}”，所写 {observed} 与按件数计算的 {expected} 不符。",
         ("#narrative",), ("shares",)),
    Rule("form.year", WARNING, "报告年度",
         "报告标题的年度与统计期限一致。",
         "标题年度为 {observed}，统计期限为 {expected}。",
         ("#form",), ("reports",)),
    Rule("form.placeholder", WARNING, "模板空白未填",
         "报告中残留模板空白（如“统计期限自年月日起”）。",
         "正文“{sentence}”中有未填写的空白。",
         ("#form",), ("placeholders",)),
    Rule("form.deadline", WARNING, "发布时间",
         "报告按《政府信息公开条例》第四十九条按时公布（成文日期或发布日期）：县级以上人民政府的本级年度报告"
         "（市、区、县人民政府）于次年 3 月 31 日前，部门和乡镇、街道于次年 1 月 31 日前。层级取自名册，"
         "没有名册时按机关名称判断，无法判断时按 3 月 31 日。",
         "{where}：发布日期为 {observed}，应不晚于 {expected}。",
         ("#form",), ("reports",)),
    Rule("form.missing", ERROR, "未发布年度报告",
         "名册所列单位，本次检查的每个年度都应有一份年度报告（有报告未能读取年度的单位不作判断）。",
         "{where}：{observed}，应{expected}。",
         ("#form", "#district"), ("coverage",)),
    Rule("form.body", WARNING, "发布机构名称",
         "报告所写发布机构名称只有按行政区划名录更正地名、或按乡镇街道名称一字之差，才能对应名册单位"
         "（如“沐阳县”应为“沭阳县”），请核实名称。",
         "{where}：报告写作「{observed}」，对应名册单位「{expected}」。",
         ("#form", "#district"), ("reports",)),
    Rule("form.sections", ERROR, "六部分齐全",
         "报告按格式分为六部分（一、总体情况；二、主动公开政府信息情况；三、收到和处理政府信息公开申请情况；"
         "四、政府信息公开行政复议、行政诉讼情况；五、存在的主要问题及改进情况；六、其他需要报告的事项），"
         "各部分齐全且顺序正确；标题措辞可以不同，按序号和关键词识别。",
         "{where}：{observed}。",
         ("#form",), ("sections",)),
    Rule("cross_year.copied", WARNING, "与上年报告雷同",
         "同一机关相邻两年：本年正文超过一半的句子与上年报告逐字相同（第三方评估视为照抄上年报告）。",
         "{where}：本年正文{observed}与上年报告逐字相同，应不超过{expected}。",
         ("#cross_year",), ("copied",)),
    Rule("cross_year.jump", WARNING, "主要数量异常变化",
         "同一机关相邻两年：本年新收申请、行政复议、行政诉讼、行政许可和行政处罚决定数量比上年增长超过 5 倍，"
         "或降至上年的五分之一以下（两年均不少于 20），请核实数据。",
         "{where}：本年为 {observed}，上年为 {expected}，变化超过 5 倍，请核实。",
         ("#cross_year",), ("jump",)),
)

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def rule(rule_id: str) -> Rule:
    return BY_ID[rule_id]


def assessed() -> tuple[Rule, ...]:
    """Rules this version evaluates."""
    return tuple(r for r in RULES if r.suites)


def not_assessed() -> tuple[Rule, ...]:
    """Rules this version does not evaluate yet: reported as such, never as passing."""
    return tuple(r for r in RULES if not r.suites)


def rules_markdown() -> str:
    """The rule reference for the README, rendered from the catalogue so the two cannot drift."""
    lines = ["| rule | 严重程度 | 规则 | 说明 | suites (`expectations/`) |", "|---|---|---|---|---|"]
    for r in RULES:
        suites = ", ".join(f"`{s}.json`" for s in r.suites) or "not assessed yet"
        lines.append(f"| `{r.id}` | {SEVERITY_ZH[r.severity]} | {r.title} | {r.description} | {suites} |")
    return "\n".join(lines) + "\n"
