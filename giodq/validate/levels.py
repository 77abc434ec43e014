"""The levels of the bodies that publish a report, and the deadline of each (form.deadline).

《政府信息公开条例》第四十九条: a county-level-or-above people's government's own report
(本级政府: 市/区/县人民政府) is published by 31 March of the next year; every administrative body
reports by 31 January (部门, and 乡镇街道, whose reports go to the county's office by then).

The level comes from the roster when there is one (its 层级 column, output-contract.md), from
the body's name otherwise (``level_of_body``). A name that tells no level (平潭综合实验区, a
管委会) gets none: the latest deadline of any level applies, so that lateness is never guessed.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Level:
    name: str            # 中文, as the roster's 层级 column writes it
    month: int           # the deadline in the year after the one reported on
    day: int
    basis: str           # 中文: what the regulation says, for the finding

    def deadline(self, year: int) -> date:
        return date(year + 1, self.month, self.day)


LEVELS: tuple[Level, ...] = (
    Level("本级政府", 3, 31, "县级以上人民政府的本级年度报告于次年 3 月 31 日前公布"),
    Level("部门", 1, 31, "行政机关的年度报告于次年 1 月 31 日前公布"),
    Level("乡镇街道", 1, 31, "行政机关的年度报告于次年 1 月 31 日前公布"),
)
BY_NAME = {lv.name: lv for lv in LEVELS}
LATEST = max(LEVELS, key=lambda lv: (lv.month, lv.day))   # when the level is not known

# 淮安市人民政府, 沭阳县人民政府, 济南市历下区人民政府: the government itself, nothing after 人民政府.
_GOVERNMENT = re.compile(r"^.{1,24}?(?:省|自治区|市|自治州|州|盟|区|县|自治县|旗|自治旗)人民政府$")
_TOWN = re.compile(r"(?:乡|镇|街道|苏木)(?:人民政府|办事处|党工委|工作委员会)?$|街道办事处$|街道办$")
_DEPARTMENT = re.compile(r"(?:局|委员会|委|办公室|办公厅|办|厅|中心|署|院|所|站|处|队|公司|馆|社|会)$")
_UNDECIDED = re.compile(r"管委会|管理委员会")   # a zone's committee: the name alone does not say


def level_of_body(body: str | None) -> Level | None:
    """The level a body's name tells, or None."""
    if not body:
        return None
    name = re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", body))
    if _TOWN.search(name):
        return BY_NAME["乡镇街道"]
    if _GOVERNMENT.match(name) and not re.search(r"乡|镇|街道", name):
        return BY_NAME["本级政府"]
    if _UNDECIDED.search(name):
        return None
    if _DEPARTMENT.search(name):
        return BY_NAME["部门"]
    return None


def deadline_basis(level: Level | None, source: str | None) -> str:
    """中文: which deadline applies and why, for the finding's place."""
    law = "《政府信息公开条例》第四十九条"
    if level is None:
        return f"机关层级未能确定，按各层级中最晚的期限：次年 3 月 31 日，{law}"
    whence = "名册所列层级" if source == "roster" else "按机关名称判断"
    return f"{level.name}，{whence}；{law}：{level.basis}"
