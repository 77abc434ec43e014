"""整改通知: one Word document (python-docx) per unit with confirmed findings, in the register an
openness office sends: the unit, the report, each problem with its place in the tables, what the
report says and what it should be, the sentence quoted, and a blank for the correction deadline.

Report text goes into the document as text runs only (python-docx escapes it); the file's name is
made from the unit's name with what a file name cannot hold replaced.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata

import pandas as pd
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from giodq.review.states import CONFIRMED

OFFICE = "政务公开办"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def notice_name(unit: str) -> str:
    """A file name for a unit's notice: the name as written where a file system allows it, short,
    never a path; a hash keeps two names that clean up the same apart."""
    clean = _UNSAFE.sub("_", unicodedata.normalize("NFC", unit)).strip(" ._") or "未识别单位"
    digest = hashlib.sha256(unit.encode("utf-8")).hexdigest()[:6]
    return f"{clean[:60]}-{digest}.docx"


def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return _XML_UNSAFE.sub("\ufffd", str(value))


def _font(doc: Document) -> None:
    style = doc.styles["Normal"]
    style.font.name = "仿宋"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")   # Word takes CJK text's font from here


def notice(unit: str, findings: pd.DataFrame, reports: pd.DataFrame) -> bytes:
    """The notice to ``unit`` about its confirmed ``findings`` (rows of findings.parquet)."""
    doc = Document()
    _font(doc)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("政府信息公开工作年度报告整改通知")
    run.bold, run.font.size = True, Pt(20)
    doc.add_paragraph(f"{_text(unit)}：")
    meta = reports.set_index("report")
    for report, items in findings.groupby("report", sort=True):
        row = meta.loc[report] if report in meta.index else None
        name = _text(row["title"]) if row is not None and isinstance(row.get("title"), str) else ""
        year = "" if row is None or pd.isna(row["year"]) else f"{int(row['year'])} 年度"
        doc.add_paragraph(
            f"经审核，你单位发布的{year}政府信息公开工作年度报告{('《' + name + '》') if name else ''}"
            f"（文件：{_text(report)}）存在以下 {len(items)} 个问题，请核实整改，并于 ____ 年 __ 月 __ 日前"
            f"重新发布更正后的报告，报送{OFFICE}。")
        for n, f in enumerate(items.sort_values(["severity", "rule"], kind="stable").itertuples(), start=1):
            head = doc.add_paragraph()
            head.add_run(f"{n}. {_text(f.title)}").bold = True
            head.add_run(f"（{_text(f.rule)}，问题编号 {_text(f.finding_id)}）")
            for label, value in (("位置", f.where), ("报告所写", f.observed), ("应为", f.expected),
                                 ("原文", f"“{_text(f.sentence)}”" if _text(f.sentence) else ""),
                                 ("说明", f.message), ("审核意见", f.note)):
                if _text(value):
                    p = doc.add_paragraph(style="List Bullet")
                    p.add_run(f"{label}：").bold = True
                    p.add_run(_text(value))
    doc.add_paragraph("")
    sign = doc.add_paragraph(f"{OFFICE}\n____ 年 __ 月 __ 日")
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def notices(findings: pd.DataFrame, reports: pd.DataFrame, unit_names: pd.Series) -> dict[str, bytes]:
    """{file name: document} for every unit with confirmed findings. ``unit_names``: report -> the
    unit's name as a reviewer reads it (its body as written, or the roster's name)."""
    confirmed = findings[findings["state"] == CONFIRMED] if len(findings) else findings
    if not len(confirmed):
        return {}
    unit = confirmed["report"].map(unit_names).fillna("未识别单位")
    return {notice_name(u): notice(u, items, reports) for u, items in confirmed.groupby(unit, sort=True)}
