"""GX Data Docs for a run, built from the run's validation results into OUT/data_docs."""
from __future__ import annotations

from pathlib import Path

from great_expectations.core.expectation_validation_result import expectationSuiteValidationResultSchema
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from giodq.validate.run import ephemeral_context
from giodq.validate.suites import SUITE_BATCH, load_suites

SITE = "giodq"


def build_data_docs(results: dict[str, dict], out_dir: Path) -> Path:
    """{suite: GX result JSON} -> the GX Data Docs site at out_dir; returns its index.html.
    Results are passed as JSON so that this stage needs nothing from the validate stage's
    GX context (and can rebuild the docs of a stored run)."""
    out_dir = out_dir.resolve()  # GX's filesystem store takes absolute paths only
    out_dir.mkdir(parents=True, exist_ok=True)
    context = ephemeral_context()
    context.add_data_docs_site(site_name=SITE, site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    for suite in load_suites().values():
        context.suites.add(suite)
    for name, result_json in results.items():
        result = expectationSuiteValidationResultSchema.load(result_json)
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
            run_id=result.meta["run_id"], batch_identifier=SUITE_BATCH[name])
        context.validation_results_store.set(key, result)
    context.build_data_docs(site_names=[SITE])
    return out_dir / "index.html"
