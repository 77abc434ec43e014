"""cross_year.copied and cross_year.jump: seed 004 (2024) beside a 2023 report of the same body, in the
same run or in the dataset an earlier run left at OUT (reports.parquet keeps each report's sentence
digests for next year's run)."""
import pyarrow.parquet as pq

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.pipeline import run, validate_reports

S004 = read_fixture("004_47717d3cd7e0ea5b.txt").decode()
LICENSING = "行政许可\t0"


def report(year: int, licensing: int = 0, rewritten: bool = False) -> bytes:
    """Seed 004 as its report on ``year`` with ``licensing`` decisions; ``rewritten``: every
    narrative sentence of parts one to five written anew (the tables and headings kept)."""
    text = S004.replace("2024", str(year)).replace(LICENSING, f"行政许可\t{licensing}")
    if rewritten:
        head, five = text[:text.index("五、存在的主要问题及改进情况")], text[text.index("五、存在的主要问题及改进情况"):]
        lines = [line + "（本年新写）" if line.endswith("。") else line for line in head.splitlines()]
        five_lines = [line.replace("。", "，本年改写。") if line.endswith("。") else line for line in five.splitlines()]
        text = "\n".join(lines + five_lines)
    return text.encode()


def _f(v, rule, name="2024.txt"):
    f = v.findings
    return f[(f["report"] == name) & (f["rule"] == rule)]


def test_copied_from_last_year():
    v = validate_reports([extract_report("2023.txt", report(2023)), extract_report("2024.txt", report(2024))])
    f = _f(v, "cross_year.copied")
    assert len(f) == 1
    row = f.iloc[0]
    assert row["severity"] == "warning" and row["where"] == "正文（与上年报告 2023.txt 比较）"
    assert row["observed"] == "有 15 句（共 20 句，75%）"   # the sentences naming the year differ
    assert row["message"] == ("【提示】与上年报告雷同：正文（与上年报告 2023.txt 比较）：本年正文有 15 句（共 20 句，75%）"
                              "与上年报告逐字相同，应不超过一半。")
    assert _f(v, "cross_year.copied", "2023.txt").empty       # no 2022 report to compare with


def test_a_rewritten_narrative_is_not_copied():
    v = validate_reports([extract_report("2023.txt", report(2023, rewritten=True)), extract_report("2024.txt", report(2024))])
    assert _f(v, "cross_year.copied").empty
    assert "cross_year.copied" not in v.not_assessed.get("2024.txt", [])


def test_jump_up_and_down():
    up = validate_reports([extract_report("2023.txt", report(2023, 25, rewritten=True)),
                           extract_report("2024.txt", report(2024, 200))])
    row = _f(up, "cross_year.jump").iloc[0]
    assert (row["observed"], row["expected"], row["severity"]) == ("200", "25", "warning")
    assert list(row["cells"]) == ["t2.licensing.decisions"]
    assert row["message"] == ("【提示】主要数量异常变化：「行政许可本年处理决定数量」（与上年报告 2023.txt 比较）："
                              "本年为 200，上年为 25，变化超过 5 倍，请核实。")
    down = validate_reports([extract_report("2023.txt", report(2023, 200, rewritten=True)),
                             extract_report("2024.txt", report(2024, 39))])
    assert list(_f(down, "cross_year.jump")["observed"]) == ["39"]          # below 200 / 5 = 40


def test_no_jump_within_bounds_or_below_twenty():
    for before, after in ((25, 125), (200, 40), (19, 200), (200, 19)):
        v = validate_reports([extract_report("2023.txt", report(2023, before, rewritten=True)),
                              extract_report("2024.txt", report(2024, after))])
        assert _f(v, "cross_year.jump").empty, (before, after)


def test_last_year_from_the_dataset_at_out(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "zhanhe-2023.txt").write_bytes(report(2023, 25))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "zhanhe-2024.txt").write_bytes(report(2024, 200))
    run(str(tmp_path / "a"), tmp_path / "out")
    reports = pq.read_table(tmp_path / "out" / "dataset" / "reports.parquet").to_pandas()
    assert len(reports.loc[0, "sentence_hashes"]) == 20
    run(str(tmp_path / "b"), tmp_path / "out")
    f = pq.read_table(tmp_path / "out" / "dataset" / "findings.parquet").to_pandas()
    assert set(f.loc[f["rule"].isin(["cross_year.copied", "cross_year.jump"]), "rule"]) == {"cross_year.copied",
                                                                                           "cross_year.jump"}
    assert (f.loc[f["rule"] == "cross_year.copied", "where"] == "正文（与上年报告 zhanhe-2023.txt 比较）").all()


def test_a_dataset_that_kept_no_sentences_leaves_copied_not_assessed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "zhanhe-2023.txt").write_bytes(report(2023))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "zhanhe-2024.txt").write_bytes(report(2024))
    run(str(tmp_path / "a"), tmp_path / "out")
    # a dataset written before reports.parquet had sentence_hashes
    path = (tmp_path / "out" / "dataset" / "reports.parquet").resolve()
    pq.write_table(pq.read_table(path).drop(["sentence_hashes"]), path)
    run(str(tmp_path / "b"), tmp_path / "out")
    rep = pq.read_table(tmp_path / "out" / "dataset" / "reports.parquet").to_pandas().set_index("report")
    f = pq.read_table(tmp_path / "out" / "dataset" / "findings.parquet").to_pandas()
    assert not (f["rule"] == "cross_year.copied").any()
    assert "cross_year.copied" in list(rep.loc["zhanhe-2024.txt", "not_assessed"])
    assert ("上年报告 zhanhe-2023.txt 的正文句子未保存（较早版本的数据集），cross_year.copied 未评估"
            in list(rep.loc["zhanhe-2024.txt", "notes"]))
