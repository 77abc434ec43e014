"""Narrative -> claims about the tables: counts, claims of none, percentages, template blanks.

Each claim names the sentence it was read from and the canonical cells it speaks
about, with every reading the spec allows (收到 N 件 may mean new_received or
new_received + carried_over). The claims are checked against the cells by GX
(frames.claims_frame, suites.py); this module only reads the text.

Precision matters more than recall here: a pattern that might misread a sentence
is left out rather than risk a false finding.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from giodq import cells as cm
from giodq.extract.han import HAN

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
    rule: str                          # narrative.count, narrative.none or narrative.all_done
    sentence: str
    claimed: float
    readings: tuple[tuple[str, ...], ...]
    subject: str                       # 中文: what the sentence counts (and whose count, when a part's)


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

# The result groups of table 3 a sentence may list one by one (同意公开 5 件，部分公开 1 件，…): each
# stated count is a claim about its own group, never about the total handled or received.
_T3_GROUPS = (
    ("三（一）予以公开", r"(?:予以公开|同意公开|全部公开)", ("granted",)),
    ("三（二）部分公开", r"部分公开", ("partially_granted",)),
    ("三（三）不予公开（各项之和）", r"不予公开", tuple(r for r in cm.T3_RESULT_ROWS if r.startswith("denied_"))),
    ("三（四）无法提供（各项之和）", r"无法提供", tuple(r for r in cm.T3_RESULT_ROWS if r.startswith("unable_"))),
    ("三（五）不予处理（各项之和）", r"不予处理", tuple(r for r in cm.T3_RESULT_ROWS if r.startswith("rejected_"))),
    ("三（六）其他处理（各项之和）", r"其他(?:方式)?处理", tuple(r for r in cm.T3_RESULT_ROWS if r.startswith("other_"))),
)
_GROUP_WORD = re.compile("|".join(word for _, word, _ in _T3_GROUPS))
# One count for one group or for several joined (予以公开及部分公开 208 件: the two groups' sum).
_GROUP_COUNT = re.compile(rf"(?P<chain>(?:{_GROUP_WORD.pattern})(?:(?:及|和|与|、|或)(?:{_GROUP_WORD.pattern}))*)"
                          rf"(?:的)?(?:申请|政府信息)?(?:为|共)?{_NUM.replace('(', '(?P<n>', 1)}{_UNIT}")
_PART_OF = re.compile(r"(?:含|包括|包含)[（(，,：:]?$")
_AMONG = re.compile(r"其中[（(，,：:]?$")
_ENUMERATION_EXCLUDE = re.compile(r"主动公开|规范性文件|复议|诉讼|建议|提案|人大|政协|热线|咨询|留言|网络问政|来信")

# Whose count a sentence gives when a part of the body counts for it (区政府办代表区政府受理…).
# The part is named as an office (…办, …局, …中心), so that 人大代表, 企业代表 are not taken for one.
_ON_BEHALF = re.compile(rf"(?P<part>[{HAN}]{{1,18}}?(?:办|办公室|办公厅|局|中心|科|处|委|部|所|站|政府|街道|镇|乡))"
                        rf"代表(?P<whole>[{HAN}]{{2,20}}?)(?:共|依法|全年)?(?:受理|收到|接收|接到|办结|答复|办理)")

# Every request handled (全部办结, 均已办结, 均在法定期限内办结完毕): then none is carried forward.
_ALL_DONE = re.compile(r"(?:全部|均已?|已全部|全都)(?:按时|依法|及时|已)?(?:在(?:法定|规定)(?:期限|时限)内)?"
                       r"(?:予以)?办结")
_ALL_DONE_EXCLUDE = re.compile(r"未全部|尚未|其余|其他(?!组织)|除|结转|上一?年|建议|提案|信访|来信|热线|网络问政|咨询|留言"
                               r"|复议|诉讼|督办|投诉|12345")


def _whose(compact: str) -> str | None:
    m = _ON_BEHALF.search(compact)
    return f"{m.group('part')}代表{m.group('whole')}" if m else None


def read_claims(sents: list[str]) -> list[Claim]:
    """Counts, claims of none and claims that every request was handled, stated in the sentences."""
    out: list[Claim] = []
    for s in sents:
        compact = re.sub(r"\s+", "", s)
        if _NOT_THIS_YEAR.search(compact):
            continue
        if "申请" in compact and _ALL_DONE.search(compact) and not _ALL_DONE_EXCLUDE.search(compact):
            out.append(Claim("narrative.all_done", s, 0.0, ((T3("carried_forward"),),), "结转下年度继续办理"))
        whose = _whose(compact)
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
                if re.search("复议|诉讼|人大|政协", what) or _GROUP_WORD.search(what):
                    continue   # …办结的申请中同意公开 5 件: the count of a result group, not of all
                n = to_number(m.group("n") or m.groupdict().get("n2") or "")
                if n is None:
                    continue
                rule = "narrative.none" if n == 0 else "narrative.count"
                out.append(Claim(rule, s, n, readings, f"{subject}（句中所述为{whose}的件数）" if whose else subject))
                break
    return out


def read_enumerations(paras: list[str]) -> list[Claim]:
    """Sentences that list the results one by one (全年办结的申请中，同意公开 5 件，部分公开 1 件，
    不予公开 2 件…): one claim per result group of table 3 named with its count, against the sum of
    the group's rows. A sentence naming fewer than two groups is not taken for a list."""
    out: list[Claim] = []
    for p in paras:
        for s in (x.strip() for x in re.split(r"(?<=[。！？!?])", p) if x.strip()):
            compact = re.sub(r"\s+", "", s)
            if _NOT_THIS_YEAR.search(compact) or _ENUMERATION_EXCLUDE.search(compact):
                continue
            found, named, last_end = [], set(), -10
            for m in _GROUP_COUNT.finditer(compact):
                groups = [g for g in _T3_GROUPS if re.search(g[1], m.group("chain"))]
                n = to_number(m.group("n"))
                before = compact[max(0, m.start() - 4): m.start()]
                if _PART_OF.search(before) or (m.start() - last_end <= 4 and _AMONG.search(before)):
                    # 予以公开 5 件（含部分公开 1 件）: a part of the count before it, and that count is
                    # then not of its own group alone: neither is taken
                    if found and m.start() - last_end <= 4:
                        found.pop()
                    last_end = m.end()
                    continue
                last_end = m.end()
                if n is None or named & {g[0] for g in groups}:
                    continue   # a group counted twice: the first count is the one taken
                named |= {g[0] for g in groups}
                found.append(("及".join(g[0] for g in groups), n, tuple(T3(r) for g in groups for r in g[2])))
            if len(named) < 2:
                continue
            for subject, n, keys in found:
                out.append(Claim("narrative.none" if n == 0 else "narrative.count", s, n, (keys,), subject))
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
# 统计期限自至: the template with its dates removed altogether.
_PLACEHOLDER = re.compile(r"自年月日|年月日起|(?:截至|截止|至)年(?:底|末|\d{1,2}月)|^年[，,]|(?:现将|其中|本年报中)年(?!度报告)"
                          r"|(?:期限|期间|时限|区间|时间)[为是:：]?自至")


def read_placeholders(sents: list[str]) -> list[str]:
    """Sentences that still hold template blanks."""
    return [s for s in sents if _PLACEHOLDER.search(re.sub(r"\s+", "", s))]


# Part five (存在的主要问题及改进情况): a shortcoming named, and something done or to be done about it.
_SHORTCOMING = re.compile(r"不足|不够|有待|仍需|尚需|还需|需进一步|需要进一步|需要加强|需加强|亟待|待提高|待加强|待提升|待完善"
                          r"|不深|不透|不精准|不全面|不及时|不准确|不平衡|不均衡|不强|不高|不到位|不完善|不规范|不充分"
                          r"|不能满足|不便|欠缺|缺乏|薄弱|滞后|短板|差距|单一|较少|偏少|不一|不统一|不健全|不明显")
_ACTION = re.compile(r"加强|完善|提升|提高|强化|加大|优化|健全|推进|推动|丰富|拓宽|拓展|规范|落实|建立|开展|做好|严格|确保"
                     r"|整改|细化|扩大|深化|增强|创新|畅通|压实|改善|增加|充实|培训|梳理|更新|明确")
_MEASURE_CUE = re.compile(r"将|下一步|今后|针对|拟|计划|措施|改进")
_NOTHING = re.compile(r"^[（(]?[一二三四五六七八九十\d]*[)）、.．]?\s*(?:本年度|本单位|我单位|我局|我镇|我街道)?(?:暂)?(?:无|没有)"
                      r"[^，,。]{0,12}[。.]?$")


@dataclass(frozen=True)
class PartFive:
    """What part five states: how many sentences name a shortcoming and how many a measure,
    with the first of each (quoted in a finding)."""
    text: str
    problems: int
    measures: int
    first_problem: str | None
    first_measure: str | None


# A sub-heading of part five ((二)整改措施。 存在问题：): states nothing itself.
_SUBHEADING = re.compile(r"^[（(]?[一二三四五六七八九十\d]*[)）、.．]?[^，,；;]{0,14}(?:问题|措施|情况|不足|方向|计划|打算)[。.:：]?$")


def read_part_five(text: str) -> PartFive:
    """Part five's prose -> the shortcomings and measures it states. A sentence may state both
    (针对以上不足，将…); ``无`` or a bare heading states neither."""
    sents = [s for s in sentences(text.splitlines())
             if not _NOTHING.match(re.sub(r"\s+", "", s)) and not _SUBHEADING.match(re.sub(r"\s+", "", s))]
    problems = [s for s in sents if _SHORTCOMING.search(s)]
    measures = [s for s in sents if _ACTION.search(s) and (not _SHORTCOMING.search(s) or _MEASURE_CUE.search(s))]
    return PartFive(text, len(problems), len(measures), problems[0] if problems else None,
                    measures[0] if measures else None)


def sentence_hashes(sents: list[str]) -> list[str]:
    """The narrative's sentences as short digests, each once (cross_year.copied compares them with
    last year's): whitespace and full-width forms folded; only whole sentences (ended by 。；！？) of
    at least 15 characters, so that headings, page chrome and template lines do not count."""
    out = []
    for s in sents:
        norm = re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))
        if len(norm) >= 15 and norm[-1] in "。；;！？!?":
            out.append(hashlib.sha1(norm.encode("utf-8")).hexdigest()[:16])
    return list(dict.fromkeys(out))
