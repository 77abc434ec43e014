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


def _named(condition) -> set[str]:
    """The columns a row condition (as GX stores it: nested dicts) names."""
    if isinstance(condition, dict):
        column = condition.get("column")
        own = {column["name"]} if isinstance(column, dict) and isinstance(column.get("name"), str) else set()
        return own.union(*(_named(v) for k, v in condition.items() if k != "column"))
    if isinstance(condition, list):
        return set().union(*(_named(v) for v in condition))
    return set()


def suite_columns(suite, batch: str) -> set[str]:
    """The columns a suite's expectations read, and the ones findings are located by: the rest of
    the frame need not go through GX's row filters (which copy every column of the batch)."""
    needed = set(INDEX_COLUMNS[batch])
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        needed |= {kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)}
        needed |= set(kwargs.get("column_list") or [])
        needed |= _named(kwargs.get("row_condition"))
    return needed


def validate(frames: dict[str, pd.DataFrame], suites: dict | None = None) -> dict[str, dict]:
    """frames (frames.validation_frames) -> {suite name: GX validation result as JSON}."""
    suites = suites or load_suites()
    context = ephemeral_context()
    source = context.data_sources.add_pandas("giodq")
    # an asset for each batch a suite reads (not for the frames only findings read: units, links)
    batches = {name: source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(f"{name}-run")
               for name in dict.fromkeys(SUITE_BATCH[suite] for suite in suites)}
    results = {}
    for name, suite in suites.items():
        batch = SUITE_BATCH[name]
        suite = context.suites.add(suite)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batches[batch], suite=suite))
        needed = suite_columns(suite, batch)
        frame = frames[batch]
        result = definition.run(
            batch_parameters={"dataframe": frame[[c for c in frame.columns if c in needed]]},
            # no unexpected_index_query: a pandas expression listing every failing row, which no
            # reviewer reads and which costs a sixth of the run
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": INDEX_COLUMNS[batch],
                           "return_unexpected_index_query": False})
        results[name] = result.to_json_dict()
        log.info("suite %s: %d expectations, %d failed", name, len(result.results),
                 sum(not r.success for r in result.results))
    return results
