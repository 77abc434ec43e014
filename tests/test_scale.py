"""What lets a province run on one machine: extraction on every core (Prefect's
ProcessPoolTaskRunner, flows/extraction.py), the dataset written a row group at a time
(publish/dataset.py), and the run record's peak memory per stage. Speed itself is measured in
bench/bench_scale.py, not here."""
import json
import os
import re
import shutil
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES
from giodq.pipeline import run
from giodq.publish import dataset


def _copies(folder, n):
    """n report files: the samples, each under several names."""
    folder.mkdir()
    seeds = sorted(SAMPLES.iterdir())
    for i in range(n):
        shutil.copy(seeds[i % len(seeds)], folder / f"{i:03d}_{seeds[i % len(seeds)].name}")
    return folder


def _tables(out):
    return {name: pq.read_table(out / "dataset" / f"{name}.parquet").to_pandas()
            for name in ("reports", "cells", "findings")}


def test_the_dataset_is_written_a_row_group_at_a_time(tmp_path, monkeypatch):
    src = _copies(tmp_path / "src", 20)
    run(str(src), tmp_path / "whole")
    monkeypatch.setattr(dataset, "ROW_GROUP_BYTES", 20_000)
    run(str(src), tmp_path / "parts")
    cells = pq.ParquetFile(tmp_path / "parts" / "dataset" / "cells.parquet")
    assert cells.metadata.num_row_groups > 1 and cells.metadata.num_rows > 1000
    whole, parts = _tables(tmp_path / "whole"), _tables(tmp_path / "parts")
    for name in whole:   # the same rows, whatever the row groups
        pd.testing.assert_frame_equal(whole[name], parts[name])
    # and read back as pandas wrote them (finding ids are made of the year as the reports hold it)
    assert parts["reports"]["year"].dtype == "Int64" and parts["findings"]["year"].dtype == "Int64"


def test_an_empty_frame_is_a_file_with_its_schema(tmp_path):
    path = tmp_path / "findings.parquet"
    dataset._write(pd.DataFrame(columns=dataset.FINDINGS_SCHEMA.names), dataset.FINDINGS_SCHEMA, path)
    table = pq.read_table(path)
    assert table.num_rows == 0 and table.schema.names == dataset.FINDINGS_SCHEMA.names


def test_the_run_record_has_peak_memory_by_stage(tmp_path):
    record = run(str(SAMPLES), tmp_path / "out")
    memory = json.loads((tmp_path / "out" / "run.json").read_text("utf-8"))["memory_mb"]
    assert memory == record["memory_mb"]
    assert set(memory) == {"extract", "validate", "publish"}
    # the peak so far: it never falls from one stage to the next, and a Python with pandas is > 50 MB
    assert 50 < memory["extract"] <= memory["validate"] <= memory["publish"]


@pytest.mark.parametrize("batches, on_cluster, to_extract, pool", [
    (1, False, 10_000, False), (4, False, 10_000, True), (4, True, 10_000, False), (4, False, 499, False),
    (4, False, 500, True)])
def test_where_the_batches_run(monkeypatch, batches, on_cluster, to_extract, pool):
    from flows import extraction

    monkeypatch.setenv("GIODQ_WORKERS", "2")
    with extraction.runner(batches, on_cluster, to_extract) as runner:
        assert (runner is not None) == pool
        if pool:
            assert runner._max_workers == 2


def test_a_pdf_weighs_more_than_a_text():
    from flows import extraction

    assert extraction.work(["a.txt", "b.html", "c.PDF"]) == 2 + extraction.PDF_WORK


def test_several_batches_are_extracted_in_worker_processes(prefect_harness, tmp_path, monkeypatch):
    """Four batches on a pool of two processes: the batches' logs name processes other than this one,
    and the dataset is the one the plain pipeline (one process, no Prefect) writes."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from flows.district_run import district_run

    monkeypatch.setenv("GIODQ_WORKERS", "2")
    monkeypatch.setenv("GIODQ_POOL_FROM", "1")
    src = _copies(tmp_path / "src", 8)
    state = district_run(source=str(src), out=str(tmp_path / "flow"), batch_size=2, return_state=True)
    record = state.result()
    assert record["inputs"] == 8 and record["failed"] == []
    assert record["memory_mb"]["extract_workers"] > 0
    pids: set[int] = set()
    with get_client(sync_client=True) as client:
        for _ in range(40):   # logs reach the server in batches
            logs = client.read_logs(log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id])))
            pids = {int(m.group(1)) for log in logs if (m := re.search(r"^batch \d+/\d+: .*\(process (\d+)\)$",
                                                                       log.message))}
            if len(pids) >= 1 and sum("batch " in log.message for log in logs) >= 4:
                break
            time.sleep(0.5)
    assert pids and os.getpid() not in pids
    run(str(src), tmp_path / "plain")
    flow, plain = _tables(tmp_path / "flow"), _tables(tmp_path / "plain")
    pd.testing.assert_frame_equal(flow["cells"], plain["cells"])
    pd.testing.assert_frame_equal(flow["reports"].drop(columns="version"), plain["reports"].drop(columns="version"))
    assert sorted(flow["findings"]["finding_id"]) == sorted(plain["findings"]["finding_id"])
