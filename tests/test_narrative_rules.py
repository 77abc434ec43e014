"""narrative.count, narrative.none, narrative.percent, form.placeholder: on real reports that must
fire them and real reports that must not, asserting the sentence, cells, expected and observed."""
import pytest

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.extract.claims import read_claims, sentences
from giodq.pipeline import validate_reports

REAL = ["000_11add77ccab5606b.txt", "001_183f359fdb579c94.txt", "002_40523efafb065443.txt",
        "003_72b5106183aba5ae.txt", "004_47717d3cd7e0ea5b.txt", "shuyang-drc-2023.html",
        "shuyang-county-2025.md", "shanghai-office-2025.md"]
NARRATIVE = ("narrative.count", "narrative.none", "narrative.percent", "form.placeholder")
S000 = read_fixture("000_11add77ccab5606b.txt").decode()


@pytest.fixture(scope="module")
def v():
    reports = [extract_report(n, read_fixture(n)) for n in REAL]
    # the narrative says 制定规范性文件0件; the table now says 2 issued
    altered = S000.replace("行政规范性文件 | 0 | 0 | 0 |", "行政规范性文件 | 2 | 0 | 2 |")
    reports.append(extract_report("none-contradicted.txt", altered.encode()))
    return validate_reports(reports)


def _narrative(v, report):
    f = v.findings
    return f[(f["report"] == report) & f["rule"].isin(NARRATIVE)]


@pytest.mark.parametrize("name", ["000_11add77ccab5606b.txt", "002_40523efafb065443.txt", "003_72b5106183aba5ae.txt",
                                  "shuyang-drc-2023.html", "shuyang-county-2025.md", "shanghai-office-2025.md"])
def test_real_reports_where_the_narrative_agrees(v, name):
    assert _narrative(v, name).empty, _narrative(v, name)[["rule", "sentence"]]


def test_narrative_count_seed_004(v):
    f = _narrative(v, "004_47717d3cd7e0ea5b.txt")
    assert list(f["rule"]) == ["narrative.count"]
    row = f.iloc[0]
    assert row["sentence"].endswith("2024 年我街道收到申请公开政府信息 2 件，均在规定期限内进行答复。")
    assert row["observed"] == "2" and row["expected"] == "6"   # both readings: 6 new, 6 + 0 carried over
    assert list(row["cells"]) == ["t3.new_received.total", "t3.carried_over.total"]
    assert row["severity"] == "error" and "收到申请公开政府信息 2 件" in row["message"]


def test_narrative_count_accepts_received_including_carried_over():
    # 沭阳县 2025: 受理 749 件 = 713 new + 36 carried over; 办理 718, 结转下一年 31
    e = extract_report("shuyang-county-2025.md", read_fixture("shuyang-county-2025.md"))
    counts = {c.subject: c.claimed for c in e.claims}
    assert counts["本年新收政府信息公开申请数量"] == 749
    assert counts["办理结果总计"] == 718 and counts["结转下年度继续办理"] == 31


def test_narrative_none_contradicted_by_the_table(v):
    f = _narrative(v, "none-contradicted.txt")
    assert list(f["rule"]) == ["narrative.none"]
    row = f.iloc[0]
    assert row["sentence"] == "2023年度,街道制定规范性文件0件,无失泄密事件发生。"
    assert (row["observed"], row["expected"]) == ("0", "2")
    assert list(row["cells"]) == ["t2.normative_docs.issued"]


def test_narrative_percent_seed_001_flags_only_the_wrong_share(v):
    f = _narrative(v, "001_183f359fdb579c94.txt")
    pct = f[f["rule"] == "narrative.percent"]
    assert len(pct) == 1   # the seven other shares of 1742 agree
    row = pct.iloc[0]
    assert row["sentence"] == "科教文体卫生类信息215条,占12.4%"
    assert row["observed"] == "12.4%" and row["expected"] == "215/1742 = 12.34%"


def test_form_placeholder_seed_001(v):
    f = _narrative(v, "001_183f359fdb579c94.txt")
    ph = f[f["rule"] == "form.placeholder"]
    assert len(ph) == 1 and ph.iloc[0]["severity"] == "warning"
    assert ph.iloc[0]["sentence"] == "本年报中所列数据的统计期限自年月日起至年12月31日止。"


def test_information_handling_fees_are_not_table_2_fees():
    # 信息处理费 (part six) is not 行政事业性收费: no claim is read from it
    s = sentences(["按照《政府信息公开信息处理费管理办法》规定的按件、按量收费标准，本年度没有产生政府信息公开处理费。",
                   "全县行政机关在办理2025年度信息公开申请中收取信息处理费共计380元，其中民政局1件，收取380元。"])
    assert read_claims(s) == []


def test_claims_of_none_about_reviews_are_not_about_requests():
    s = sentences(["2011年度未收到行政复议、提起行政诉讼的申请。", "全年未发生因依申请公开被行政复议纠错的情况。"])
    assert sorted(c.subject for c in read_claims(s)) == ["行政复议总计", "行政诉讼总计（未经复议直接起诉与复议后起诉）"]
