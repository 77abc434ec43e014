"""The review states of a finding (output-contract.md, "Review decisions"), defined once.

A reviewer sets the first three (in the workbook's 审核结论 drop-down); giodq sets ``resolved``
when a rerun or a new upload no longer finds the problem.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    key: str
    word: str            # what the workbook's drop-down says
    label: str           # what the site says
    by_reviewer: bool    # a reviewer may set it (else only giodq does)


STATES: tuple[State, ...] = (
    State("open", "待核实", "待核实", True),
    State("confirmed", "已确认", "已确认：报告有误，需整改", True),
    State("dismissed", "误报", "误报", True),
    State("resolved", "已整改", "已整改", False),
)
BY_KEY = {s.key: s for s in STATES}
BY_WORD = {s.word: s for s in STATES}
OPEN, CONFIRMED, DISMISSED, RESOLVED = (s.key for s in STATES)
REVIEWER_WORDS = [s.word for s in STATES if s.by_reviewer]
GIODQ = "giodq"   # decided_by for what giodq decides itself (resolved, reopened)
