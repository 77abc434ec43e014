"""deploy/prefect.yaml applied to a real Prefect server on 127.0.0.1: the nightly district run on
its cron schedule in Beijing time, and the rerun deployment, each triggered and run by a worker."""
import json
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SAMPLES, read_fixture
from prefect_server import api, prefect_server

KEY = "004_47717d3cd7e0ea5b.txt"


def _prefect(env, *args, timeout=600):
    proc = subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    home, src, out = (tmp_path_factory.mktemp(n) for n in ("prefect-home", "src", "out"))
    shutil.copytree(SAMPLES, src, dirs_exist_ok=True)
    with prefect_server(home) as env:
        env = env | {"GIODQ_SOURCE": str(src), "GIODQ_OUT": str(out)}
        _prefect(env, "work-pool", "create", "giodq", "--type", "process")
        _prefect(env, "deploy", "--all", "--prefect-file", "deploy/prefect.yaml")
        worker = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "giodq"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            yield env, src, out
        finally:
            worker.terminate()
            worker.wait(timeout=30)


def _deployments(env) -> dict[str, dict]:
    return {d["name"]: d for d in api(env, "/deployments/filter", {})}


def _run(env, name, *params) -> dict:
    """Trigger a deployment, wait for its flow run to end, return the run."""
    out = _prefect(env, "deployment", "run", name, *params, "--watch", "--watch-interval", "2",
                   "--watch-timeout", "600")
    run_id = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)
    return api(env, f"/flow_runs/{run_id}")


def test_the_deployments_and_the_nightly_schedule(deployed):
    env, src, out = deployed
    deployments = _deployments(env)
    assert set(deployments) == {"nightly", "rerun"}
    [schedule] = deployments["nightly"]["schedules"]
    assert schedule["schedule"]["cron"] == "0 2 * * *" and schedule["schedule"]["timezone"] == "Asia/Shanghai"
    assert schedule["active"]
    assert deployments["nightly"]["parameters"] == {"source": str(src), "out": str(out)}
    assert deployments["rerun"]["schedules"] == []
    assert "key" in deployments["rerun"]["parameter_openapi_schema"]["required"]
    # the server's scheduler puts the next nightly runs on the calendar at 02:00 Beijing time (18:00 UTC)
    nightly = deployments["nightly"]["id"]
    api(env, f"/deployments/{nightly}/schedule", {"min_runs": 3})
    runs = api(env, "/flow_runs/filter", {"deployments": {"id": {"any_": [nightly]}},
                                          "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}})
    assert len(runs) >= 3 and {r["expected_start_time"][11:19] for r in runs} == {"18:00:00"}


def test_trigger_the_nightly_run_then_a_rerun(deployed):
    env, src, out = deployed
    run = _run(env, "district-run/nightly")
    assert run["state_type"] == "COMPLETED", run["state"]
    findings = pq.read_table(out / "dataset" / "findings.parquet").to_pandas()
    assert "narrative.count" in set(findings.loc[findings["report"] == KEY, "rule"])

    text = read_fixture(KEY).decode().replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件")
    (src / KEY).write_text(text, encoding="utf-8")
    run = _run(env, "rerun-report/rerun", "--param", f"key={KEY}")
    assert run["state_type"] == "COMPLETED", run["state"]
    assert run["parameters"]["key"] == KEY
    findings = pq.read_table(out / "dataset" / "findings.parquet").to_pandas()
    assert "narrative.count" not in set(findings.loc[findings["report"] == KEY, "rule"])
    last = json.loads(sorted((out / "runs").glob("*.json"))[-1].read_text(encoding="utf-8"))
    assert last["kind"] == "rerun" and [r["rule"] for r in last["resolved"]] == ["narrative.count"]
