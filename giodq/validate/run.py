"""Validate: run every committed suite over one batch holding all the reports of a run.

One GX run per suite for the whole district, not one per report: GX's cost is
per run (~0.4 s), so per-report runs would take an hour where this takes seconds.
"""
from __future__ import annotations

import gc
import logging
from datetime import datetime, timezone

import great_expectations as gx
import pandas as pd
from great_expectations.constants import DATAFRAME_REPLACEMENT_STR
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.validator.v1_validator import Validator

from giodq.validate.frames import INDEX_COLUMNS
from giodq.validate.suites import SUITE_BATCH, load_suites

log = logging.getLogger(__name__)

# every failing row (findings are read off them); no unexpected_index_query: a pandas expression
# listing every failing row, which no reviewer reads
RESULT_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False}



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


def _domain(kwargs: dict) -> list[str]:
    """The columns an expectation's rows are checked on, as GX lists them in each failing row."""
    if isinstance(kwargs.get("column"), str):
        return [kwargs["column"]]
    if isinstance(kwargs.get("column_A"), str):
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _located(result: dict, frame: pd.DataFrame, index_columns: list[str]) -> dict:
    """GX's failing rows, given by their position in the frame, as the rows GX itself writes when
    asked for ``unexpected_index_column_names``: {domain column: value, index column: value, ...}.
    GX builds those one cell at a time (``DataFrame.at``, ~0.1 ms each: most of a district's
    validation); here they are taken in one step from the frame GX read."""
    found = result.get("result") or {}
    if found.get("unexpected_index_list") is None:
        return result
    columns = list(dict.fromkeys(_domain(result["expectation_config"]["kwargs"]) + index_columns))

    def rows(positions: list[int]) -> list[dict]:
        picked = frame.loc[positions, columns] if positions else frame.iloc[:0][columns]
        return [{c: _plain(v) for c, v in zip(columns, values)} for values in picked.itertuples(index=False, name=None)]

    located = {k: rows(found[k]) for k in ("unexpected_index_list", "partial_unexpected_index_list") if k in found}
    return result | {"result": found | located | {"unexpected_index_column_names": index_columns}}


def _plain(value):
    """A cell as GX's result JSON holds it (numpy scalars as Python numbers, missing as None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


class Checker:
    """A GX context holding the suites and an asset for each batch they read, for the validations of
    one run (a province's chunks: pipeline.validate_reports), so that each chunk costs GX's checks and
    not the context's setting up again (~0.25 s). A context manager: GX's data source is deleted at
    the end, since GX keeps the context as its project and the source's engine keeps every batch it
    loaded (a district's frames, held until the next validation otherwise)."""

    def __init__(self, suites: dict | None = None):
        self.context = ephemeral_context()
        self.suites = {name: self.context.suites.add(suite) for name, suite in (suites or load_suites()).items()}
        self.columns = {name: suite_columns(suite, SUITE_BATCH[name]) for name, suite in self.suites.items()}
        self.run_id = RunIdentifier(run_time=datetime.now(timezone.utc))
        self._add_source()

    def _add_source(self) -> None:
        self.source = self.context.data_sources.add_pandas("giodq")
        # an asset for each batch a suite reads (not for the frames only findings read: units, links)
        self.batches = {name: self.source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(f"{name}-run")
                        for name in dict.fromkeys(SUITE_BATCH[suite] for suite in self.suites)}

    def forget(self) -> None:
        """Let go of the batches validated so far (a chunk's frames, GX's copies of them and the
        metrics computed on them), with the data source that holds them: a new one takes its place
        (~0.07 s). Else a province's chunk would be held while the next one is drawn (~100 MB).
        GX's objects point at one another: the old source is collected now, not when Python's
        collector next comes round (at 50,000 reports that was after the next chunk's peak, ~70 MB)."""
        self.context.data_sources.delete(self.source.name)
        self._add_source()
        gc.collect()

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc) -> None:
        self.context.data_sources.delete(self.source.name)
        gc.collect()   # as forget(): the batches go now, not under publishing's peak

    def validate(self, frames: dict[str, pd.DataFrame], names=None) -> dict[str, dict]:
        """frames (frames.validation_frames) -> {suite name: GX validation result as JSON}, for the
        suites ``names`` (all of them when None)."""
        results = {}
        for name in (self.suites if names is None else names):
            suite, batch = self.suites[name], SUITE_BATCH[name]
            # a plain position index: GX names the failing rows by it (_located)
            frame = frames[batch][[c for c in frames[batch].columns if c in self.columns[name]]].reset_index(drop=True)
            # The validator a ValidationDefinition's run uses, without the rest of that run: it also
            # serialises the result into the context's results store, which nothing here reads (the
            # site is built from the JSON, publish/docs.py), at ~0.1 s a suite. (Batch.validate would
            # fetch and fingerprint the frame twice.) No unexpected_index_query: a pandas expression
            # listing every failing row, which no reviewer reads.
            result = Validator(batch_definition=self.batches[batch], batch_parameters={"dataframe": frame},
                               result_format=RESULT_FORMAT
                               ).validate_expectation_suite(suite)
            result.meta["run_id"] = self.run_id
            result.meta["validation_time"] = self.run_id.run_time
            result.meta["batch_parameters"] = {"dataframe": DATAFRAME_REPLACEMENT_STR}   # as run() writes it
            as_json = result.to_json_dict()
            results[name] = as_json | {"results": [_located(r, frame, INDEX_COLUMNS[batch]) for r in as_json["results"]]}
            log.info("suite %s: %d expectations, %d failed", name, len(result.results),
                     sum(not r.success for r in result.results))
        return results


def validate(frames: dict[str, pd.DataFrame], suites: dict | None = None) -> dict[str, dict]:
    """frames (frames.validation_frames) -> {suite name: GX validation result as JSON}."""
    with Checker(suites) as checker:
        return checker.validate(frames)
