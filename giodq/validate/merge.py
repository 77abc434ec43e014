"""GX results of one suite over several chunks of a district -> the one result GX gives for the whole.

A province is validated a chunk of reports at a time (pipeline.validate_reports), so that its
frames are never all in memory together. Every expectation of the suites is row-wise (a map
expectation, without ``mostly``), so a result over the whole batch follows from the chunks' results:
the counts add up, the failing rows are the chunks' failing rows one after the other, and GX's own
``_format_map_output`` derives the percentages, the partial lists and the counts of values from those.
"""
from __future__ import annotations

from great_expectations.expectations.expectation import _format_map_output
from great_expectations.expectations.expectation_configuration import parse_result_format
from great_expectations.util import convert_to_json_serializable

from giodq.validate.findings import gx_error
from giodq.validate.run import RESULT_FORMAT


class NotMergeable(ValueError):
    """The chunks' results are not of the same suite and expectations, or an expectation is not row-wise."""


def merge_suite_results(parts: list[dict]) -> dict:
    """The JSON results of one suite over chunks of the district, in the chunks' order -> the
    result over all of them: the first chunk's suite and metadata, each expectation merged."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    if any(len(p["results"]) != len(first["results"]) for p in parts):
        raise NotMergeable(f"suite {first.get('suite_name')}: the chunks checked other expectations")
    results = [_merge_expectation([p["results"][i] for p in parts]) for i in range(len(first["results"]))]
    ok = sum(r["success"] for r in results)
    return first | {
        "success": ok == len(results),
        "results": results,
        "statistics": {"evaluated_expectations": len(results), "successful_expectations": ok,
                       "unsuccessful_expectations": len(results) - ok,
                       "success_percent": ok / len(results) * 100 if results else None},
    }


def _merge_expectation(parts: list[dict]) -> dict:
    first = parts[0]
    config = first["expectation_config"]
    same = lambda c: (c["type"], c["kwargs"], c["meta"])  # noqa: E731 (GX gives each context's copy an id of its own)
    if any(same(p["expectation_config"]) != same(config) for p in parts):
        raise NotMergeable(f"{config['type']}: the chunks' expectations differ")
    if config["kwargs"].get("mostly", 1) != 1:
        # success with ``mostly`` rests on the share over the whole batch, not on each chunk's
        raise NotMergeable(f"{config['type']} has mostly={config['kwargs']['mostly']}")
    raised = next((p for p in parts if gx_error(p)), None)
    if raised is not None:   # GX could not evaluate it on a chunk, nor then on the whole: its error stands
        return raised
    found = [p["result"] for p in parts]
    if any("unexpected_list" not in f or "unexpected_index_list" not in f for f in found):
        raise NotMergeable(f"{config['type']} is not a map expectation with COMPLETE results")
    element_count = sum(f["element_count"] for f in found)
    missing = [f.get("missing_count") for f in found]
    nonnull = None if any(m is None for m in missing) else element_count - sum(missing)
    merged = _format_map_output(
        result_format=parse_result_format(RESULT_FORMAT),   # with GX's defaults, as the chunks had it
        success=all(p["success"] for p in parts),
        element_count=element_count,
        nonnull_count=nonnull,
        unexpected_count=sum(f["unexpected_count"] for f in found),
        # a pair's values, a tuple for GX, are a list in JSON: a tuple again, so GX can count them
        unexpected_list=[tuple(v) if isinstance(v, list) else v for f in found for v in f["unexpected_list"]],
        unexpected_index_list=[v for f in found for v in f["unexpected_index_list"]],
        unexpected_index_column_names=first["result"].get("unexpected_index_column_names"),
    )
    return first | {"success": merged["success"], "result": convert_to_json_serializable(merged["result"])}
