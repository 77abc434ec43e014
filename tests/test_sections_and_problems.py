"""form.sections and narrative.problems: the six parts all there and in order, and part five stating
a problem and a measure. Real reports where they hold (every form, a heading lost in a PDF
conversion, headings inside flattened text), a page cut off in part five (not assessed), seed 000
altered to break each."""
import pytest

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.extract.parts import read_parts
from giodq.extract.layout import text_to_rows
from giodq.pipeline import validate_reports

S000 = read_fixture("000_11add77ccab5606b.txt").decode()
FIVE, SIX, END = "五、政府信息公开工作存在", "六、其他需要报告的事项", "扫码使用"
REAL = ["000_11add77ccab5606b.txt", "002_40523efafb065443.txt", "003_72b5106183aba5ae.txt", "004_47717d3cd7e0ea5b.txt",
        "huaian-city-2024.pdf", "shuyang-drc-2023.html", "shuyang-county-2025.md", "shanghai-office-2025.md",
        "pingtan-zone-2021.txt", "guihuaping-street-2020.txt"]
RULES = ("form.sections", "narrative.problems")


def _part_five(body: str) -> str:
    return S000[:S000.index(FIVE)] + "五、政府信息公开工作存在的主要问题及改进情况\n" + body + S000[S000.index(SIX):]


ALTERED = {
    "no-five.txt": S000[:S000.index(FIVE)] + S000[S000.index(SIX):],
    "swapped.txt": S000[:S000.index(FIVE)] + S000[S000.index(SIX):S000.index(END)] + S000[S000.index(FIVE):S000.index(SIX)],
    "five-none.txt": _part_five("无。\n"),
    "five-empty.txt": _part_five(""),
    # a problem and no measure
    "five-problem-only.txt": _part_five("(一)存在的主要问题\n一是政务公开内容不全面，栏目更新不及时。\n(二)改进情况\n无。\n"),
}


@pytest.fixture(scope="module")
def v():
    reports = [extract_report(n, read_fixture(n)) for n in REAL + ["xiongxian-township-2019.txt"]]
    reports += [extract_report(name, text.encode()) for name, text in ALTERED.items()]
    return validate_reports(reports)


def _f(v, report):
    f = v.findings
    return f[(f["report"] == report) & f["rule"].isin(RULES)]


@pytest.mark.parametrize("name", REAL)
def test_real_reports_have_their_six_parts_and_part_five(v, name):
    assert _f(v, name).empty, _f(v, name)[["rule", "message"]]
    assert not set(RULES) & set(v.not_assessed.get(name, []))


def test_a_heading_that_lost_its_number_is_found_by_its_key_words():
    # 上海市人民政府办公厅: the PDF text lost 五、…; （一）2024 年工作中存在问题的改进情况 stands in its place
    e = extract_report("sh.md", read_fixture("shanghai-office-2025.md"))
    assert e.parts.how == ("heading",) * 4 + ("phrase", "heading") and all(e.parts.in_order)
    assert e.part_five.problems and e.part_five.measures


def test_headings_inside_flattened_text():
    e = extract_report("pt.txt", read_fixture("pingtan-zone-2021.txt"))
    assert all(a is not None for a in e.parts.at) and all(e.parts.in_order)
    assert e.part_five.first_problem.startswith("(一)存在的主要问题:政策解读形式不够丰富")


def test_a_page_cut_off_in_part_five_is_not_assessed_after_it(v):
    name = "xiongxian-township-2019.txt"    # the page ends in “五、存在的主”
    assert _f(v, name).empty
    assert set(RULES) <= set(v.not_assessed[name])
    assert v.not_assessed.why[name] == ["正文在「五、存在的主要问题及改进情况」的标题处中断（文本不完整），"
                                        "「六、其他需要报告的事项」是否齐全（form.sections）、第五部分写了什么（narrative.problems）未评估"]


def test_missing_part(v):
    f = _f(v, "no-five.txt")
    assert list(f["rule"]) == ["form.sections"]
    row = f.iloc[0]
    assert row["severity"] == "error" and row["where"] == "「五、存在的主要问题及改进情况」"
    assert row["message"] == "【错误】六部分齐全：「五、存在的主要问题及改进情况」：报告中未找到这一部分（按序号和标题关键词查找）。"
    assert "narrative.problems" in v.not_assessed["no-five.txt"]


def test_misplaced_part(v):
    f = _f(v, "swapped.txt")
    assert list(f["rule"]) == ["form.sections"]
    assert f.iloc[0]["message"] == "【错误】六部分齐全：「六、其他需要报告的事项」：这一部分位于「五、存在的主要问题及改进情况」之前，顺序不对。"


@pytest.mark.parametrize("name, said", [("five-none.txt", "无。"), ("five-empty.txt", "（只有标题，没有内容）")])
def test_part_five_that_says_nothing(v, name, said):
    f = _f(v, name)
    assert list(f["rule"]) == ["narrative.problems"]
    row = f.iloc[0]
    assert row["severity"] == "warning" and row["sentence"] == said
    assert row["message"] == (f"【提示】问题与改进措施：第五部分未写明存在的具体问题和改进措施（应写明至少一个具体问题和一项改进措施），"
                              f"所写为“{said}”")


def test_part_five_with_a_problem_and_no_measure(v):
    row = _f(v, "five-problem-only.txt").iloc[0]
    assert row["observed"] == "改进措施"
    assert row["sentence"].startswith("(一)存在的主要问题一是政务公开内容不全面")


def test_numbered_sub_items_are_not_parts():
    rows = text_to_rows("一、总体情况\n正文。\n三、本年度办理结果\n二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n"
                        "四、政府信息公开行政复议、行政诉讼情况\n五、存在的主要问题及改进情况\n六、其他需要报告的事项\n无。\n")
    parts = read_parts(rows)
    assert all(parts.in_order) and parts.cut is None   # 三、本年度办理结果 is a row of table 3, not part three
