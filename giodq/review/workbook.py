"""The reviewer's workbook (openpyxl): one sheet 问题清单, one row per finding, a drop-down for
审核结论; and reading a filled-in workbook back into decisions, refusing it whole when any row is
wrong (a bad workbook changes nothing).

Report text reaches Excel as text only: every cell is written as a string (a sentence that starts
with "=" is no formula) with the characters XML cannot hold replaced.

A workbook that comes back is untrusted too (it went through other hands and other software).
It is read within bounds, and whatever goes wrong reading it is a WorkbookError with a reason in
Chinese, never a crash: at most ``GIODQ_MAX_INPUT_MB`` of file; a zip directory checked before
anything is inflated (extract/zipcheck.py: at most 10,000 entries, stored or deflate only, each
stream ending where the directory says); and at most ``GIODQ_MAX_MEMBERS_MB`` (256 MB) inflated
in all. The per-member bound of a DOCX (``GIODQ_MAX_MEMBER_MB``, 64 MB) is not applied: a
workbook keeps nearly everything in one member, the sheet, and an export of 25,000 findings
is a sheet of about 60 MB.
"""
from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from giodq.extract.limits import Limits, input_reason
from giodq.extract.zipcheck import office_zip_reason
from giodq.review.decisions import Decision, fingerprints
from giodq.review.states import BY_KEY, BY_WORD, DISMISSED, OPEN, REVIEWER_WORDS
from giodq.validate.rules import NO_REPORT, SEVERITY_ZH

SHEET = "问题清单"
# (header, width): the contract's columns first; 核对码 lets an import tell a stale row
COLUMNS = [("问题编号", 18), ("单位", 28), ("报告文件", 30), ("年度", 7), ("规则", 22), ("严重程度", 9),
           ("位置", 36), ("问题说明", 60), ("报告所写", 12), ("应为", 12), ("正文原句", 50),
           ("审核结论", 11), ("备注", 30), ("审核人", 10), ("审核时间", 20), ("报告页面", 14), ("核对码", 14),
           ("导出时结论", 10), ("导出时备注", 10)]
HEADERS = [c for c, _ in COLUMNS]
# hidden: what the finding said, and its decision, when exported: a row left as exported is no
# decision (two reviewers each import their own rows without undoing the other's)
HIDDEN = ("核对码", "导出时结论", "导出时备注")
REQUIRED = ("问题编号", "审核结论", "备注", "审核人", "核对码")
KIND = "Excel 工作簿"
NO_UNIT = "（未识别）"


class WorkbookError(ValueError):
    """The file is no workbook giodq can read (not xlsx, no 问题清单 sheet, columns missing)."""


@dataclass
class Checked:
    """A workbook read against the findings at OUT."""
    decisions: list[Decision] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)     # one line per bad row (中文)
    unchanged: int = 0


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))


def _unit_names(reports: pd.DataFrame) -> dict[str, str]:
    """report -> the 单位 a reviewer reads: the roster's name, the body as written, or （未识别）."""
    out = {}
    for column in ("body", "unit"):   # the roster's name over the body
        if column in reports:
            out |= {r: v for r, v in zip(reports["report"], reports[column]) if isinstance(v, str) and v.strip()}
    return {r: out.get(r, NO_UNIT) for r in reports["report"]}


def meaningful(text: str | None) -> bool:
    """Whether a 备注 says anything: not only spaces, zero-width or other format characters."""
    return any(unicodedata.category(ch)[0] not in "ZC" for ch in text or "")


def export(findings: pd.DataFrame, reports: pd.DataFrame, path: Path, page_url) -> int:
    """Write the workbook of ``findings`` (with finding_id and state) to ``path``; returns rows.
    ``page_url(report) -> str | None``: the link to a report's page."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(HEADERS)
    units = _unit_names(reports)
    years = dict(zip(reports["report"], reports["year"]))
    prints = fingerprints(findings)
    order = findings.assign(_sev=findings["severity"].map({"error": 0, "warning": 1})).sort_values(
        ["report", "_sev", "rule"], kind="stable")
    for i, f in enumerate(order.itertuples(), start=2):
        own = f.report == NO_REPORT   # form.missing: the unit and year are the finding's own
        unit = _text(getattr(f, "unit", None)) if own else units.get(f.report, NO_UNIT)
        year = getattr(f, "year", None) if own else years.get(f.report)
        values = [f.finding_id, unit or NO_UNIT, "（未发布）" if own else f.report,
                  None if year is None or pd.isna(year) else str(int(year)), f"{f.title}（{f.rule}）",
                  SEVERITY_ZH.get(f.severity, f.severity), f.where, f.message, f.observed, f.expected, f.sentence,
                  BY_KEY[f.state].word if f.state in BY_KEY else f.state, f.note, f.decided_by, f.decided_at,
                  None, prints[f.Index], BY_KEY[f.state].word if f.state in BY_KEY else f.state, f.note]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=i, column=col)
            text = _text(value)
            if text is not None:
                cell.value = text
                cell.data_type = "s"   # never a formula, whatever the report wrote
        url = page_url(f.report) if not own else None
        if url:
            link = ws.cell(row=i, column=HEADERS.index("报告页面") + 1, value="打开报告页面")
            link.hyperlink = url
            link.style = "Hyperlink"
    for col, (_, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(vertical="center")
    for row in ws.iter_rows(min_row=2, min_col=HEADERS.index("问题说明") + 1, max_col=HEADERS.index("正文原句") + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    last = max(2, len(order) + 1)
    verdict = get_column_letter(HEADERS.index("审核结论") + 1)
    choice = DataValidation(type="list", formula1='"' + ",".join(REVIEWER_WORDS) + '"', allow_blank=False,
                            showErrorMessage=True, errorTitle="审核结论",
                            error="请选择 " + " / ".join(REVIEWER_WORDS) + "（已整改由 giodq 设定）")
    choice.add(f"{verdict}2:{verdict}{last}")
    ws.add_data_validation(choice)
    for name in HIDDEN:
        ws.column_dimensions[get_column_letter(HEADERS.index(name) + 1)].hidden = True
    guide = wb.create_sheet("说明")
    for line in ("每行一个问题。请在“审核结论”中选择：待核实 / 已确认 / 误报；选择“误报”时须在“备注”中写明理由。",
                 "“已整改”由 giodq 在复查后自动设定，无需填写。请勿修改“问题编号”和隐藏的“核对码”列。",
                 "填好后：giodq review import OUT 本文件.xlsx，或把本文件放入 OUT/reviews/inbox/，下次运行时自动导入。"):
        guide.append([line])
    guide.column_dimensions["A"].width = 110
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return len(order)


def too_large(name: str, size: int) -> WorkbookError | None:
    """The error for a workbook of ``size`` bytes past GIODQ_MAX_INPUT_MB, or None."""
    why = input_reason(size, Limits.resolve())
    return WorkbookError(f"{name}：{KIND}过大，未读取：{why.split(': ', 1)[-1]}") if why else None


def _zip_reason(data: bytes, limits: Limits) -> str | None:
    """Why the workbook's zip is not opened (see the module's docstring), or None."""
    return office_zip_reason(data, limits, KIND, "GIODQ_MAX_MEMBERS_MB")


def read(data: bytes, name: str) -> list[dict]:
    """The rows of a filled-in workbook: {"row": n, header: value, ...}. Raises WorkbookError
    (and only that) for a file that cannot be read, whatever is wrong with it."""
    limits = Limits.resolve()
    error = too_large(name, len(data))
    if error:
        raise error
    why = _zip_reason(data, limits)
    if why:
        raise WorkbookError(f"{name}：不是可读取的 {KIND}（.xlsx）：{why.split(': ', 1)[-1]}")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:   # openpyxl raises many kinds for a file that is not a workbook
        raise WorkbookError(f"{name}：不是 {KIND}（.xlsx）（{type(e).__name__}）") from None
    try:
        return _rows(wb, name)
    except WorkbookError:
        raise
    except Exception as e:   # the sheet's XML is parsed only now, row by row: damaged, entities...
        raise WorkbookError(f"{name}：不是可读取的 {KIND}（.xlsx）：“{SHEET}”工作表的内容已损坏，无法读取"
                            f"（{type(e).__name__}）") from None
    finally:
        wb.close()


def _rows(wb, name: str) -> list[dict]:
    if SHEET not in wb.sheetnames:
        raise WorkbookError(f"{name}：没有“{SHEET}”工作表，请使用 giodq review export 导出的工作簿")
    rows = wb[SHEET].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise WorkbookError(f"{name}：“{SHEET}”缺少列 {'、'.join(missing)}")
    out = []
    for n, values in enumerate(rows, start=2):
        row = {h: (str(v).strip() if v is not None else "") for h, v in zip(header, values) if h}
        if any(row.values()):
            out.append({"row": n, **row})
    return out


def check_rows(rows: list[dict], findings: pd.DataFrame, decisions: pd.DataFrame, via: str) -> Checked:
    """Rows of a workbook against the findings now at OUT: each row is a decision, unchanged, or an
    error (an unknown 问题编号, a state not among the three, 误报 with no 备注, a stale row, a row
    that would undo what someone else decided since the export)."""
    out = Checked()
    current = dict(zip(findings["finding_id"], fingerprints(findings))) if len(findings) else {}
    decided = {r.finding_id: {"state": r.state, "note": _said(r.note), "decided_by": _said(r.decided_by),
                              "decided_at": _said(r.decided_at)} for r in decisions.itertuples()}
    seen: set[str] = set()
    for r in rows:
        fid, word, note, who = r.get("问题编号", ""), r.get("审核结论", ""), r.get("备注", ""), r.get("审核人", "")
        where = f"第 {r['row']} 行"
        if "导出时结论" in r and r["导出时结论"] == word and r.get("导出时备注", "") == note:
            out.unchanged += 1   # left as exported: no decision, whatever happened to the finding since
            continue
        if fid not in current:
            out.errors.append(f"{where}：问题编号“{fid}”不在当前检查结果中（已整改、已删除，或不是导出的编号）")
            continue
        if fid in seen:
            out.errors.append(f"{where}：问题编号“{fid}”在工作簿中出现了不止一次")
            continue
        seen.add(fid)
        state = BY_WORD.get(word)
        if state is None or not state.by_reviewer:
            out.errors.append(f"{where}：审核结论“{word}”不是 {' / '.join(REVIEWER_WORDS)} 之一")
            continue
        if r.get("核对码", "") != current[fid]:
            out.errors.append(f"{where}：问题 {fid} 的数值自导出以来已变化（报告已更新），请重新导出后再审核")
            continue
        if state.key == DISMISSED and not meaningful(note):
            out.errors.append(f"{where}：选择“误报”时须在“备注”中写明理由")
            continue
        before = decided.get(fid, {"state": OPEN, "note": "", "decided_by": "", "decided_at": ""})
        if before["state"] == state.key and before["note"] == note:
            out.unchanged += 1
            continue
        if "导出时结论" in r and not _as_exported(before, r):
            now = BY_KEY[before["state"]].word if before["state"] in BY_KEY else before["state"]
            out.errors.append(f"{where}：问题 {fid} 自导出以来已由{_who(before)}改为“{now}”，与本行的“{word}”冲突，"
                              f"未导入；请重新导出后再审核（以免覆盖他人的结论）")
            continue
        out.decisions.append(Decision(fid, state.key, note or None, who or None, via))
    return out


def _as_exported(before: dict, row: dict) -> bool:
    """Whether the current decision is the one the workbook was exported with."""
    exported = BY_WORD.get(row.get("导出时结论", ""))
    return exported is not None and exported.key == before["state"] and before["note"] == row.get("导出时备注", "")


def _who(before: dict) -> str:
    who = before["decided_by"] or "他人"
    return f"{who}（{before['decided_at']}）" if before["decided_at"] else who


def _said(value) -> str:
    """A decision's text as the workbook holds it: "" for none (None, or NaN from Parquet)."""
    return value.strip() if isinstance(value, str) else ""
