"""整改通知: one Word document (python-docx) per unit with confirmed findings, in the register an
openness office sends: the unit, the report, each problem with its place in the tables, what the
report says and what it should be, the sentence quoted, and a blank for the correction deadline.

One notice per unit (``notice_unit``: the roster's unit where the body is on the roster, else the
body normalised as finding_id knows it), so that a unit's reports of several years, or written
with its name spelt in two ways, get one notice, and a unit on the roster with no report
(form.missing) gets one too. A report whose body could not be read has no unit: its notice is its own,
named after its file (未识别单位-<file>), and says so.

Report text goes into the document as text runs only (python-docx escapes it); the file's name is
made from the unit's name with what a file name cannot hold replaced, and without the invisible
characters (bidi overrides, zero-width) that would make it read as another name.
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

from giodq.district.names import MATCHED
from giodq.review.ids import unit_of
from giodq.validate.rules import NO_REPORT
from giodq.review.states import CONFIRMED

OFFICE = "政务公开办"
NO_UNIT = "未识别单位"
BY_FILE = "file:"   # ids.unit_of's prefix for a report known by its file name
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def notice_name(unit: str) -> str:
    """A file name for the notice to ``unit`` (ids.unit_of's key): the name as written where a file
    system allows it, short, never a path, no control or format characters; a hash of the key
    keeps two names that clean up the same apart."""
    shown = f"{NO_UNIT}-{unit[len(BY_FILE):]}" if unit.startswith(BY_FILE) else unit
    visible = "".join(ch for ch in unicodedata.normalize("NFC", shown) if unicodedata.category(ch) not in ("Cf", "Cc"))
    clean = _UNSAFE.sub("_", visible).strip(" ._") or NO_UNIT
    digest = hashlib.sha256(unit.encode("utf-8", "surrogateescape")).hexdigest()[:6]
    return f"{clean[:60]}-{digest}.docx"


def notice_unit(reports: pd.DataFrame) -> pd.Series:
    """report -> the unit its notice is addressed to: the roster's unit, else ids.unit_of's."""
    own = unit_of(reports)
    if "unit" not in reports or "unit_match" not in reports:
        return own
    roster = pd.Series(reports["unit"].to_numpy(), index=reports["report"].to_numpy())
    on = pd.Series(reports["unit_match"].isin(MATCHED).to_numpy(), index=reports["report"].to_numpy())
    roster = roster[~roster.index.duplicated()]
    on = on[~on.index.duplicated()]
    return own.where(~on.reindex(own.index, fill_value=False), roster.reindex(own.index))


def report_notice_name(report: pd.Series) -> str:
    """The name of the notice that covers a report (a row of reports.parquet)."""
    return notice_name(notice_unit(pd.DataFrame([report.to_dict()])).iloc[0])


def unit_names(reports: pd.DataFrame) -> dict[str, str]:
    """unit_of's key -> the name a notice is addressed to: the roster's name, or the body as the
    first of the unit's reports (by key) writes it."""
    rows = reports.drop_duplicates("report").set_index("report")
    written = lambda c: rows[c].where(rows[c].map(lambda v: isinstance(v, str) and bool(v.strip())))  # noqa: E731
    shown = written("body") if "body" in rows else pd.Series(None, index=rows.index, dtype="object")
    if "unit" in rows:
        shown = written("unit").fillna(shown)
    names = pd.DataFrame({"key": notice_unit(rows.reset_index()), "name": shown}).dropna().sort_index()
    return names.groupby("key")["name"].first().to_dict()


def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return _XML_UNSAFE.sub("\ufffd", str(value))


def _font(doc: Document) -> None:
    style = doc.styles["Normal"]
    style.font.name = "仿宋"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")   # Word takes CJK text's font from here


def notice(unit: str, findings: pd.DataFrame, reports: pd.DataFrame, by_file: bool = False) -> bytes:
    """The notice to ``unit`` about its confirmed ``findings`` (rows of findings.parquet).
    ``by_file``: the report names no body that could be read; the notice says so."""
    doc = Document()
    _font(doc)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("政府信息公开工作年度报告整改通知")
    run.bold, run.font.size = True, Pt(20)
    if by_file:
        [report] = sorted(set(findings["report"]))
        doc.add_paragraph(f"报告文件“{_text(report)}”的发布单位：")
        doc.add_paragraph(f"（该报告中未能识别发布机构，本通知按报告文件名称发出，请{OFFICE}转交发布该报告的单位。）")
    else:
        doc.add_paragraph(f"{_text(unit)}：")
    meta = reports.set_index("report")
    missing = findings[findings["report"] == NO_REPORT]
    if len(missing):   # form.missing: no report to correct, one to publish
        years = "、".join(f"{int(y)} 年度" for y in sorted(missing["year"].dropna().unique()))
        doc.add_paragraph(f"经核查，截至本通知发出之日，未找到你单位{years}政府信息公开工作年度报告。请依照"
                          f"《政府信息公开条例》第四十九条的规定尽快公布，并报送{OFFICE}；如已公布，请提供报告文件"
                          f"或网址。（问题编号 {'、'.join(_text(i) for i in missing['finding_id'])}）")
    for report, items in findings[findings["report"] != NO_REPORT].groupby("report", sort=True):
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


def notices(findings: pd.DataFrame, reports: pd.DataFrame) -> dict[str, bytes]:
    """{file name: document} for every unit (ids.unit_of) with confirmed findings."""
    confirmed = findings[findings["state"] == CONFIRMED] if len(findings) else findings
    if not len(confirmed):
        return {}
    key = confirmed["report"].map(notice_unit(reports))
    key = key.where(key.notna(), BY_FILE + confirmed["report"])
    own = confirmed["report"] == NO_REPORT   # form.missing: the roster's unit, which has no report
    key = key.where(~own, confirmed["unit"] if "unit" in confirmed else None)
    names = unit_names(reports[reports["report"].isin(set(confirmed["report"]))])
    names |= {u: u for u in confirmed.loc[own, "unit"].dropna()} if "unit" in confirmed else {}
    return {notice_name(k): notice(names.get(k, NO_UNIT), items, reports, by_file=k.startswith(BY_FILE))
            for k, items in confirmed.groupby(key, sort=True)}
