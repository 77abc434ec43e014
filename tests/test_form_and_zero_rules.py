"""zero.markers, form.year, form.deadline: where they must fire, and real reports where they must not."""
import pytest

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.pipeline import validate_reports

SEEDS = ["000_11add77ccab5606b.txt", "002_40523efafb065443.txt", "003_72b5106183aba5ae.txt",
         "004_47717d3cd7e0ea5b.txt"]
S000 = read_fixture("000_11add77ccab5606b.txt").decode()
S002 = read_fixture("002_40523efafb065443.txt").decode()
T4_ROW = "0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"


@pytest.fixture(scope="module")
def v():
    reports = [extract_report(n, read_fixture(n)) for n in SEEDS + ["shuyang-drc-2023.html"]]
    altered = {
        # 行政复议 结果维持 3, 总计 left blank
        "blank-total.txt": S000.replace(T4_ROW, "3 | 0 | 0 | 0 |  | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"),
        "title-2022.txt": S000.replace("东关街道办事处2023年政府信息公开工作年度报告", "东关街道办事处2022年政府信息公开工作年度报告"),
        "late.txt": S002.replace("成文日期: | 2025-01-24", "成文日期: | 2025-03-05"),
    }
    reports += [extract_report(name, text.encode()) for name, text in altered.items()]
    return validate_reports(reports)


RULES = ("zero.markers", "form.year", "form.deadline", "t4.total")


def _rules(v, report):
    f = v.findings
    return sorted(f.loc[(f["report"] == report) & f["rule"].isin(RULES), "rule"])


@pytest.mark.parametrize("name", SEEDS)
def test_real_seeds_raise_none_of_these(v, name):
    assert _rules(v, name) == []


def test_zero_markers_fires_on_a_table_mixing_blanks_and_zeros(v):
    f = v.findings[v.findings["report"] == "shuyang-drc-2023.html"]
    assert list(f["rule"]) == ["zero.markers"]  # and nothing else on this real report
    row = f.iloc[0]
    assert row["severity"] == "warning" and row["where"].startswith("表三")
    assert row["observed"] == "125 个单元格用空白或“/”“—”等符号表示无，44 个用 0"


def test_zero_markers_fires_on_a_blank_total_beside_numbers(v):
    f = v.findings[(v.findings["report"] == "blank-total.txt") & (v.findings["rule"] == "zero.markers")]
    blank = f[f["observed"].str.startswith("总计空白，但分项有数")]
    assert list(blank.iloc[0]["cells"]) == ["t4.review.total"]
    assert "空白的总计不按 0 计算" in blank.iloc[0]["message"]
    # the blank total is unknown, not 0: 3 ≠ 0 would rest on a guess, so t4.total is not assessed
    assert "t4.total" not in _rules(v, "blank-total.txt")
    assert "t4.total" in v.not_assessed["blank-total.txt"]
    assert v.not_assessed.why["blank-total.txt"] == [
        "「行政复议 · 总计」空白而分项有数，不按 0 计算，依赖它的t4.total（表四「行政复议」）未评估"]


def test_form_year_compares_title_and_statistics_period(v):
    f = v.findings[v.findings["report"] == "title-2022.txt"]
    assert list(f["rule"]) == ["form.year"]
    assert (f.iloc[0]["observed"], f.iloc[0]["expected"]) == ("2022", "2023")


def test_form_deadline_fires_after_31_january(v):
    f = v.findings[v.findings["report"] == "late.txt"]
    assert list(f["rule"]) == ["form.deadline"]
    assert (f.iloc[0]["observed"], f.iloc[0]["expected"]) == ("2025-03-05", "2025-01-31")
    assert f.iloc[0]["severity"] == "warning"
