"""A run that dies half-way through publishing to a bucket leaves the previous dataset complete and
in force; the next run completes. The fault is real: the S3 endpoint (moto's server behind a
proxy) stops answering in the middle of the upload."""
import io
import json
import os
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from conftest import SAMPLES, read_fixture
from giodq.pipeline import run
from giodq.publish import store
from giodq.s3 import s3_client
from s3_faults import faulty_endpoint
from s3_server import moto_server

KEY = "004_47717d3cd7e0ea5b.txt"
OUT = "s3://district/out"


def _contract_dataset() -> dict[str, pd.DataFrame]:
    """OUT/dataset/*.parquet as an outside reader of the contract's paths sees them."""
    s3 = s3_client()
    return {n: pq.read_table(io.BytesIO(s3.get_object(Bucket="district", Key=f"out/dataset/{n}.parquet")["Body"].read()))
            .to_pandas() for n in ("reports", "cells", "findings")}


@pytest.fixture()
def endpoint(monkeypatch):
    with moto_server() as real, faulty_endpoint(real) as (url, faults):
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("GIODQ_S3_MAX_ATTEMPTS", "2")   # fail fast: the fault does not go away
        s3 = s3_client()
        s3.create_bucket(Bucket="district")
        for p in SAMPLES.iterdir():
            s3.put_object(Bucket="district", Key=f"reports/{p.name}", Body=p.read_bytes())
        yield faults


@pytest.mark.parametrize("fault", [
    {"puts_before": 3},                          # among the first site pages
    {"put": "/dataset/cells.parquet"},           # half-way through the new release's dataset
    {"put": "/current.json"},                    # the commit itself
])
def test_a_run_that_dies_mid_upload_leaves_the_previous_dataset(endpoint, fault):
    faults = endpoint
    first = run("s3://district/reports", OUT)
    before, pointer_before = _contract_dataset(), store.current(OUT)
    assert pointer_before["run_id"] == first["run_id"]

    # a unit uploads a corrected report; the next run's upload breaks off
    text = read_fixture(KEY).decode().replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件")
    s3_client().put_object(Bucket="district", Key=f"reports/{KEY}", Body=text.encode())
    if "puts_before" in fault:
        faults.arm(fault["puts_before"])
    else:
        faults.puts = {fault["put"]}
    with pytest.raises(ClientError, match="503"):
        run("s3://district/reports", OUT)
    assert faults.refused > 0
    faults.disarm()
    faults.puts = set()

    # the previous dataset is complete and still the current one, at the contract's paths too
    assert store.current(OUT)["run_id"] == first["run_id"]
    after = _contract_dataset()
    for name, frame in before.items():
        assert frame.astype(str).equals(after[name].astype(str)), name
    reports, cells, findings = store.read_dataset(OUT, full=True)
    assert set(reports["report"]) == {p.name for p in SAMPLES.iterdir()}
    assert "narrative.count" in set(findings.loc[findings["report"] == KEY, "rule"])

    # the next run completes it: the correction is in, and the history has both complete runs
    second = run("s3://district/reports", OUT)
    assert second["kind"] == "run" and second["changed"] == [KEY]
    assert store.current(OUT)["run_id"] == second["run_id"]
    findings = _contract_dataset()["findings"]
    assert "narrative.count" not in set(findings.loc[findings["report"] == KEY, "rule"])
    assert [h["run_id"] for h in store.history(OUT)] == [first["run_id"], second["run_id"]]
    index = s3_client().get_object(Bucket="district", Key="out/data_docs/index.html")["Body"].read().decode()
    assert KEY in index


def test_a_local_run_that_dies_mid_publish_leaves_the_previous_dataset(tmp_path, monkeypatch):
    """The same for a folder: the dataset is swapped in by a rename, after the site is built."""
    src = tmp_path / "src"
    shutil.copytree(SAMPLES, src)
    first = run(str(src), tmp_path / "out")
    before = {n: (tmp_path / "out" / "dataset" / f"{n}.parquet").read_bytes() for n in ("reports", "cells", "findings")}
    (src / KEY).write_text(read_fixture(KEY).decode().replace("2 件", "6 件", 1), encoding="utf-8")

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr("giodq.publish.docs.build_data_docs", broken)   # as the publish stage imports it
    with pytest.raises(OSError):
        run(str(src), tmp_path / "out")
    monkeypatch.undo()
    now = {n: (tmp_path / "out" / "dataset" / f"{n}.parquet").read_bytes() for n in ("reports", "cells", "findings")}
    assert now == before
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".dataset")]
    second = run(str(src), tmp_path / "out")
    assert second["kind"] == "run" and json.loads((tmp_path / "out" / "run.json").read_text())["run_id"] == second["run_id"]
    assert os.path.exists(tmp_path / "out" / "data_docs" / "index.html") and first["run_id"] != second["run_id"]


def test_an_object_that_cannot_be_read_is_picked_up_by_the_next_run(endpoint):
    faults = endpoint
    faults.paths = {f"reports/{KEY}"}
    first = run("s3://district/reports", OUT)
    assert [(f["report"], f["error"][:5]) for f in first["failed"]] == [(KEY, "read:")]
    assert "503" in first["failed"][0]["error"]
    faults.paths = set()
    second = run("s3://district/reports", OUT)      # the listing is the same, yet this is no unchanged run
    assert second["kind"] == "run" and second["failed"] == [] and second["changed"] == [KEY]
    reports = store.read_dataset(OUT)[0].set_index("report")
    assert reports.loc[KEY, "status"] == "ok"
