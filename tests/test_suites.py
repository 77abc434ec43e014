"""The suites in expectations/ are generated from the rule catalogue and reviewed as files."""
import json
import re
from pathlib import Path


from giodq.validate import rules
from giodq.validate.suites import SUITES_DIR, load_suites, stale_suites


def test_committed_suites_match_the_catalogue():
    assert stale_suites() == [], "run `uv run giodq suites` and commit expectations/"


def test_every_assessed_rule_has_an_expectation_with_its_id_and_chinese_description():
    loaded = load_suites()
    ids = {e.meta["rule_id"] for s in loaded.values() for e in s.expectations}
    assert ids == {r.id for r in rules.assessed()}
    for s in loaded.values():
        for e in s.expectations:
            r = rules.rule(e.meta["rule_id"])
            assert r.title in e.description and e.meta["severity"] in ("error", "warning")


def test_each_rule_names_the_suites_that_encode_it():
    loaded = load_suites()
    for r in rules.assessed():
        for name in r.suites:
            assert any(e.meta["rule_id"] == r.id for e in loaded[name].expectations), (r.id, name)


def test_suite_files_are_gx_1x_shaped():
    for path in SUITES_DIR.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert {"name", "id", "expectations", "meta", "notes"} <= set(data)
        assert all({"type", "kwargs", "meta", "id"} <= set(e) for e in data["expectations"])
        assert "expectation_suite_name" not in data


def test_catalogue_covers_every_rule_of_the_spec():
    spec_ids = {"t3.flow", "t3.results", "t3.row_total", "t4.total", "value.type", "cross_year.carry",
                "cross_year.in_force", "zero.markers", "narrative.none", "narrative.count", "form.tables",
                "form.year", "form.placeholder", "narrative.percent", "form.deadline",
                # issue #14: from the regulation and the evaluators
                "form.sections", "narrative.problems", "narrative.all_done", "cross_year.copied", "cross_year.jump",
                # issue #13: district-wide, with a roster
                "form.missing", "form.body"}
    assert {r.id for r in rules.RULES} == spec_ids


# the binding spec beside the checkout (as CI has it), else the copy of it in the fixtures
SPEC = next(p for p in (Path(__file__).resolve().parents[2] / "shared" / "spec" / "report-format.md",
                        Path(__file__).resolve().parent / "fixtures" / "report-format.md") if p.exists())


def test_every_catalogue_id_is_an_id_of_report_format_md():
    spec_ids = set(re.findall(r"`((?:t3|t4|value|form|cross_year|zero|narrative)\.[a-z_]+)`", SPEC.read_text(encoding="utf-8")))
    assert {r.id for r in rules.RULES} == spec_ids


def test_failing_rows_are_named_as_gx_itself_names_them():
    """validate.run names GX's failing rows from their positions (GX's own naming costs ~0.1 ms a
    cell): the result must be what GX gives when asked for unexpected_index_column_names."""
    import great_expectations as gx

    from giodq.extract import extract_report
    from giodq.validate.frames import INDEX_COLUMNS, validation_frames
    from giodq.validate.run import ephemeral_context, suite_columns, validate
    from giodq.validate.suites import SUITE_BATCH

    samples = Path(__file__).resolve().parents[1] / "samples" / "reports"
    frames = validation_frames([extract_report(p.name, p.read_bytes()) for p in sorted(samples.iterdir())])
    ours = validate(frames)
    context = ephemeral_context()
    source = context.data_sources.add_pandas("gx")
    failing = 0
    for name, suite in load_suites().items():
        batch = SUITE_BATCH[name]
        suite = context.suites.add(suite)
        frame = frames[batch][[c for c in frames[batch].columns if c in suite_columns(suite, batch)]]
        definition = context.validation_definitions.add(gx.ValidationDefinition(
            name=name, suite=suite, data=source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)))
        theirs = definition.run(batch_parameters={"dataframe": frame}, result_format={
            "result_format": "COMPLETE", "unexpected_index_column_names": INDEX_COLUMNS[batch],
            "return_unexpected_index_query": False}).to_json_dict()
        for mine, gx_own in zip(ours[name]["results"], theirs["results"], strict=True):
            assert mine["result"] == gx_own["result"], name
            failing += len(gx_own["result"].get("unexpected_index_list") or [])
    assert failing > 0   # the samples have findings: rows were named, not only empty lists compared
