"""A province's reports in chunks for validation (pipeline.validate_reports).

A chunk holds whole units: the cross-year rules compare a unit's report with its report of the
year before, and both must be in the same chunk's frames (the dataset's older reports come in
through ``previous`` as for any run).
"""
from __future__ import annotations

from collections.abc import Sequence

from giodq.extract import Extracted


def unit_chunks(reports: Sequence[Extracted], links: dict[str, str], size: int) -> list[Sequence[Extracted]]:
    """``reports`` in chunks of about ``size`` (more where one unit has more), every report of a
    unit in the same chunk (``links``: body -> the unit the years are compared by), each chunk in
    the run's order. Always one chunk at least (an empty run is validated too)."""
    if len(reports) <= size:
        return [reports]
    groups: dict[object, list[int]] = {}
    for i, r in enumerate(reports):
        unit = links.get(r.body) if r.body else None
        groups.setdefault(unit if unit else ("alone", i), []).append(i)   # no unit: a group of its own
    chunks: list[list[int]] = [[]]
    for members in groups.values():   # units in the order the run meets them
        if chunks[-1] and len(chunks[-1]) + len(members) > size:
            chunks.append([])
        chunks[-1].extend(members)
    # waiting reports stay on disk until their chunk is validated (extract/waiting.py)
    take = getattr(reports, "take", lambda members: [reports[i] for i in members])
    return [take(sorted(c)) for c in chunks]
