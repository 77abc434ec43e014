"""cross_year.carry and cross_year.in_force: seed 004 (2024) beside a 2023 report of the same body,
in the same run or in the dataset an earlier run left at OUT."""
import pyarrow.parquet as pq
import pytest

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.pipeline import run, validate_reports

S004 = read_fixture("004_47717d3cd7e0ea5b.txt").decode()
NEW = "一、本年新收政府信息公开申请数量\t\t6\t0\t0\t0\t0\t0\t6\t"
FORWARD = "四、结转下年度继续办理\t\t0\t0\t0\t0\t0\t0\t0\t"
DOCS = "行政规范性文件\t0\t0\t0"


def predecessor(carried_forward: int, in_force: int) -> bytes:
    """Seed 004 as its 2023 report: the same body, 2 more requests of which `carried_forward` wait."""
    text = S004.replace("2024", "2023")
    text = text.replace(NEW, NEW.replace("6", str(6 + carried_forward)))
    text = text.replace(FORWARD, FORWARD.replace("\t0\t0\t0\t0\t0\t0\t0\t", f"\t{carried_forward}\t0\t0\t0\t0\t0\t{carried_forward}\t"))
    return text.replace(DOCS, f"行政规范性文件\t0\t0\t{in_force}").encode()


def carry_pair(folder, out) -> None:
    """A 2023 report that says 2 carried forward and its 2024 successor that says 0 carried over,
    in ``folder``, run into ``out``: the 2024 report has cross_year.carry."""
    folder.mkdir()
    (folder / "zh-2023.txt").write_bytes(predecessor(2, 0))
    (folder / "zh-2024.txt").write_bytes(S004.encode())
    run(str(folder), out)
    f = pq.read_table(out / "dataset" / "findings.parquet").to_pandas()
    assert "cross_year.carry" in set(f.loc[f["report"] == "zh-2024.txt", "rule"])


def _cross(v, report="2024.txt"):
    """carry and in_force findings (the predecessor here is seed 004 itself a year earlier, so
    cross_year.copied rightly fires too: tests/test_cross_year_copied_jump.py)."""
    f = v.findings
    return f[(f["report"] == report) & f["rule"].isin(["cross_year.carry", "cross_year.in_force"])]


def test_carry_and_in_force_against_last_years_report():
    v = validate_reports([extract_report("2023.txt", predecessor(2, 3)), extract_report("2024.txt", S004.encode())])
    f = _cross(v)
    carry = f[f["rule"] == "cross_year.carry"]
    assert set(carry["where"]) == {"表三「自然人」列（与上年报告 2023.txt 比较）", "表三「总计」列（与上年报告 2023.txt 比较）"}
    row = carry[carry["where"].str.contains("总计")].iloc[0]
    assert (row["observed"], row["expected"], row["severity"]) == ("0", "2", "error")
    assert list(row["cells"]) == ["t3.carried_over.total", "t3.carried_forward.total"]
    docs = f[f["rule"] == "cross_year.in_force"].iloc[0]
    assert (docs["observed"], docs["expected"], docs["severity"]) == ("0", "3", "warning")
    assert "行政规范性文件" in docs["where"]
    assert _cross(v, "2023.txt").empty  # no 2022 report to compare with


def test_consistent_years_raise_nothing():
    v = validate_reports([extract_report("2023.txt", predecessor(0, 0)), extract_report("2024.txt", S004.encode())])
    assert _cross(v).empty
    assert v.not_assessed.get("2024.txt", []) == []


def test_last_year_from_the_dataset_at_out(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "zhanhe-2023.txt").write_bytes(predecessor(2, 0))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "zhanhe-2024.txt").write_bytes(S004.encode())
    run(str(tmp_path / "a"), tmp_path / "out")
    run(str(tmp_path / "b"), tmp_path / "out")
    f = pq.read_table(tmp_path / "out" / "dataset" / "findings.parquet").to_pandas()
    carry = f[f["rule"] == "cross_year.carry"]
    assert set(carry["report"]) == {"zhanhe-2024.txt"}
    assert len(list((tmp_path / "out" / "runs").glob("*.json"))) == 2   # each run's record is kept
    assert carry["where"].str.contains("与上年报告 zhanhe-2023.txt 比较").all()


def test_a_run_reads_of_the_dataset_only_what_its_rules_compare_with(tmp_path):
    """A run reads the dataset at OUT without its own inputs' cells and sentence digests (it reads
    those reports anew; a province run again would hold its whole last dataset): the same findings
    as with the whole dataset, last year's report still compared with."""
    import pandas as pd

    from giodq.publish import store

    carry_pair(tmp_path / "src", tmp_path / "out")
    whole = store.read_dataset(tmp_path / "out")
    slim = store.read_dataset(tmp_path / "out", inputs=["zh-2024.txt", "not-in-the-dataset.txt"])
    assert set(whole[1]["report"]) == {"zh-2023.txt", "zh-2024.txt"}
    assert set(slim[1]["report"]) == {"zh-2023.txt"}                      # the input's cells not read
    assert list(slim[0]["report"]) == list(whole[0]["report"])             # its row still there
    hashes = dict(zip(slim[0]["report"], slim[0]["sentence_hashes"]))
    assert hashes["zh-2024.txt"] is None and len(hashes["zh-2023.txt"]) > 0
    this = extract_report("zh-2024.txt", S004.encode())
    a, b = validate_reports([this], previous=whole), validate_reports([this], previous=slim)
    assert "cross_year.carry" in set(b.findings["rule"])
    pd.testing.assert_frame_equal(a.findings, b.findings)
    # read so, the dataset serves only a run that checks those inputs again: never one without their cells
    last_year = extract_report("zh-2023.txt", predecessor(2, 0))
    with pytest.raises(ValueError, match="without the cells of 1 reports"):
        validate_reports([last_year], previous=slim)


def test_a_district_run_again_reads_the_dataset_without_its_inputs_cells(tmp_path, monkeypatch):
    """The run (pipeline.run; the flow's read_current likewise) asks the dataset at OUT for what its
    rules compare with only: last year's report, gone from the source, still found there."""
    from giodq.publish import store

    carry_pair(tmp_path / "src", tmp_path / "out")
    asked, read = [], store.read_dataset
    monkeypatch.setattr(store, "read_dataset", lambda out, full=False, inputs=(): asked.append(list(inputs)) or
                        read(out, full=full, inputs=inputs))
    (tmp_path / "src" / "zh-2023.txt").unlink()   # an input gone: the district is checked whole
    run(str(tmp_path / "src"), tmp_path / "out")
    assert asked[0] == ["zh-2024.txt"]
    f = pq.read_table(tmp_path / "out" / "dataset" / "findings.parquet").to_pandas()
    carry = f[f["rule"] == "cross_year.carry"]
    assert set(carry["report"]) == {"zh-2024.txt"} and carry["where"].str.contains("zh-2023.txt").all()
