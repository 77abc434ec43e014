"""form.deadline by level (《政府信息公开条例》第四十九条): a county-level-or-above government's own
report by 31 March, departments and towns and streets by 31 January; the level from the roster
when there is one, from the body otherwise. Seed 002 (a department, with a 成文日期) altered."""
import pytest

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.validate.findings import results_to_findings
from giodq.validate.frames import validation_frames
from giodq.validate.levels import level_of_body
from giodq.validate.run import validate

S002 = read_fixture("002_40523efafb065443.txt").decode()
DATE = "成文日期: | 2025-01-24"
GOV = S002.replace("河东区中小企业发展服务中心", "河东区人民政府")


def _dated(text: str, day: str) -> bytes:
    assert DATE in text
    return text.replace(DATE, f"成文日期: | {day}").encode()


REPORTS = {
    "gov-march.txt": _dated(GOV, "2025-03-05"),
    "gov-april.txt": _dated(GOV, "2025-04-02"),
    "dept-march.txt": _dated(S002, "2025-03-05"),
    "dept-january.txt": _dated(S002, "2025-01-24"),
    "roster-town-march.txt": _dated(GOV, "2025-03-05"),   # named like a government, the roster says 乡镇街道
}


@pytest.fixture(scope="module")
def findings():
    reports = [extract_report(name, data) for name, data in REPORTS.items()]
    frames = validation_frames(reports, None, {"roster-town-march.txt": "乡镇街道"})
    f = results_to_findings(validate(frames))
    return f[f["rule"] == "form.deadline"].set_index("report")


@pytest.mark.parametrize("body, level", [
    ("淮安市人民政府", "本级政府"), ("沐阳县人民政府", "本级政府"), ("济南市历下区人民政府", "本级政府"),
    ("上海市人民政府办公厅", "部门"), ("沭阳县发展和改革局", "部门"), ("河东区中小企业发展服务中心", "部门"),
    ("铁厂镇人民政府", "乡镇街道"), ("济南市历下区人民政府东关街道办事处", "乡镇街道"), ("南薰乡", "乡镇街道"),
    ("平潭综合实验区", None), ("某某开发区管委会", None), (None, None)])
def test_level_of_body(body, level):
    got = level_of_body(body)
    assert (got.name if got else None) == level


def test_a_governments_own_report_may_wait_until_31_march(findings):
    assert "gov-march.txt" not in findings.index
    row = findings.loc["gov-april.txt"]
    assert (row["observed"], row["expected"], row["severity"]) == ("2025-04-02", "2025-03-31", "warning")
    assert row["message"] == ("【提示】发布时间：发布时间（本级政府，按机关名称判断；《政府信息公开条例》第四十九条："
                              "县级以上人民政府的本级年度报告于次年 3 月 31 日前公布）：发布日期为 2025-04-02，应不晚于 2025-03-31。")


def test_a_department_by_31_january(findings):
    assert "dept-january.txt" not in findings.index
    row = findings.loc["dept-march.txt"]
    assert (row["observed"], row["expected"]) == ("2025-03-05", "2025-01-31")
    assert "部门，按机关名称判断" in row["where"]


def test_the_rosters_level_comes_first(findings):
    row = findings.loc["roster-town-march.txt"]
    assert (row["observed"], row["expected"]) == ("2025-03-05", "2025-01-31")
    assert row["where"].startswith("发布时间（乡镇街道，名册所列层级；")
