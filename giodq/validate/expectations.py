"""giodq's two custom GX expectations: two sums of columns balance, row by row (the
accounting identities), and a stated number equals one of its readings (narrative claims).

Why custom: GX's built-in ``ExpectMulticolumnSumToEqual`` compares a row's sum with
a constant, but an accounting identity compares two sums of cells of the same
report (新收 + 结转 = 办理总计 + 结转下年度). On pandas the row-wise identity is one
vectorised expression over a frame with one row per report, so a whole district
is validated in one GX run (``UnexpectedRowsExpectation`` would need SQL).

Rows with a missing cell are skipped (``ignore_row_if="any_value_is_missing"``):
an identity over a cell that could not be read is not assessed, never passed.
Importing this module registers the expectation and its metric with GX.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import MulticolumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    MulticolumnMapMetricProvider,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)

# Amounts (万元) are decimals written to at most 4 places; counts are whole numbers.
TOLERANCE = 1e-6


class MulticolumnSumsBalance(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_sums.balance"
    condition_domain_keys = ("batch_id", "table", "column_list", "row_condition", "condition_parser",
                             "ignore_row_if")
    condition_value_keys = ("n_left",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        n_left = kwargs["n_left"]
        left = column_list.iloc[:, :n_left].sum(axis=1, skipna=False)
        right = column_list.iloc[:, n_left:].sum(axis=1, skipna=False)
        return (left - right).abs() <= TOLERANCE


class ExpectSumsToBalance(MulticolumnMapExpectation):
    """Expect, in every row, the sum of the first ``n_left`` columns of ``column_list``
    to equal the sum of the remaining columns."""

    n_left: int  # no default: GX drops default-valued kwargs from the suite files
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "any_value_is_missing"

    map_metric: ClassVar[str] = "multicolumn_sums.balance"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "n_left")
    library_metadata: ClassVar[dict] = {"maturity": "production", "tags": ["giodq", "accounting identity"],
                                        "contributors": ["giodq"]}


class MulticolumnFirstInRest(MulticolumnMapMetricProvider):
    condition_metric_name = "multicolumn_values.first_in_rest"
    condition_domain_keys = ("batch_id", "table", "column_list", "row_condition", "condition_parser",
                             "ignore_row_if")
    condition_value_keys = ()

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, **kwargs):
        first = column_list.iloc[:, 0]
        rest = column_list.iloc[:, 1:]
        return rest.sub(first, axis=0).abs().le(TOLERANCE).any(axis=1)


class ExpectFirstColumnToEqualOneOfTheOthers(MulticolumnMapExpectation):
    """Expect, in every row, the first column of ``column_list`` to equal at least one of the
    others: a number the narrative states against each reading of the table the spec allows
    (收到 N 件 = 本年新收, or 本年新收 + 上年结转)."""

    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "any_value_is_missing"

    map_metric: ClassVar[str] = "multicolumn_values.first_in_rest"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict] = {"maturity": "production", "tags": ["giodq", "narrative"],
                                        "contributors": ["giodq"]}
