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


def _equal_after(tmp_path, first: dict[str, bytes], then: dict[str, bytes]) -> dict:
    """Run ``first`` into OUT, write ``then`` (b"" empties a file), run again: the second run's record;
    asserts that OUT's dataset and pages are a fresh full run's of the same files."""
    src = tmp_path / "src"
    src.mkdir()
    for name, data in first.items():
        (src / name).write_bytes(data)
    run(str(src), tmp_path / "out")
    for name, data in then.items():
        (src / name).write_bytes(data)
    record = run(str(src), tmp_path / "out")
    run(str(src), tmp_path / "full")
    assert compare(tmp_path / "out", tmp_path / "full") == []
    pages = lambda out: sorted(p.name for p in (out / "data_docs" / "reports").glob("*.html"))  # noqa: E731
    assert pages(tmp_path / "out") == pages(tmp_path / "full")
    return record


def test_last_years_report_is_read_as_written(tmp_path):
    """Last year's 总计 written as an explicit 0 beside parts that add up to 2 is relied on, as a full
    run relies on it (the dataset's values alone cannot tell it from a blank total)."""
    from test_cross_year import FORWARD, NEW, S004, predecessor

    last = predecessor(0, 0).decode().replace(NEW, NEW.replace("\t6\t0\t0\t0\t0\t0\t6\t", "\t8\t0\t0\t0\t0\t0\t8\t"))
    last = last.replace(FORWARD, FORWARD.replace("\t0\t0\t0\t0\t0\t0\t0\t", "\t2\t0\t0\t0\t0\t0\t0\t"))
    carried = "二、上年结转政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0\t"
    this = S004.replace(NEW, NEW.replace("\t6\t0\t0\t0\t0\t0\t6\t", "\t4\t0\t0\t0\t0\t0\t4\t"))
    this = this.replace(carried, carried.replace("\t0\t0\t0\t0\t0\t0\t0\t", "\t2\t0\t0\t0\t0\t0\t2\t"))
    record = _equal_after(tmp_path, {"p.txt": last.encode(), "t.txt": this.encode()},
                          {"t.txt": this.replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件").encode()})
    assert record["update"]["rechecked"] == ["t.txt"]
    f = _findings(tmp_path / "out")
    assert any("总计" in w for w in f.loc[(f["report"] == "t.txt") & (f["rule"] == "cross_year.carry"), "where"])


def test_a_report_that_fails_now_loses_its_page_and_is_nobodys_last_year(tmp_path):
    """zh-2023 reads, then is emptied while zh-2024 arrives: no page for zh-2023, and zh-2024 has no
    last year's report (not the dataset's old copy of zh-2023)."""
    from test_cross_year import S004, predecessor

    record = _equal_after(tmp_path, {"zh-2023.txt": predecessor(2, 0), "003.txt": read_fixture("003_72b5106183aba5ae.txt")},
                          {"zh-2023.txt": b"", "zh-2024.txt": S004.encode()})
    assert record["update"]["rechecked"] == ["zh-2023.txt", "zh-2024.txt"]
    assert not (tmp_path / "out" / "data_docs" / "reports" / f"{report_id('zh-2023.txt')}.html").exists()
    assert "cross_year.carry" not in set(_findings(tmp_path / "out").query("report == 'zh-2024.txt'")["rule"])


def test_a_copy_edited_redraws_the_page_of_the_report_it_copied(tmp_path):
    """a.txt and b.txt the same bytes, then b.txt edited (same body and year): a.txt's page says so."""
    from test_cross_year import S004

    record = _equal_after(tmp_path, {"a.txt": S004.encode(), "b.txt": S004.encode()},
                          {"b.txt": S004.encode() + "\n（更正）\n".encode()})
    assert record["update"] == {"rechecked": ["b.txt"], "pages": 2}
    page = (tmp_path / "out" / "data_docs" / "reports" / f"{report_id('a.txt')}.html").read_text(encoding="utf-8")
    assert "同一发布机构同一年度" in page and "内容完全相同" not in page
