"""Rows -> report metadata: body (发布机构), year reported on, publication date, format."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cached_property

from giodq.extract.han import HAN
from giodq.extract.tables import Row

_CN = HAN
_YEAR = r"((?:19|20)\d{2})"
# The report's title: "<body><year>年(度)政府信息公开(工作)年度报告".
_TITLE = re.compile(rf"^(?P<body>[{_CN}（）()·]{{2,40}}?)\s*{_YEAR}\s*年度?\s*(?:政府)?(?:信息公开|政务公开)[{_CN}\s]*?(?:年度报告|年报)")
# …or with the year first: "2025 年上海市人民政府办公厅政府信息公开工作年度报告".
_TITLE_YEAR_FIRST = re.compile(rf"^{_YEAR}\s*年度?\s*(?!政府信息|信息公开|政务公开)(?P<body>[{_CN}（）()·]{{2,40}}?)(?:政府)?(?:信息公开|政务公开)[{_CN}\s]*?(?:年度报告|年报)")
_TITLE_YEAR = re.compile(rf"{_YEAR}\s*年度?\s*(?:政府)?(?:信息公开|政务公开)[{_CN}\s]*?(?:年度报告|年报)")
# 统计期限为2023年1月1日至2023年12月31日 / 数据的起始时间为2024年1月1日至…
_PERIOD = re.compile(rf"(?:统计|起始|期限|时限|时间|期间|区间)[^。；;]{{0,12}}?{_YEAR}\s*年\s*1\s*月\s*1\s*日")
# 结合铁厂镇2024年度政府信息公开工作 / 发布河东区…中心2024年政府信息公开工作年度报告
_BODY_BEFORE_YEAR = re.compile(rf"(?:结合|发布|公布|现将|编制)(?P<body>[{_CN}（）()]{{2,30}}?)\s*{_YEAR}\s*年度?")
_BODY_SUFFIX = ("人民政府", "办事处")
_ORG = rf"[{_CN}（）()]{{2,30}}?(?:人民政府|办事处|街道|乡|镇|局|委员会|委|办公室|办公厅|中心|管委会|实验区)"
# "2014年,南薰乡未收取…": a named body after the year, where the first paragraph says only 我乡.
_YEAR_THEN_BODY = re.compile(rf"{_YEAR}\s*年度?[，,]\s*(?P<body>{_ORG})(?=[{_CN}])")
_SIGNATURE_DATE = re.compile(rf"^[（(]?{_YEAR}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日[)）]?$")
_TITLE_PREFIX = re.compile(r"^(?:#+\s*|标题[:：]\s*|名称[:：|]\s*)")
_DATE = r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
_PUBLISHED = re.compile(rf"(?:成文日期|发布日期|公开日期|发文日期)\s*[:：]?\s*\|?\s*{_DATE}")
_FIELD_BODY = ("发布机构", "发文机关", "发布单位")
_LEGACY_MARKERS = ("收费及减免", "依申请公开政府信息办理情况", "概述")


class Page:
    """A document's rows with what every metadata reader needs, computed once: each row as one
    NFKC-normalised line, and the candidate title lines."""

    def __init__(self, rows: list[Row], title: str | None = None) -> None:
        self.rows = rows
        self.title = title
        self.lines = [unicodedata.normalize("NFKC", " | ".join(c for c in r if c)).replace("\u3000", " ")
                      for r in rows]

    @cached_property
    def title_lines(self) -> list[str]:
        """The page title, the first lines, and each line joined with the next (titles are often
        broken in two), spaces and markdown marks dropped."""
        lines = [_TITLE_PREFIX.sub("", re.sub(r"\s+", "", line)) for line in self.lines[:60]]
        joined = [a + b for a, b in zip(lines, lines[1:])]
        return ([_TITLE_PREFIX.sub("", re.sub(r"\s+", "", self.title))] if self.title else []) + lines + joined

    @cached_property
    def head(self) -> str:
        """The first 80 lines run together without spaces (statistics period, first paragraph)."""
        return re.sub(r"\s+", "", "".join(self.lines[:80]))


def _signature(page: Page) -> str | None:
    """The body named above the date at the end of the report (沭阳县发展和改革局 / 2024年1月17日)."""
    lines = [s.strip() for s in page.lines[-12:] if s.strip()]
    for name, after in zip(lines, lines[1:]):
        compact = re.sub(r"\s+", "", name)
        if _SIGNATURE_DATE.match(re.sub(r"\s+", "", after)) and re.fullmatch(_ORG, compact):
            return compact
    return None


def find_title(page: Page) -> str | None:
    """The report's title as written: the page <title>, else the first line that names an annual report."""
    if page.title:
        return page.title
    lines = [line.strip() for line in page.lines[:30]]
    for i, line in enumerate(lines):
        line = re.sub(r"^#+\s*", "", line)
        if (re.search(r"信息公开", line) and re.search(r"年度报告|年报", line) and len(line) <= 80
                and not re.search(r"[|《，,。；]", line)):  # a title, not a sentence about the report
            before = lines[i - 1] if i else ""
            # "淮安市人民政府" / "2024 年政府信息公开工作年度报告": the body on the line above
            if re.match(r"^(?:19|20)\d{2}\s*年", line) and re.fullmatch(_ORG, re.sub(r"\s+", "", before)):
                return f"{before}{line}"
            return line
    return None


def find_body(page: Page) -> str | None:
    """The body that wrote the report, as written: the 发布机构 field, the title, the first
    paragraph, the signature at the end, a body named after the year."""
    for row in page.rows[:400]:
        cells = [c for c in row if c]
        for i, c in enumerate(cells):
            name = re.sub(r"[\s:：]", "", c)
            if name in _FIELD_BODY and i + 1 < len(cells):
                return cells[i + 1].strip()
            for f in _FIELD_BODY:
                m = re.match(rf"^{f}\s*[:：]\s*([{_CN}（）()]{{2,40}})$", c.strip())
                if m:
                    return m.group(1)
    for line in page.title_lines:
        m = _TITLE.search(line) or _TITLE_YEAR_FIRST.search(line)
        if m:
            return m.group("body")
    text = "\n".join(page.lines[:40])
    m = _BODY_BEFORE_YEAR.search(text)
    if m and not m.group("body").startswith(("我", "本", "公布", "编制")):
        body = m.group("body")
        for suffix in _BODY_SUFFIX:  # 铁厂镇 -> 铁厂镇人民政府 when the page writes it out
            if body + suffix in text:
                return body + suffix
        return body
    signed = _signature(page)
    if signed:
        return signed
    m = _YEAR_THEN_BODY.search(re.sub(r"\s+", "", "".join(page.lines)))
    return m.group("body") if m else None


def title_year(page: Page) -> int | None:
    """The year the report's title names."""
    for line in page.title_lines:
        m = _TITLE_YEAR.search(line) or _TITLE_YEAR_FIRST.search(line)
        if m:
            return int(m.group(1))
    return None


def period_year(page: Page) -> int | None:
    """The year of the statistics period (统计期限为2023年1月1日至…)."""
    m = _PERIOD.search(page.head)
    return int(m.group(1)) if m else None


def find_year(page: Page, title: int | None, period: int | None) -> int | None:
    """The year reported on: the title's (``title``), else the statistics period's (``period``),
    else the first paragraph's."""
    if title or period:
        return title or period
    m = _BODY_BEFORE_YEAR.search(page.head)
    if m:
        return int(m.group(2))
    # the overview opens on the year reported: "一、总体情况 / 2019年，我乡…"
    for line in page.lines[:12]:
        m = re.match(rf"^{_YEAR}\s*年度?[，,]", line.strip())
        if m:
            return int(m.group(1))
    return None


def find_published(page: Page) -> date | None:
    """The publication date the page gives (成文日期 / 发布日期), if any."""
    for line in page.lines[:400]:
        m = _PUBLISHED.search(line)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def decide_format(year: int | None, page_format: str | None, page: Page, has_numbers: bool) -> str:
    """2021 / 2019 / legacy / unknown, from the year reported on, else from what the page shows."""
    if year is not None:
        return "2021" if year >= 2021 else "2019" if year >= 2019 else "legacy"
    if page_format:
        return page_format
    text = "".join(page.lines[:200])
    if not has_numbers and any(m in text for m in _LEGACY_MARKERS):
        return "legacy"
    return "unknown"
