"""The district-wide flow with its tasks on a Dask cluster (prefect-dask's DaskTaskRunner): a
local cluster of worker processes here, a real one in a district's deployment."""
import shutil

import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES
from flows.district_run import district_run


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c.scheduler_address


def test_the_flow_runs_its_tasks_on_the_cluster(prefect_harness, cluster, tmp_path, seeds_expected):
    from distributed import Client, get_task_stream

    src = tmp_path / "src"
    shutil.copytree(SAMPLES, src)
    with Client(cluster) as client, get_task_stream(client) as stream:
        record = district_run(source=str(src), out=str(tmp_path / "out"), batch_size=2, dask_address=cluster)
    assert record["inputs"] == 5 and record["failed"] == []
    cells = pq.read_table(tmp_path / "out" / "dataset" / "cells.parquet").to_pandas().set_index(["report", "key"])["value"]
    for name, want in seeds_expected.items():
        for key, value in want.get("cells", {}).items():
            assert cells[(name, key)] == value
    # the tasks ran in the cluster's worker processes: the scheduler's task stream has them
    ran = [t["key"] for t in stream.data]
    assert any("extract" in str(k) for k in ran), ran
