"""`giodq run` end to end: the Prefect flow with its embedded defaults, on samples/."""
import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from conftest import ROOT


def _giodq(*args, home, cwd=ROOT):
    env = os.environ | {"PREFECT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "giodq.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=400)


@pytest.fixture(scope="module")
def run_samples(tmp_path_factory):
    # relative paths, as the README's command gives them
    work = tmp_path_factory.mktemp("work")
    (work / "samples").symlink_to(ROOT / "samples" / "reports")
    proc = _giodq("run", "samples", "--out", "out", home=tmp_path_factory.mktemp("prefect"), cwd=work)
    return proc, work / "out"


def test_run_exits_0_and_prints_a_summary(run_samples):
    proc, out = run_samples
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "reports read: 5" in proc.stdout
    assert "narrative.count: 1" in proc.stdout and "form.tables: 1" in proc.stdout
    assert str(out / "data_docs" / "index.html") in proc.stdout


def test_run_writes_the_output_contract(run_samples, seeds_expected):
    _, out = run_samples
    reports = pq.read_table(out / "dataset" / "reports.parquet").to_pandas().set_index("report")
    for name, want in seeds_expected.items():
        assert reports.loc[name, "format"] == want["format"]
        assert reports.loc[name, "status"] == "ok"
    cells = pq.read_table(out / "dataset" / "cells.parquet").to_pandas()
    assert {"report", "key", "table", "row", "col", "label", "raw", "value"} <= set(cells.columns)
    got = cells.set_index(["report", "key"])["value"]
    for name, want in seeds_expected.items():
        for key, value in want.get("cells", {}).items():
            assert got[(name, key)] == value
    findings = pq.read_table(out / "dataset" / "findings.parquet").to_pandas()
    by_report = findings.groupby("report")["rule"].apply(set).to_dict()
    for name, want in seeds_expected.items():
        assert set(want["must"]) <= by_report.get(name, set())
        errors = set(findings.loc[(findings["report"] == name) & (findings["severity"] == "error"), "rule"])
        assert not errors & set(want["must_not"])
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["inputs"] == 5 and record["failed"] == []


def test_data_docs_carry_the_chinese_rule_titles(run_samples):
    _, out = run_samples
    pages = list((out / "data_docs").rglob("*.html"))
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    assert (out / "data_docs" / "index.html").exists()
    for title in ("申请数量勾稽关系", "办理结果合计", "申请人合计", "复议诉讼合计", "表格完整"):
        assert title in text


def test_missing_source_is_a_clear_error(tmp_path):
    proc = _giodq("run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"), home=tmp_path)
    assert proc.returncode == 2 and "source folder not found" in proc.stderr


def test_rerun_one_report_through_the_flow(run_samples, tmp_path):
    _, out = run_samples
    work = out.parent
    proc = _giodq("rerun", "004_47717d3cd7e0ea5b.txt", "--source", "samples", "--out", "out", home=tmp_path, cwd=work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rerun: 004_47717d3cd7e0ea5b.txt" in proc.stdout
    assert "已解决 resolved: 0" in proc.stdout           # the file did not change: nothing resolved
    assert len(list((out / "runs").glob("*.json"))) == 2


def test_flows_on_the_temporary_server_send_no_heartbeats():
    """Their thread sleeps in 1 s steps and is joined as the flow ends (up to 1 s of every command),
    for a server that stops with the command anyway; a configured server keeps Prefect's setting."""
    from prefect.settings import get_current_settings

    from giodq.prefect_server import flow_settings

    from types import SimpleNamespace

    configured = get_current_settings().flows.heartbeat_frequency
    assert configured is not None
    with flow_settings(SimpleNamespace(url="http://127.0.0.1:9/api")):   # giodq's own server
        assert get_current_settings().flows.heartbeat_frequency is None
        assert get_current_settings().api.url == "http://127.0.0.1:9/api"
    with flow_settings(None):       # a configured server
        assert get_current_settings().flows.heartbeat_frequency == configured
