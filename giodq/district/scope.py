"""What a validation knows of the district beyond its reports: the roster, the years of the run,
and (for a rerun) the district's other reports, which coverage is drawn over too."""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from giodq.district.names import Match, forget_forms, links, match_bodies
from giodq.district.roster import Roster


@dataclass(frozen=True)
class District:
    roster: Roster | None = None
    years: tuple[int, ...] = ()                 # empty: the years the reports are on
    others: pd.DataFrame | None = None          # a rerun: the dataset's other reports (reports.parquet rows)

    def units_of(self, bodies) -> tuple[dict[str, Match], dict[str, str]]:
        """(body -> Match, body -> link) for the bodies as written."""
        matches, linked = _units(tuple(sorted({b for b in bodies if isinstance(b, str) and b.strip()})), self.roster)
        return dict(matches), dict(linked)   # the callers' own: the cached ones stay as drawn


@lru_cache(maxsize=4)
def _units(bodies: tuple[str, ...], roster: Roster | None) -> tuple[dict[str, Match], dict[str, str]]:
    """Cached: an update draws the units of the same bodies three times (giodq/update.py: the
    changed reports' last years, the validation, the check that no other report moved), ~0.5 s
    each for a district of 10,000."""
    matches = match_bodies(bodies, roster)
    linked = links(bodies, matches)
    forget_forms()   # the forms of a province's bodies (~10 MB at 50,000) serve one matching, not the run
    return matches, linked


def district_for_rerun(out: str, roster: str | None, years: str | None, record: dict) -> District:
    """The roster and years a rerun checks against: the district run's (its dataset's roster.parquet,
    its record's years). A rerun re-checks one report, so another roster (--roster, GIODQ_ROSTER)
    is refused: it would change every report's unit, which is a new district run."""
    from giodq import preflight
    from giodq.publish import store
    from giodq.settings import settings

    s = settings()
    roster, years = roster or s.roster or None, years or s.years
    given = preflight.check_district(roster, years)
    data = store.read_dataset_file(out, "roster.parquet")
    used = Roster.from_frame(pd.read_parquet(io.BytesIO(data)), "roster.parquet") if data else None
    if given.roster is not None and (used is None or _rows(given.roster) != _rows(used)):
        raise preflight.CommandError(
            f"名册 {roster} 与全区检查所用的名册不同：重新检查只检查一份报告，换用新名册请重新运行 giodq run "
            f"(a rerun checks against the run's roster; run the district again with a new roster)")
    return District(used, given.years or tuple((record.get("district") or {}).get("years_given") or ()))


def _rows(roster: Roster) -> list[tuple]:
    return [(u.name, tuple(u.aliases), u.level, u.parent or None) for u in roster.units]
