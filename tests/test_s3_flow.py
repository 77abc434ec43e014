"""The district-wide Prefect flow with a bucket as SOURCE and OUT (moto's server on 127.0.0.1),
a unit's corrected upload rerun by key, the nightly run that finds nothing changed, and the
extraction cache that spares the batches whose files did not change."""
import io
import json

import pyarrow.parquet as pq
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from conftest import SAMPLES, read_fixture
from flows.district_run import district_run
from flows.rerun import rerun
from giodq.publish import store
from giodq.s3 import s3_client
from s3_server import moto_server

KEY = "004_47717d3cd7e0ea5b.txt"
SOURCE, OUT = "s3://district/reports", "s3://district/out"


def _dataset():
    s3 = s3_client()
    return {n: pq.read_table(io.BytesIO(s3.get_object(Bucket="district", Key=f"out/dataset/{n}.parquet")["Body"].read()))
            .to_pandas() for n in ("reports", "cells", "findings")}


def _task_states(state) -> dict[str, str]:
    """task run name -> state name, for the flow run that ended in ``state``."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    return {r.name: r.state.name for r in runs}


@pytest.fixture(scope="module")
def district(prefect_harness):
    with moto_server():
        s3 = s3_client()
        s3.create_bucket(Bucket="district")
        for p in SAMPLES.iterdir():
            s3.put_object(Bucket="district", Key=f"reports/{p.name}", Body=p.read_bytes())
        first = district_run(source=SOURCE, out=OUT, batch_size=1)
        yield first, _dataset()


def test_the_flow_reads_and_writes_the_bucket(district, seeds_expected):
    record, data = district
    assert record["inputs"] == 5 and record["failed"] == [] and record["changed"] == sorted(p.name for p in SAMPLES.iterdir())
    cells = data["cells"].set_index(["report", "key"])["value"]
    for name, want in seeds_expected.items():
        for key, value in want.get("cells", {}).items():
            assert cells[(name, key)] == value
    by_report = data["findings"].groupby("report")["rule"].apply(set).to_dict()
    for name, want in seeds_expected.items():
        assert set(want["must"]) <= by_report.get(name, set())
    run_json = json.loads(s3_client().get_object(Bucket="district", Key="out/run.json")["Body"].read())
    assert run_json["run_id"] == record["run_id"] == store.current(OUT)["run_id"]
    index = s3_client().get_object(Bucket="district", Key="out/data_docs/index.html")
    assert index["ContentType"].startswith("text/html") and "charset=utf-8" in index["ContentType"]


def test_a_corrected_upload_rerun_by_key(district):
    _, before = district
    text = read_fixture(KEY).decode().replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件")
    s3_client().put_object(Bucket="district", Key=f"reports/{KEY}", Body=text.encode())
    record = rerun(key=KEY, source=SOURCE, out=OUT)
    after = _dataset()
    assert not (after["findings"]["report"] == KEY).any()
    assert [(r["report"], r["rule"]) for r in record["resolved"]] == [(KEY, "narrative.count")]
    assert any(h.get("kind") == "rerun" and h["resolved"] for h in store.history(OUT))
    for name, frame in before.items():
        old = frame[frame["report"] != KEY].reset_index(drop=True)
        new = after[name][after[name]["report"] != KEY].reset_index(drop=True)
        cols = [c for c in old.columns if c not in ("errors", "warnings")]
        assert old[cols].astype(str).equals(new[cols].astype(str)), name
    # the rerun redrew that report's page in the bucket; the other pages are still there
    pages = store._listing("district", "out/data_docs/reports/")
    assert len(pages) == 5


def test_the_next_nightly_run_finds_nothing_changed(district):
    record = district_run(source=SOURCE, out=OUT, batch_size=1)
    assert record["kind"] == "unchanged" and record["inputs"] == 5
    assert store.history(OUT)[-1]["run_id"] == record["run_id"]


def test_only_batches_with_new_files_are_extracted_again(district, monkeypatch):
    """The whole district checked again (no update: GIODQ_UPDATE_UP_TO=0): the batches whose files
    did not change come from Prefect's cache."""
    monkeypatch.setenv("GIODQ_UPDATE_UP_TO", "0")
    s3_client().put_object(Bucket="district", Key="reports/005_new.txt", Body=read_fixture("003_72b5106183aba5ae.txt"))
    state = district_run(source=SOURCE, out=OUT, batch_size=1, return_state=True)
    record = state.result()
    assert record["kind"] == "run" and record["changed"] == ["005_new.txt"] and record["inputs"] == 6
    assert "update" not in record
    extract = {name: s for name, s in _task_states(state).items() if name.startswith("extract-")}
    assert "Cached" in extract.values(), extract         # batches of unchanged files: Prefect's cache
    assert "Completed" in extract.values(), extract      # the batch holding the new file: extracted


def test_an_update_reads_only_the_new_file(district):
    """With the default, a run with one new file extracts only that file and publishes to the bucket
    a dataset with every report (giodq/update.py)."""
    s3_client().put_object(Bucket="district", Key="reports/006_new.txt", Body=read_fixture("001_183f359fdb579c94.txt"))
    state = district_run(source=SOURCE, out=OUT, batch_size=1, return_state=True)
    record = state.result()
    assert record["update"]["rechecked"] == ["006_new.txt"] and record["inputs"] == 7
    extract = [name for name in _task_states(state) if name.startswith("extract-")]
    assert len(extract) == 1, extract
    data = _dataset()
    assert len(data["reports"]) == 7 and set(data["reports"].loc[data["reports"]["report"] == "006_new.txt", "duplicates"].iloc[0]) == {"001_183f359fdb579c94.txt"}
    assert len(store._listing("district", "out/data_docs/reports/")) == 7
