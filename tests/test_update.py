"""A run in which few inputs changed checks only those (giodq/update.py), and what it writes is what
a full run of the same files writes; where another report may depend on a changed one, or an
input is gone, the run checks the whole district."""
import shutil
import sys

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SAMPLES, read_fixture
from giodq.pipeline import run
from giodq.publish.review import report_id

sys.path.insert(0, str(ROOT / "bench"))
from compare_parquet import compare  # noqa: E402  (bench/compare_parquet.py)

KEY = "004_47717d3cd7e0ea5b.txt"
CORPUS = ROOT / "tests" / "fixtures"


def _source(folder):
    folder.mkdir()
    for p in SAMPLES.iterdir():
        shutil.copy(p, folder / p.name)
    for name in ("pingtan-zone-2021.txt", "shuyang-county-2025.md", "xiongxian-township-2019.txt"):
        shutil.copy(CORPUS / name, folder / name)
    return folder


def _findings(out):
    return pq.read_table(out / "dataset" / "findings.parquet").to_pandas()


@pytest.fixture(scope="module")
def updated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("update")
    src = _source(tmp / "src")
    first = run(str(src), tmp / "out")
    # the unit corrects its narrative (6 requests, as its table says), and a crawler stores one
    # report a second time under another name
    (src / KEY).write_text(read_fixture(KEY).decode().replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件"),
                           encoding="utf-8")
    shutil.copy(src / "001_183f359fdb579c94.txt", src / "copy-of-001.txt")
    second = run(str(src), tmp / "out")
    full = run(str(src), tmp / "full")
    return first, second, full, tmp


def test_only_the_changed_inputs_are_checked(updated):
    first, second, full, _ = updated
    assert "update" not in first and "update" not in full
    assert second["update"]["rechecked"] == sorted([KEY, "copy-of-001.txt"])
    assert second["changed"] == sorted([KEY, "copy-of-001.txt"]) and second["removed"] == []
    assert second["inputs"] == full["inputs"] == first["inputs"] + 1


def test_the_update_writes_what_a_full_run_writes(updated):
    _, second, full, tmp = updated
    assert compare(tmp / "out", tmp / "full") == []
    for field in ("inputs", "ok", "failed", "formats", "findings", "duplicates", "district"):
        assert second[field] == full[field], field


def test_the_correction_and_the_new_duplicate_are_on_the_site(updated):
    _, second, _, tmp = updated
    assert "narrative.count" not in set(_findings(tmp / "out").query("report == @KEY")["rule"])
    page = lambda key: (tmp / "out" / "data_docs" / "reports" / f"{report_id(key)}.html").read_text(encoding="utf-8")  # noqa: E731
    assert "正文数字与表格不符" not in page(KEY)
    # the report the copy duplicates is drawn again: its page lists the copy
    assert "copy-of-001.txt" in page("001_183f359fdb579c94.txt")
    assert second["update"]["pages"] == 3


def test_a_report_with_a_next_year_takes_the_whole_district(tmp_path):
    """A corrected 2023 report changes what its 2024 successor is compared with: not an update."""
    from test_cross_year import S004, carry_pair, predecessor

    src = tmp_path / "src"
    carry_pair(src, tmp_path / "out")
    (src / "zh-2023.txt").write_bytes(predecessor(0, 0))     # corrected: nothing carried forward
    record = run(str(src), tmp_path / "out")
    assert "update" not in record
    assert "cross_year.carry" not in set(_findings(tmp_path / "out").query("report == 'zh-2024.txt'")["rule"])
    # the 2024 report changes instead: nothing depends on it, so it is an update
    (src / "zh-2024.txt").write_bytes(S004.encode() + b"\n")
    assert run(str(src), tmp_path / "out")["update"]["rechecked"] == ["zh-2024.txt"]


def test_an_input_gone_or_too_many_changed_take_the_whole_district(tmp_path, monkeypatch):
    src = _source(tmp_path / "src")
    run(str(src), tmp_path / "out")
    (src / "xiongxian-township-2019.txt").unlink()
    record = run(str(src), tmp_path / "out")
    assert "update" not in record and record["removed"] == ["xiongxian-township-2019.txt"]
    (src / KEY).write_bytes(read_fixture(KEY) + b"\n")
    monkeypatch.setenv("GIODQ_UPDATE_UP_TO", "0")
    assert "update" not in run(str(src), tmp_path / "out")


def test_the_flow_updates_too(prefect_harness, tmp_path):
    """The Prefect flow takes the same path: one changed file is extracted and checked alone, and
    the dataset is the plain pipeline's full run's."""
    from flows.district_run import district_run

    src = _source(tmp_path / "src")
    district_run(source=str(src), out=str(tmp_path / "flow"))
    (src / KEY).write_text(read_fixture(KEY).decode().replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件"),
                           encoding="utf-8")
    record = district_run(source=str(src), out=str(tmp_path / "flow"))
    assert record["update"] == {"rechecked": [KEY], "pages": 1}
    run(str(src), tmp_path / "plain")
    assert compare(tmp_path / "flow", tmp_path / "plain") == []


def test_rows_of_reports_are_left_out_in_slices():
    """update.without gives what a boolean mask gives, for any runs of rows to leave out."""
    import random

    import pandas as pd

    from giodq.update import without

    rng = random.Random(7)
    for _ in range(300):
        keys = [rng.choice("abcd") for _ in range(rng.randint(0, 12))]
        frame = pd.DataFrame({"report": pd.array(keys, dtype="string"), "n": range(len(keys))})
        gone = set(rng.sample("abcde", rng.randint(0, 3)))
        pd.testing.assert_frame_equal(without(frame, gone).reset_index(drop=True),
                                      frame[~frame["report"].isin(list(gone))].reset_index(drop=True))
