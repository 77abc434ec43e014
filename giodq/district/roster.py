"""The roster: the units that must publish (output-contract.md, "Roster and coverage").

A ``.csv`` (UTF-8) or ``.xlsx``, a path or an ``s3://`` key, with the columns 单位名称, 别名
(other names, separated by 、), 层级 (本级政府 / 部门 / 乡镇街道) and optionally 上级. It is read
and checked before any report is: a missing column, a duplicate name, an alias claimed by two
units, an unknown level or an encoding other than UTF-8 is one clear error (RosterError), and
nothing is published.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from giodq.preflight import CommandError
from giodq.validate.levels import BY_NAME as LEVELS

NAME, ALIASES, LEVEL, PARENT = "单位名称", "别名", "层级", "上级"
REQUIRED = (NAME, ALIASES, LEVEL)
MAX_ROSTER_MB = 16          # a district's roster is hundreds of rows; a province's, tens of thousands
MAX_UNPACKED_MB = 64        # an .xlsx's members inflated, together
MAX_UNITS = 200_000
_SEPARATORS = re.compile(r"[、;；,，\n]+")


class RosterError(CommandError):
    """What is wrong with the roster, in one line (中文 first)."""


@dataclass(frozen=True)
class Unit:
    name: str                     # 单位名称: the name the district uses
    aliases: tuple[str, ...]      # 别名
    level: str                    # 层级
    parent: str | None = None     # 上级


@dataclass(frozen=True)
class Roster:
    units: tuple[Unit, ...]
    source: str = ""

    def frame(self) -> pd.DataFrame:
        """The roster as a table (dataset/roster.parquet: a rerun checks against the same roster)."""
        return pd.DataFrame({
            "unit": pd.Series([u.name for u in self.units], dtype="string"),
            "aliases": [list(u.aliases) for u in self.units],
            "level": pd.Series([u.level for u in self.units], dtype="string"),
            "parent": pd.Series([u.parent for u in self.units], dtype="string"),
        })

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str = "") -> "Roster":
        return cls(tuple(Unit(str(r.unit), tuple(r.aliases if r.aliases is not None else ()), str(r.level),
                              None if pd.isna(r.parent) else str(r.parent))
                         for r in frame.itertuples(index=False)), source)


def _shown(text: str, limit: int = 60) -> str:
    """A roster's text inside an error message: one line, no terminal control characters."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


def _clean(value) -> str:
    """A cell as text: NFC, trimmed, invisible format characters dropped."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def _rows_csv(data: bytes, where: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        hint = ""
        try:
            data.decode("gb18030")
            hint = "（看起来是 GBK/GB18030 编码，请在 Excel 中“另存为 CSV UTF-8”）"
        except UnicodeDecodeError:
            pass
        raise RosterError(f"名册 {where} 不是 UTF-8 编码{hint} (the roster is not UTF-8: byte {e.start})") from None
    try:
        rows = []
        for row in csv.reader(io.StringIO(text)):
            if any(c.strip() for c in row):
                rows.append(row)
                if len(rows) > MAX_UNITS + 1:
                    raise RosterError(f"名册 {where} 超过 {MAX_UNITS} 个单位 (more than {MAX_UNITS} units)")
        return rows
    except csv.Error as e:   # a field past csv's limit, a stray quote
        raise RosterError(f"名册 {where} 不是可读取的 CSV 文件 (not a readable CSV: {_shown(str(e))})") from None


def _rows_xlsx(data: bytes, where: str) -> list[list[str]]:
    from dataclasses import replace

    from openpyxl import load_workbook   # only when a roster is a workbook

    from giodq.extract.limits import Limits
    from giodq.extract.zipcheck import office_zip_reason

    why = office_zip_reason(data, replace(Limits.resolve(), members_bytes=MAX_UNPACKED_MB << 20), "名册工作簿")
    if why:   # a zip bomb, a damaged file: refused before openpyxl inflates anything
        raise RosterError(f"名册 {where} 未读取：{_shown(why.split(': ', 1)[-1], 160)}")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        sheet.reset_dimensions()   # read every row, not only those a stale <dimension> names
        rows = []
        for row in sheet.iter_rows(values_only=True, max_col=16):
            cells = [_clean(c) for c in row]
            if any(cells):
                rows.append(cells)
                if len(rows) > MAX_UNITS + 1:
                    raise RosterError(f"名册 {where} 超过 {MAX_UNITS} 个单位 (more than {MAX_UNITS} units)")
        book.close()
    except RosterError:
        raise
    except Exception as e:   # openpyxl raises many kinds on a damaged workbook
        raise RosterError(f"名册 {where} 不是可读取的 Excel 工作簿 (not a readable .xlsx): {type(e).__name__}") from None
    return rows


def parse_roster(data: bytes, where: str) -> Roster:
    """The roster from a file's bytes; ``where`` names it in errors (its suffix says csv or xlsx)."""
    suffix = Path(where.split("?")[0]).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise RosterError(f"名册 {where} 应为 .csv 或 .xlsx 文件 (the roster must be a .csv or .xlsx)")
    if len(data) > MAX_ROSTER_MB << 20:
        raise RosterError(f"名册 {where} 超过 {MAX_ROSTER_MB} MB (the roster is too large)")
    rows = (_rows_csv if suffix == ".csv" else _rows_xlsx)(data, where)
    if not rows:
        raise RosterError(f"名册 {where} 是空的 (the roster is empty)")
    if len(rows) < 2:
        raise RosterError(f"名册 {where} 中没有单位，只有标题行 (the roster lists no unit)")
    header = [_clean(c) for c in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RosterError(f"名册 {where} 缺少列：{'、'.join(missing)}（应有 {'、'.join(REQUIRED)}，可选 {PARENT}）"
                          f" (missing columns; the first row names them)")
    at = {c: header.index(c) for c in (*REQUIRED, PARENT) if c in header}
    cell = lambda row, c: _clean(row[at[c]]) if c in at and at[c] < len(row) else ""  # noqa: E731
    units, line_of, claimed = [], {}, {}
    for n, row in enumerate(rows[1:], start=2):
        name, level = cell(row, NAME), cell(row, LEVEL)
        if not name:
            raise RosterError(f"名册 {where} 第 {n} 行没有单位名称 (row {n} has no 单位名称)")
        if name in line_of:
            raise RosterError(f"名册 {where} 中单位名称「{_shown(name)}」重复：第 {line_of[name]} 行和第 {n} 行 "
                              f"(duplicate name)")
        if level not in LEVELS:
            raise RosterError(f"名册 {where} 第 {n} 行「{_shown(name)}」的层级「{_shown(level)}」应为 "
                              f"{'、'.join(LEVELS)} 之一 (unknown level)")
        line_of[name] = n
        aliases = tuple(dict.fromkeys(a for a in (_clean(x) for x in _SEPARATORS.split(cell(row, ALIASES)))
                                      if a and a != name))
        units.append(Unit(name, aliases, level, cell(row, PARENT) or None))
    for unit in units:
        for alias in unit.aliases:
            owner = claimed.setdefault(alias, unit.name)
            if owner != unit.name:
                raise RosterError(f"名册 {where} 中别名「{_shown(alias)}」同时属于「{_shown(owner)}」和"
                                  f"「{_shown(unit.name)}」 (an alias claimed by two units)")
    for unit in units:
        if unit.name in claimed and claimed[unit.name] != unit.name:
            raise RosterError(f"名册 {where} 中「{_shown(unit.name)}」既是单位名称，又是「{_shown(claimed[unit.name])}」"
                              f"的别名 (a name that is also another unit's alias)")
    _check_keys(units, where)
    return Roster(tuple(units), where)


def _check_keys(units: list[Unit], where: str) -> None:
    """Two units whose names are one name written two ways (甲县人民政府, 甲县政府): no body could be
    matched to either, so the roster is refused."""
    from giodq.district.names import name_key

    seen: dict[str, str] = {}
    for unit in units:
        for name in (unit.name, *unit.aliases):
            key = name_key(name)
            if key and seen.setdefault(key, unit.name) != unit.name:
                raise RosterError(f"名册 {where} 中「{_shown(seen[key])}」与「{_shown(unit.name)}」的名称"
                                  f"（「{_shown(name)}」）写法不同但实为同一名称 (two units under one name)")


def read_roster(uri: str) -> Roster:
    """The roster at a path or ``s3://bucket/key``; any problem is a RosterError."""
    from giodq.publish import store

    try:
        if store.is_s3(uri):
            from giodq.s3 import s3_client

            bucket, _, key = uri.removeprefix("s3://").partition("/")   # an object's key, not a prefix
            if not bucket or not key or key.endswith("/"):
                raise RosterError(f"名册应为一个文件 s3://bucket/key (the roster must name an object): {uri}")
            head = s3_client().head_object(Bucket=bucket, Key=key)
            if head.get("ContentLength", 0) > MAX_ROSTER_MB << 20:
                raise RosterError(f"名册 {uri} 超过 {MAX_ROSTER_MB} MB (the roster is too large)")
            data = s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
        else:
            path = Path(uri).expanduser()
            if not path.is_file():
                raise RosterError(f"名册文件不存在 (roster not found): {uri}")
            if path.stat().st_size > MAX_ROSTER_MB << 20:
                raise RosterError(f"名册 {uri} 超过 {MAX_ROSTER_MB} MB (the roster is too large)")
            data = path.read_bytes()
    except RosterError:
        raise
    except Exception as e:   # no bucket, no access, unreadable: one line
        raise RosterError(f"无法读取名册 {uri} (cannot read the roster): {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}") from None
    return parse_roster(data, uri)
