"""What a validation knows of the district beyond its reports: the roster, the years of the run,
and (for a rerun) the district's other reports, which coverage is drawn over too."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from giodq.district.names import Match, links, match_bodies
from giodq.district.roster import Roster


@dataclass(frozen=True)
class District:
    roster: Roster | None = None
    years: tuple[int, ...] = ()                 # empty: the years the reports are on
    others: pd.DataFrame | None = None          # a rerun: the dataset's other reports (reports.parquet rows)

    def units_of(self, bodies) -> tuple[dict[str, Match], dict[str, str]]:
        """(body -> Match, body -> link) for the bodies as written."""
        bodies = sorted({b for b in bodies if isinstance(b, str) and b.strip()})
        matches = match_bodies(bodies, self.roster)
        return matches, links(bodies, matches)
