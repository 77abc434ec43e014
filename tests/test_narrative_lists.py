"""Narrative rules of issue #14: a sentence listing the results one by one makes one claim per result
group of table 3 (never one about the total handled); a sentence about a part of the body says whose
count it gives; narrative.all_done (every request handled while some are carried forward). Seed 004
altered, in one GX batch, and the real reports that must not fire."""
import pytest

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.extract.claims import read_claims, read_enumerations, sentences
from giodq.pipeline import validate_reports

S004 = read_fixture("004_47717d3cd7e0ea5b.txt").decode()
SENT = "2024 年我街道收到申请公开政府信息 2 件，均在规定期限内进行答复。"
NEW = "一、本年新收政府信息公开申请数量\t\t6\t0\t0\t0\t0\t0\t6\t"
FORWARD = "四、结转下年度继续办理\t\t0\t0\t0\t0\t0\t0\t0\t"
LIST = "全年办结的申请中，同意公开 {g} 件，部分公开 0 件，不予公开 0 件，无法提供 {u} 件，不予处理 0 件，其他处理 0 件。"
NARRATIVE = {"narrative.count", "narrative.none", "narrative.all_done"}
REAL = ["000_11add77ccab5606b.txt", "002_40523efafb065443.txt", "003_72b5106183aba5ae.txt", "shuyang-drc-2023.html",
        "shuyang-county-2025.md", "shanghai-office-2025.md", "huaian-city-2024.pdf"]

ALTERED = {
    # table 3 says 6 new, all 无法提供 (unable_not_held 6): the list agrees
    "list.txt": S004.replace(SENT, "2024 年我街道收到申请公开政府信息 6 件。" + LIST.format(g=0, u=6)),
    "list-wrong.txt": S004.replace(SENT, "2024 年我街道收到申请公开政府信息 6 件。" + LIST.format(g=1, u=5)),
    "behalf.txt": S004.replace(SENT, "2024 年，街道党政办代表街道办事处受理政府信息公开申请 2 件，均在规定期限内进行答复。"),
    # 7 new, 1 carried forward, and the narrative says all were handled
    "all-done.txt": S004.replace(SENT, "2024 年我街道收到申请公开政府信息 7 件，均已办结。")
                        .replace(NEW, NEW.replace("\t6\t", "\t7\t")).replace(FORWARD, "四、结转下年度继续办理\t\t1\t0\t0\t0\t0\t0\t1\t"),
    "all-done-true.txt": S004.replace(SENT, "2024 年我街道收到申请公开政府信息 6 件，均已办结。"),
}


@pytest.fixture(scope="module")
def v():
    for name, text in ALTERED.items():
        assert text != S004, name
    reports = [extract_report(n, read_fixture(n)) for n in REAL]
    reports += [extract_report(name, text.encode()) for name, text in ALTERED.items()]
    return validate_reports(reports)


def _f(v, report):
    f = v.findings
    return f[(f["report"] == report) & f["rule"].isin(NARRATIVE)]


def test_the_issues_list_makes_one_claim_per_group_and_none_about_the_total():
    s = ("全年办结的申请中，同意公开 5 件，部分公开 1 件，不予公开 2 件，无法提供 7 件，不予处理 0 件，其他处理 3 件，"
         "另有 2 件结转下年度办理。")
    claims = read_enumerations([s]) + read_claims(sentences([s]))
    got = {(c.subject, c.claimed) for c in claims}
    assert got == {("三（一）予以公开", 5), ("三（二）部分公开", 1), ("三（三）不予公开（各项之和）", 2),
                   ("三（四）无法提供（各项之和）", 7), ("三（五）不予处理（各项之和）", 0),
                   ("三（六）其他处理（各项之和）", 3), ("结转下年度继续办理", 2)}
    denied = next(c for c in claims if c.subject.startswith("三（三）"))
    assert len(denied.readings[0]) == 8 and all(k.endswith(".total") for k in denied.readings[0])
    # 办结的申请中同意公开 5 件 is no count of requests handled, even without the comma
    assert not [c for c in read_claims(sentences(["全年办结的申请中同意公开 5 件，部分公开 1 件。"]))
                if c.subject == "办理结果总计"]


def test_joined_groups_are_one_claim_on_their_sum():
    # 上海市人民政府办公厅 2025: 予以公开及部分公开 208 件 = 206 + 2
    e = extract_report("sh.md", read_fixture("shanghai-office-2025.md"))
    joined = [c for c in e.claims if c.subject == "三（一）予以公开及三（二）部分公开"]
    assert [(c.claimed, c.readings) for c in joined] == [(208, (("t3.granted.total", "t3.partially_granted.total"),))]


@pytest.mark.parametrize("name", REAL)
def test_real_reports_raise_no_narrative_finding(v, name):
    assert _f(v, name).empty, _f(v, name)[["rule", "sentence"]]


def test_a_list_that_agrees_raises_nothing(v):
    assert _f(v, "list.txt").empty


def test_each_listed_count_against_its_own_group(v):
    f = _f(v, "list-wrong.txt")
    assert sorted(zip(f["where"], f["observed"], f["expected"])) == [
        ("三（一）予以公开", "1", "0"), ("三（四）无法提供（各项之和）", "5", "6")]
    row = f[f["where"] == "三（四）无法提供（各项之和）"].iloc[0]
    assert list(row["cells"]) == ["t3.unable_not_held.total", "t3.unable_needs_creation.total", "t3.unable_unclear.total"]
    assert row["message"] == ("【错误】正文数字与表格不符：正文称“" + LIST.format(g=1, u=5)
                              + "”，即三（四）无法提供（各项之和） 5 件，但表格中为 6。")


def test_a_count_given_by_a_part_of_the_body_says_whose_it_is(v):
    f = _f(v, "behalf.txt")
    assert list(f["rule"]) == ["narrative.count"]
    row = f.iloc[0]
    assert row["where"] == "本年新收政府信息公开申请数量（句中所述为街道党政办代表街道办事处的件数）"
    assert (row["observed"], row["expected"]) == ("2", "6")
    assert "街道党政办代表街道办事处的件数" in row["message"]


def test_all_done_while_some_are_carried_forward(v):
    f = _f(v, "all-done.txt")
    assert list(f["rule"]) == ["narrative.all_done"]
    row = f.iloc[0]
    assert row["severity"] == "error" and list(row["cells"]) == ["t3.carried_forward.total"]
    assert row["message"] == ("【错误】正文称全部办结与结转不符：正文称“(二) 依申请公开:2024 年我街道收到申请公开政府信息 7 件，"
                              "均已办结。”，即申请已全部办结，但表格中结转下年度继续办理为 1。")
    assert _f(v, "all-done-true.txt").empty


def test_all_done_reads_only_claims_about_requests():
    said = ["本年度收到的政府信息公开申请均在法定期限内办结完毕。", "全年共受理申请 12 件，已全部办结。"]
    not_said = ["人大代表建议和政协提案均已办结。", "上年结转的 3 件申请均已办结。",
                "除 2 件结转下年度外，其余申请均已办结。", "收到申请 10 件，均在法定期限内予以答复。"]
    assert [c.rule for c in read_claims(sentences(said)) if c.rule == "narrative.all_done"] == ["narrative.all_done"] * 2
    assert not [c for c in read_claims(sentences(not_said)) if c.rule == "narrative.all_done"]


def test_a_part_of_a_listed_count_is_no_claim_on_either_group():
    # 予以公开 5 件（含部分公开 1 件）: 5 may be 予以公开 and 部分公开 together; neither is compared
    for s in ("全年办结的申请中，予以公开 5 件（含部分公开 1 件），不予公开 2 件，无法提供 7 件。",
              "全年办结的申请中，予以公开 5 件，其中部分公开 1 件，不予公开 2 件，无法提供 7 件。"):
        assert [(c.subject, c.claimed) for c in read_enumerations([s])] == [
            ("三（三）不予公开（各项之和）", 2), ("三（四）无法提供（各项之和）", 7)]


def test_whose_count_only_for_an_office_acting_for_the_body():
    [claim] = read_claims(sentences(["2024 年，区政府办代表区政府受理政府信息公开申请 30 件。"]))
    assert claim.subject == "本年新收政府信息公开申请数量（句中所述为区政府办代表区政府的件数）" and claim.claimed == 30
    [plain] = read_claims(sentences(["召集企业代表座谈，全年共受理政府信息公开申请 30 件。"]))
    assert plain.subject == "本年新收政府信息公开申请数量"
