"""The canonical cell model: every cell key of the annual report, with its Chinese labels.

Key grammar: ``<table>.<row>.<col>``, e.g. ``t3.new_received.total``
(table 3, row 一、本年新收政府信息公开申请数量, column 总计).
Tables: ``t2`` 主动公开政府信息情况, ``t3`` 收到和处理政府信息公开申请情况,
``t4`` 政府信息公开行政复议、行政诉讼情况. Defined here once; extraction, the
suites, the findings, the dataset and the docs all import it
(../shared/spec/report-format.md is the source).

Formats: ``2021`` (国办公开办函〔2021〕30号, reports on 2021 and later), ``2019``
(国办公开办函〔2019〕60号, reports on 2019 and 2020), ``legacy`` (free text,
no standard tables), ``unknown``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

FORMATS = ("2021", "2019", "legacy", "unknown")
TABLE_FORMATS = ("2021", "2019")  # formats that have the three standard tables

# How a cell's number is typed, for value.type: counts are non-negative integers,
# amounts (万元) non-negative decimals, changes (本年增/减, 2019 table 2) signed integers.
COUNT, AMOUNT, CHANGE = "count", "amount", "change"

TABLES = {
    "t2": "表二 主动公开政府信息情况",
    "t3": "表三 收到和处理政府信息公开申请情况",
    "t4": "表四 政府信息公开行政复议、行政诉讼情况",
}


@dataclass(frozen=True)
class Row:
    key: str
    label: str                      # the Chinese label a reviewer sees
    aliases: tuple[str, ...]        # normalised phrases that identify the row on the page
    exact: bool = False             # short labels (其他, 总计, 规章) must match whole, not as a part


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    kind: str = COUNT


@dataclass(frozen=True)
class Cell:
    key: str
    table: str
    row: str
    col: str
    row_label: str
    col_label: str
    kind: str

    @property
    def label(self) -> str:
        return f"{self.row_label} · {self.col_label}"


# --- table 2 (2021 format) ------------------------------------------------------------
_DOC_COLS_2021 = (Col("issued", "本年制发件数"), Col("repealed", "本年废止件数"), Col("in_force", "现行有效件数"))
_DECISIONS = (Col("decisions", "本年处理决定数量"),)
T2_2021: tuple[tuple[Row, tuple[Col, ...]], ...] = (
    (Row("regulations", "规章", ("规章",), exact=True), _DOC_COLS_2021),
    (Row("normative_docs", "行政规范性文件", ("行政规范性文件", "规范性文件"), exact=True), _DOC_COLS_2021),
    (Row("licensing", "行政许可", ("行政许可",), exact=True), _DECISIONS),
    (Row("penalty", "行政处罚", ("行政处罚",), exact=True), _DECISIONS),
    (Row("coercion", "行政强制", ("行政强制",), exact=True), _DECISIONS),
    (Row("fees", "行政事业性收费", ("行政事业性收费",), exact=True), (Col("amount", "本年收费金额（单位：万元）", AMOUNT),)),
)

# --- table 2 (2019 format): other columns and two more rows ------------------------------
_DOC_COLS_2019 = (Col("new_made", "本年新制作数量"), Col("new_published", "本年新公开数量"),
                  Col("total_published", "对外公开总数量"))
_ITEM_COLS_2019 = (Col("prior_items", "上一年项目数量"), Col("change", "本年增/减", CHANGE),
                   Col("decisions", "处理决定数量"))
T2_2019: tuple[tuple[Row, tuple[Col, ...]], ...] = (
    (Row("regulations", "规章", ("规章",), exact=True), _DOC_COLS_2019),
    (Row("normative_docs", "规范性文件", ("行政规范性文件", "规范性文件"), exact=True), _DOC_COLS_2019),
    (Row("licensing", "行政许可", ("行政许可",), exact=True), _ITEM_COLS_2019),
    (Row("other_services", "其他对外管理服务事项", ("其他对外管理服务事项",)), _ITEM_COLS_2019),
    (Row("penalty", "行政处罚", ("行政处罚",), exact=True), _ITEM_COLS_2019),
    (Row("coercion", "行政强制", ("行政强制",), exact=True), _ITEM_COLS_2019),
    (Row("fees", "行政事业性收费", ("行政事业性收费",), exact=True),
     (Col("prior_items", "上一年项目数量"), Col("change", "本年增/减", CHANGE))),
    (Row("procurement", "政府集中采购", ("政府集中采购",)),
     (Col("items", "采购项目数量"), Col("amount", "采购总金额（单位：万元）", AMOUNT))),
)

# --- table 3 ----------------------------------------------------------------------------
T3_COLS: tuple[Col, ...] = (
    Col("natural_person", "自然人"),
    Col("commercial", "法人或其他组织·商业企业"),
    Col("research", "法人或其他组织·科研机构"),
    Col("social_welfare", "法人或其他组织·社会公益组织"),
    Col("legal_service", "法人或其他组织·法律服务机构"),
    Col("other_org", "法人或其他组织·其他"),
    Col("total", "总计"),
)
T3_APPLICANT_COLS = tuple(c.key for c in T3_COLS[:-1])

T3_ROWS: tuple[Row, ...] = (
    Row("new_received", "一、本年新收政府信息公开申请数量", ("本年新收",)),
    Row("carried_over", "二、上年结转政府信息公开申请数量", ("上年结转",)),
    Row("granted", "三（一）予以公开", ("予以公开",), exact=True),
    Row("partially_granted", "三（二）部分公开", ("部分公开",)),
    Row("denied_state_secret", "三（三）不予公开 1.属于国家秘密", ("国家秘密",)),
    Row("denied_law_prohibited", "三（三）不予公开 2.其他法律行政法规禁止公开", ("法律行政法规禁止公开",)),
    Row("denied_security_stability", "三（三）不予公开 3.危及“三安全一稳定”", ("三安全一稳定",)),
    Row("denied_third_party", "三（三）不予公开 4.保护第三方合法权益", ("第三方合法权益",)),
    Row("denied_internal_affairs", "三（三）不予公开 5.属于三类内部事务信息", ("内部事务信息",)),
    Row("denied_process_info", "三（三）不予公开 6.属于四类过程性信息", ("过程性信息",)),
    Row("denied_enforcement_file", "三（三）不予公开 7.属于行政执法案卷", ("行政执法案卷",)),
    Row("denied_admin_query", "三（三）不予公开 8.属于行政查询事项", ("行政查询事项",)),
    Row("unable_not_held", "三（四）无法提供 1.本机关不掌握相关政府信息", ("不掌握相关政府信息",)),
    Row("unable_needs_creation", "三（四）无法提供 2.没有现成信息需要另行制作", ("另行制作",)),
    Row("unable_unclear", "三（四）无法提供 3.补正后申请内容仍不明确", ("仍不明确",)),
    Row("rejected_complaint", "三（五）不予处理 1.信访举报投诉类申请", ("信访举报投诉",)),
    Row("rejected_repeat", "三（五）不予处理 2.重复申请", ("重复申请",), exact=True),
    Row("rejected_publication", "三（五）不予处理 3.要求提供公开出版物", ("公开出版物",)),
    Row("rejected_mass_repeat", "三（五）不予处理 4.无正当理由大量反复申请", ("大量反复申请",)),
    Row("rejected_confirm", "三（五）不予处理 5.要求行政机关确认或重新出具已获取信息", ("确认或重新出具",)),
    Row("other_overdue_correction", "三（六）其他处理 1.申请人无正当理由逾期不补正", ("逾期不补正",)),
    Row("other_overdue_fee", "三（六）其他处理 2.申请人逾期未按收费通知要求缴纳费用", ("逾期未按收费通知", "缴纳费用")),
    Row("other_other", "三（六）其他处理 3.其他", ("其他", "其他处理"), exact=True),
    Row("total_processed", "三（七）总计", ("总计",), exact=True),
    Row("carried_forward", "四、结转下年度继续办理", ("结转下年度",)),
)
# The 2019 format has one 其他处理 row (mapped to other_other); the two split rows are absent.
T3_ROWS_ABSENT_2019 = ("other_overdue_correction", "other_overdue_fee")
T3_RESULT_ROWS = tuple(r.key for r in T3_ROWS[2:-2])  # the 21 result rows, 三（一）…（六）

# --- table 4 ----------------------------------------------------------------------------
T4_ROWS: tuple[Row, ...] = (
    Row("review", "行政复议", ("行政复议",)),
    Row("suit_direct", "行政诉讼·未经复议直接起诉", ("未经复议直接起诉",)),
    Row("suit_after_review", "行政诉讼·复议后起诉", ("复议后起诉",)),
)
T4_COLS: tuple[Col, ...] = (
    Col("upheld", "结果维持"), Col("corrected", "结果纠正"), Col("other", "其他结果"),
    Col("pending", "尚未审结"), Col("total", "总计"),
)


def _cells(table: str, rows_cols) -> list[Cell]:
    return [Cell(f"{table}.{r.key}.{c.key}", table, r.key, c.key, r.label, c.label, c.kind)
            for r, cols in rows_cols for c in cols]


@cache
def cells_for(fmt: str) -> tuple[Cell, ...]:
    """Every canonical cell of a report format, in table order (empty for legacy)."""
    if fmt == "legacy":
        return ()
    t2 = T2_2019 if fmt == "2019" else T2_2021
    t3_rows = [r for r in T3_ROWS if not (fmt == "2019" and r.key in T3_ROWS_ABSENT_2019)]
    return tuple(_cells("t2", t2) + _cells("t3", [(r, T3_COLS) for r in t3_rows])
                 + _cells("t4", [(r, T4_COLS) for r in T4_ROWS]))


@cache
def all_cells() -> dict[str, Cell]:
    """Every key of every format (2021 first), for labels and the wide validation frame."""
    out: dict[str, Cell] = {}
    for fmt in TABLE_FORMATS:
        for c in cells_for(fmt):
            out.setdefault(c.key, c)
    return out


def key(table: str, row: str, col: str) -> str:
    return f"{table}.{row}.{col}"


def label(cell_key: str) -> str:
    """The Chinese label of a key, e.g. 't3.granted.total' -> '三（一）予以公开 · 总计'."""
    c = all_cells().get(cell_key)
    return c.label if c else cell_key


def line_label(table: str, axis: str, line: str) -> str:
    """The label of a whole row or column of a table: ('t3', 'col', 'total') -> '总计'."""
    if table == "t3":
        items = T3_COLS if axis == "col" else T3_ROWS
    elif table == "t4":
        items = T4_COLS if axis == "col" else T4_ROWS
    else:
        items = tuple(r for r, _ in T2_2021 + T2_2019) if axis == "row" else ()
    return next((i.label for i in items if i.key == line), line)
