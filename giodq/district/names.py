"""One name per unit: each report's body (发布机构, as written) matched to a unit of the roster.

The rules, in order; the first that finds exactly one unit decides, and one that finds several
decides nothing (the body is then not on the roster, and the note names the candidates), so
that a body is never forced onto the nearest unit:

1. ``exact``: the body is a unit's 单位名称;
2. ``alias``: the body is one of a unit's 别名;
3. ``normalised``: the same after folding what varies in how a name is written (``name_key``):
   full/half width, spaces and punctuation, 街道办事处/街道办 for 街道, 人民政府 or 政府 written
   or left out (淮安市人民政府 is 淮安市政府 is 淮安市), 管理委员会 for 管委会;
4. ``prefix``: the same once the divisions it starts with are left out (``forms_left_out``): 淮安市洪泽区人民政府
   is 洪泽区人民政府, and the other way round; never down to a name without any place in it
   (淮安市商务局 is not 洪泽区商务局: both would be 商务局);
5. ``gazetteer``: a place name in it that is no division of China, corrected to a division one
   character away (沐阳县 -> 沭阳县, gazetteer.py), and then 3 or 4;
6. ``similar``: a town's or street's name one character away from a unit's (轻功路街道 for
   轻工路街道), the kind (街道, 镇, 乡) the same.

Rules 5 and 6 rest on a spelling that is not the unit's: the match carries that spelling, and the
report gets a ``form.body`` warning. Without a roster, the district's own bodies are the units
(``link_bodies``): each unit is named by its body normalised (spaces dropped, widths folded), and
rules 3 to 5 link the spellings of one unit across years; rule 6 is not used, as nothing then
says which spelling is right.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import product

from giodq.district import gazetteer as gz
from giodq.district.roster import Roster

EXACT, ALIAS, NORMALISED, PREFIX, GAZETTEER, SIMILAR = "exact", "alias", "normalised", "prefix", "gazetteer", "similar"
AMBIGUOUS, NONE, BODY = "ambiguous", "none", "body"      # BODY: no roster, the unit is the body
MATCHED = (EXACT, ALIAS, NORMALISED, PREFIX, GAZETTEER, SIMILAR)
BY_SPELLING = (GAZETTEER, SIMILAR)                        # form.body
HOW_ZH = {EXACT: "名称一致", ALIAS: "别名", NORMALISED: "写法不同（全半角、空格、人民政府、街道办事处）",
          PREFIX: "多写或少写上级行政区划", GAZETTEER: "地名写法有误（按行政区划名录更正）",
          SIMILAR: "乡镇街道名称有一字之差", AMBIGUOUS: "可对应多个单位，未予匹配", NONE: "名册中没有该单位",
          BODY: "未提供名册，按发布机构名称"}
TOWN_KINDS = ("街道", "镇", "乡", "苏木")
# rule 6 only for a town's name of three characters or more: 东关街道 and 西关街道 are two streets
SIMILAR_MIN = 3
MAX_VARIANTS = 64
# a body longer than this (a title or a sentence read as 发布机构) is matched by rules 1 to 3 only
MAX_KEY = 40
_SPACE_PUNCT = re.compile(r"[\s\W_]+")
_GOV_END = re.compile(rf"(?<=[{gz.KINDS}乡镇])政府$")


def display_name(body: str | None) -> str | None:
    """The body as a unit's name when there is no roster: widths folded, spaces dropped."""
    if not body:
        return None
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", body)) or None


def name_key(name: str | None) -> str | None:
    """What two spellings of one name have in common (rule 3)."""
    if not name:
        return None
    s = _SPACE_PUNCT.sub("", unicodedata.normalize("NFKC", name))
    s = s.replace("人民政府", "政府").replace("管理委员会", "管委会")
    s = re.sub(r"街道办事处|街道办(?=$|[^事])", "街道", s)
    s = _GOV_END.sub("", s)
    return s or None


def _has_place(form: str) -> bool:
    """A name that still says where: it starts with a division, or it is a town or street."""
    return bool(gz.leading_places(form)) or (form.endswith(TOWN_KINDS) and len(form) >= 3)


@functools.lru_cache(maxsize=65536)
def forms_left_out(key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``key`` and what is left of it after each division it starts with (rule 4), while a place is
    left, each with the divisions left out: 淮安市洪泽区商务局 -> ((淮安市洪泽区商务局, ()),
    (洪泽区商务局, (淮安市,)))."""
    out, rest, left = [(key, ())], key, ()
    for place in gz.leading_places(key):
        if not gz.is_division(place):
            break
        rest, left = rest[len(place):], (*left, place)
        if not rest or not _has_place(rest):
            break
        out.append((rest, left))
    return tuple(out)


def forget_forms() -> None:
    """Empty the caches of the forms of names (here and the gazetteer's): they serve the many
    bodies of one matching, and a province's would otherwise stay for the life of the process."""
    forms_left_out.cache_clear()
    gz.forget_names()


def _agree(body_left: tuple[str, ...], unit_left: tuple[str, ...], form: str) -> bool:
    """Whether a body and a unit that share ``form`` once these divisions are left out can be one:
    only one of them may have written places the other left out (北京市朝阳区 is not 长春市朝阳区),
    and those places must hold what follows (宿迁市洪泽区 is no 洪泽区: that is 淮安市's)."""
    if body_left and unit_left:
        return False
    left = body_left or unit_left
    places = [p for p in gz.leading_places(form) if gz.is_division(p)]
    if left and places:
        return all(gz.contains(parent, places[0]) is not False for parent in left)
    return True


@dataclass(frozen=True)
class Match:
    unit: str | None                  # the roster's name (or the body's, without a roster); None: not on it
    how: str                          # one of the rules above, or AMBIGUOUS / NONE / BODY
    spelling: str | None = None       # rules 5 and 6: 沐阳县 -> 沭阳县
    candidates: tuple[str, ...] = ()  # AMBIGUOUS: the units it could be

    @property
    def note(self) -> str:
        """中文, for the report's notes and the form.body finding."""
        if self.how == AMBIGUOUS:
            return f"发布机构名称可对应名册中多个单位（{'、'.join(self.candidates)}），未予匹配"
        if self.how in BY_SPELLING:
            return f"发布机构名称中「{self.spelling}」，按{HOW_ZH[self.how]}对应名册单位「{self.unit}」"
        return HOW_ZH.get(self.how, self.how)


@dataclass
class _Index:
    """The units by each way rules 1 to 6 look them up."""
    exact: dict[str, str] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)
    forms: dict[str, set[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)   # form -> (unit, left out)
    towns: dict[tuple[int, str], list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, unit: str, names: tuple[str, ...], aliases: tuple[str, ...] = ()) -> None:
        self.exact.setdefault(unit, unit)
        for a in aliases:
            self.alias.setdefault(a, unit)
        for name in (*names, *aliases):
            key = name_key(name)
            if not key:
                continue
            self.keys.setdefault(key, set()).add(unit)
            for f, left in forms_left_out(key):
                self.forms.setdefault(f, set()).add((unit, left))
                town = _town(f)
                if town:
                    self.towns.setdefault((len(f), town[2]), []).append((f, unit))


def _by_keys(index: _Index, key: str) -> tuple[str, set[str]]:
    """Rules 3 and 4 for one key: (rule, units)."""
    if key in index.keys:
        return NORMALISED, index.keys[key]
    units: set[str] = set()
    for f, left in forms_left_out(key):
        units |= {unit for unit, theirs in index.forms.get(f, ()) if _agree(left, theirs, f)}
    return PREFIX, units


def _variants(key: str) -> list[tuple[str, str]]:
    """(corrected key, spelling) for each way of correcting the misspelt places ``key`` starts with
    (at most MAX_VARIANTS: a name of many misspelt places is no name to correct)."""
    places = gz.leading_places(key)[:3]
    options, before = [], None
    for place in places:
        fixes = gz.corrections(place, before)
        options.append([(f, f"{place} → {f}") for f in fixes] or [(place, "")])
        before = fixes[0] if len(fixes) == 1 else place
    if not any(s for opts in options for _, s in opts):
        return []
    rest = key[sum(map(len, places)):]
    out = []
    for combo in product(*options):
        if len(out) >= MAX_VARIANTS:
            break
        out.append(("".join(p for p, _ in combo) + rest, "；".join(s for _, s in combo if s)))
    return out


def _town(form: str) -> tuple[str, str, str] | None:
    """(the divisions before it, the town's own name, its kind) of a town's or street's form."""
    kind = next((k for k in TOWN_KINDS if form.endswith(k)), None)
    if not kind:
        return None
    places = [p for p in gz.leading_places(form) if gz.is_division(p)]
    prefix = ""
    for place in places:
        if not form[len(prefix):].startswith(place) or len(form) - len(prefix) - len(place) <= len(kind):
            break
        prefix += place
    own = form[len(prefix):-len(kind)]
    return (prefix, own, kind) if len(own) >= SIMILAR_MIN else None


def _similar(index: _Index, key: str) -> set[tuple[str, str]]:
    """Rule 6: (unit, spelling) for the towns and streets whose own name (after the same divisions)
    is one character from ``key``'s."""
    found = set()
    for f, _ in forms_left_out(key):
        town = _town(f)
        if not town:
            continue
        prefix, own, kind = town
        for other, unit in index.towns.get((len(f), kind), ()):
            theirs = _town(other)
            if not theirs or theirs[0] != prefix or len(theirs[1]) != len(own):
                continue
            diff = [(a, b) for a, b in zip(own, theirs[1]) if a != b]
            if len(diff) == 1:
                found.add((unit, f"{diff[0][0]} → {diff[0][1]}（{f} → {other}）"))
    return found


def _decide(units: set[str], how: str, spelling: str | None = None) -> Match | None:
    if len(units) == 1:
        return Match(next(iter(units)), how, spelling or None)
    if len(units) > 1:
        return Match(None, AMBIGUOUS, candidates=tuple(sorted(units)))
    return None


def _match(index: _Index, body: str, similar: bool = True) -> Match:
    written = unicodedata.normalize("NFC", body).strip()
    if written in index.exact:
        return Match(index.exact[written], EXACT)
    if written in index.alias:
        return Match(index.alias[written], ALIAS)
    key = name_key(body)
    if not key:
        return Match(None, NONE)
    if len(key) > MAX_KEY:
        return _decide(index.keys.get(key, set()), NORMALISED) or Match(None, NONE)
    how, units = _by_keys(index, key)
    decided = _decide(units, how)
    if decided:
        return decided
    by_fix: dict[str, str] = {}
    for variant, spelling in _variants(key):
        for unit in _by_keys(index, variant)[1]:
            by_fix.setdefault(unit, spelling)
    decided = _decide(set(by_fix), GAZETTEER, by_fix.get(next(iter(by_fix))) if len(by_fix) == 1 else None)
    if decided:
        return decided
    if similar:
        near = _similar(index, key)
        decided = _decide({u for u, _ in near}, SIMILAR, min(s for _, s in near) if near else None)
        if decided:
            return decided
    return Match(None, NONE)


def roster_index(roster: Roster) -> _Index:
    index = _Index()
    for unit in roster.units:
        index.add(unit.name, (unit.name,), unit.aliases)
    return index


def link_bodies(bodies, matched: dict[str, Match] | None = None) -> dict[str, str]:
    """Without a roster (or for the bodies a roster does not hold): body -> the name of the unit
    it belongs to, the district's own bodies being the units. A unit is named by the body that is
    spelt right and shortest (then first in order), so that a prefix or a misspelling links to it."""
    distinct = sorted({b for b in bodies if display_name(b)},
                      key=lambda b: (bool(_variants(name_key(b) or "")), len(name_key(b) or ""), b))
    index, out = _Index(), {}
    for body in distinct:
        found = _match(index, body, similar=False)
        if found.unit is None:
            found = Match(display_name(body), BODY)
            index.add(found.unit, (body,))
        out[body] = found.unit
    return out


def match_bodies(bodies, roster: Roster | None) -> dict[str, Match]:
    """body -> its Match (bodies as written; None and '' are left out)."""
    bodies = {b for b in bodies if isinstance(b, str) and b.strip()}
    if roster is None:
        linked = link_bodies(bodies)
        return {b: Match(linked[b], BODY) for b in bodies if b in linked}
    index = roster_index(roster)
    return {b: _match(index, b) for b in bodies}


def links(bodies, matches: dict[str, Match]) -> dict[str, str]:
    """body -> the key its reports are compared across years by: the unit, or for a body on no
    unit of the roster, the unit the district's other unmatched bodies make of it."""
    out = {b: m.unit for b, m in matches.items() if m.unit}
    out |= link_bodies([b for b in bodies if b in matches and not matches[b].unit])
    return out
