"""Narrative -> claims about the tables: counts, claims of none, percentages, template blanks.

Each claim names the sentence it was read from and the canonical cells it speaks
about, with every reading the spec allows (收到 N 件 may mean new_received or
new_received + carried_over). The claims are checked against the cells by GX
(frames.claims_frame, suites.py); this module only reads the text.

Precision matters more than recall here: a pattern that might misread a sentence
is left out rather than risk a false finding.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from giodq import cells as cm

_END = "。；;！？!?"
_NUM = r"(\d[\d,]*|[零一二两三四五六七八九十]{1,3})"
_UNIT = r"\s*(?:件|起|宗)"
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

T3 = lambda row: cm.key("t3", row, "total")  # noqa: E731
SUITS = [cm.key("t4", "suit_direct", "total"), cm.key("t4", "suit_after_review", "total")]
REVIEW = [cm.key("t4", "review", "total")]


@dataclass(frozen=True)
class Claim:
    """A count the narrative states (0 for a claim of none) and the cells it must equal,
    under each allowed reading (a reading is a list of keys whose values add up)."""
    rule: str                          # narrative.count or narrative.none
    sentence: str
    claimed: float
    readings: tuple[tuple[str, ...], ...]
    subject: str                       # 中文: what the sentence counts


@dataclass(frozen=True)
class Share:
    """A percentage the narrative states, with the count and the base it was read against."""
    sentence: str
    stated: float
    decimals: int
    count: float
    base: float


def to_number(text: str) -> float | None:
    s = text.replace(",", "")
    if s.isdigit():
        return float(s)
    if all(ch in _CN_DIGITS or ch == "十" for ch in s):
        if "十" in s:
            tens, _, ones = s.partition("十")
            return float((_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0))
        return float(_CN_DIGITS[s]) if len(s) == 1 else None
    return None


_STARTS_BLOCK = re.compile(r"^(?:#|\||[（(]?[一二三四五六七八九十\d]+[、.)）])")


def paragraphs(lines: list[str]) -> list[str]:
    """Prose lines -> paragraphs: a line that does not end a sentence continues on the next one
    (PDF and markdown text break lines mid-sentence)."""
    out: list[str] = []
    joinable = False
    for line in lines:
        line = line.strip()
        if joinable and not _STARTS_BLOCK.match(line):
            out[-1] += line
        else:
            out.append(line)
        # a long line that stops mid-sentence was broken by the layout; a short one is a heading
        joinable = len(out[-1]) >= 20 and out[-1][-1] not in _END + "：:" and not line.startswith(("#", "|"))
    return [p for p in out if p]


def sentences(lines: list[str]) -> list[str]:
    return [s.strip() for p in paragraphs(lines) for s in re.split(rf"(?<=[{_END}])", p) if s.strip()]


# (subject, cells under each reading, pattern whose group "n" is the count)
_COUNTS = (
    ("本年新收政府信息公开申请数量", ((T3("new_received"),), (T3("new_received"), T3("carried_over"))),
     re.compile(rf"(?:受理|收到|接收|接到|新收)(?P<what>[^。；;，,：:]{{0,16}}?){_NUM.replace('(', '(?P<n>', 1)}{_UNIT}"
                rf"(?P<after>[^。；;，,]{{0,4}})")),
    ("办理结果总计", ((T3("total_processed"),),),
     re.compile(rf"(?:办结|答复|共办理|办理完毕)(?P<what>[^。；;，,：:]{{0,8}}?){_NUM.replace('(', '(?P<n>', 1)}{_UNIT}")),
    ("结转下年度继续办理", ((T3("carried_forward"),),),
     re.compile(rf"(?:(?:结转|顺延)(?:到|至)?下一?年度?(?:继续办理)?(?P<what>\s*){_NUM.replace('(', '(?P<n>', 1)}{_UNIT}"
                rf"|{_NUM.replace('(', '(?P<n2>', 1)}{_UNIT}(?:申请)?(?:结转|顺延)(?:到|至)?下一?年度?)")),
    ("上年结转政府信息公开申请数量", ((T3("carried_over"),),),
     re.compile(rf"上年度?结转(?:申请)?(?P<what>\s*){_NUM.replace('(', '(?P<n>', 1)}{_UNIT}")),
    ("行政复议总计", (tuple(REVIEW),),
     re.compile(rf"行政复议(?:案件|申请)?(?P<what>\s*){_NUM.replace('(', '(?P<n>', 1)}{_UNIT}")),
    ("行政诉讼总计（未经复议直接起诉与复议后起诉）", (tuple(SUITS),),
     re.compile(rf"行政诉讼(?:案件)?(?P<what>\s*){_NUM.replace('(', '(?P<n>', 1)}{_UNIT}")),
    ("行政规范性文件本年制发件数", ((cm.key("t2", "normative_docs", "issued"),),),
     re.compile(rf"(?:制定|制发|出台)(?:行政)?规范性文件(?P<what>\s*){_NUM.replace('(', '(?P<n>', 1)}\s*件")),
)
# Sentences that mention the subject without counting it this year.
_NOT_THIS_YEAR = re.compile(r"累计|以来|历年|同比|上一?年(?!度?结转)|较\d{4}年")
_ABOUT_OTHER = re.compile(r"建议|提案|信访|网络问政|来信|热线|咨询|留言|案件|纠错|纠正|败诉|处理费|收费")

_NONE = (
    ("行政复议总计", (tuple(REVIEW),), re.compile(r"(?:无|未|没有)[^。；;，,]{0,14}?行政复议")),
    ("行政诉讼总计（未经复议直接起诉与复议后起诉）", (tuple(SUITS),),
     re.compile(r"(?:无|未(?!经复议)|没有)[^。；;，,]{0,20}?(?:行政)?诉讼")),
    ("本年新收政府信息公开申请数量", ((T3("new_received"),),),
     re.compile(r"(?:未|没有)(?:收到|接到|受理)[^。；;，,]{0,20}?申请|无(?:依申请公开|政府信息公开)申请")),
    ("行政规范性文件本年制发件数", ((cm.key("t2", "normative_docs", "issued"),),),
     re.compile(r"(?:未|没有)(?:制定|制发|出台)(?:行政)?规范性文件")),
)
_NONE_EXCLUDE = re.compile(r"纠错|纠正|败诉|以来|累计|建议|提案")


def read_claims(sents: list[str]) -> list[Claim]:
    """Counts and claims of none stated in the sentences."""
    out: list[Claim] = []
    for s in sents:
        compact = re.sub(r"\s+", "", s)
        if _NOT_THIS_YEAR.search(compact):
            continue
        none_subjects = set()
        if not _NONE_EXCLUDE.search(compact):
            for subject, readings, pattern in _NONE:
                m = pattern.search(compact)
                # a sentence saying 未收到行政复议…的申请 is about reviews, not requests
                if m and not (subject.startswith("本年新收") and re.search("复议|诉讼", m.group(0))):
                    none_subjects.add(subject)
                    out.append(Claim("narrative.none", s, 0.0, readings, subject))
        if _ABOUT_OTHER.search(compact):
            continue
        for subject, readings, pattern in _COUNTS:
            if subject in none_subjects:
                continue
            for m in pattern.finditer(compact):
                what = m.groupdict().get("what") or ""
                if subject.startswith("本年新收") and "申请" not in what + (m.groupdict().get("after") or ""):
                    continue
                if re.search("复议|诉讼|人大|政协", what):
                    continue
                n = to_number(m.group("n") or m.groupdict().get("n2") or "")
                if n is None:
                    continue
                rule = "narrative.none" if n == 0 else "narrative.count"
                out.append(Claim(rule, s, n, readings, subject))
                break
    return out


_SHARE = re.compile(r"(?P<count>\d[\d,]*)\s*(?P<unit>[条件个项])[^0-9%。；;]{0,6}?(?:占(?:比)?|[（(])\s*"
                    r"(?P<pct>\d+(?:\.(?P<dec>\d+))?)\s*[%％]")
_BASE = r"(\d[\d,]*)\s*{unit}"


def read_shares(paras: list[str]) -> list[Share]:
    """Percentages stated with their counts ("215条，占12.4%"), each read against the base
    (a count of the same unit in the paragraph or the three before) that most of the
    paragraph's shares agree with. Without such a base nothing is read."""
    out: list[Share] = []
    for i, p in enumerate(paras):
        found = [m for m in _SHARE.finditer(p)]
        if len(found) < 2:
            continue  # one share alone gives no way to tell which base it is of
        unit = found[0].group("unit")
        context = "".join(paras[max(0, i - 3): i + 1])  # the base is stated before the shares
        bases = {float(b.replace(",", "")) for b in re.findall(_BASE.format(unit=unit), context)}
        items = [(float(m.group("count").replace(",", "")), float(m.group("pct")), len(m.group("dec") or ""), m)
                 for m in found]
        best, agreeing = None, 0
        for base in bases:
            if base <= 0 or any(c > base for c, *_ in items):
                continue
            n = sum(_agrees(c, base, pct, d) for c, pct, d, _ in items)
            if n > agreeing:
                best, agreeing = base, n
        if best is None or agreeing < max(2, (len(items) + 1) // 2):
            continue
        for c, pct, d, m in items:
            out.append(Share(_sentence_around(p, m.start(), m.end()), pct, d, c, best))
    return out


def _agrees(count: float, base: float, stated: float, decimals: int) -> bool:
    return abs(100 * count / base - stated) <= 0.5 * 10 ** -decimals + 1e-9


def _sentence_around(p: str, start: int, end: int) -> str:
    a = max(p.rfind(ch, 0, start) for ch in _END + "，,") + 1
    b = min([i for i in (p.find(ch, end) for ch in _END + "，,") if i >= 0] or [len(p)])
    return p[a:b].strip()


# Template blanks: a 年 with no year before it, where the template had one (统计期限自年月日起,
# 截至年底, 现将年政府信息公开工作情况). Words like 全年, 年底考评 have a character before 年 that is
# not in these lists, so they do not match.
_PLACEHOLDER = re.compile(r"自年月日|年月日起|(?:截至|截止|至)年(?:底|末|\d{1,2}月)|^年[，,]|(?:现将|其中|本年报中)年(?!度报告)")


def read_placeholders(sents: list[str]) -> list[str]:
    """Sentences that still hold template blanks."""
    return [s for s in sents if _PLACEHOLDER.search(re.sub(r"\s+", "", s))]
