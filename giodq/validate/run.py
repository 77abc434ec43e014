"""Validate: run every committed suite over one batch holding all the reports of a run.

One GX run per suite for the whole district, not one per report: GX's cost is
per run (~0.4 s), so per-report runs would take an hour where this takes seconds.
"""
from __future__ import annotations

import logging

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from giodq.validate.frames import INDEX_COLUMNS
from giodq.validate.suites import SUITE_BATCH, load_suites

log = logging.getLogger(__name__)



def ephemeral_context():
    """An in-memory GX context with progress bars off (they would flood the run's log)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def validate(frames: dict[str, pd.DataFrame], suites: dict | None = None) -> dict[str, dict]:
    """frames (frames.validation_frames) -> {suite name: GX validation result as JSON}."""
    suites = suites or load_suites()
    context = ephemeral_context()
    source = context.data_sources.add_pandas("giodq")
    batches = {name: source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(f"{name}-run")
               for name in frames}
    results = {}
    for name, suite in suites.items():
        batch = SUITE_BATCH[name]
        suite = context.suites.add(suite)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batches[batch], suite=suite))
        result = definition.run(
            batch_parameters={"dataframe": frames[batch]},
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": INDEX_COLUMNS[batch]})
        results[name] = result.to_json_dict()
        log.info("suite %s: %d expectations, %d failed", name, len(result.results),
                 sum(not r.success for r in result.results))
    return results
