"""No error on a guess (issue #14): a blank total beside numbers is unknown, not 0; a table row placed
only by its position supports a warning at most; a misprinted label whose number and place are certain
is read, with a note; table 4's numbers run together are split only when the split is forced; the
template blank 统计期限自至 is a placeholder. Seed 000 altered, one report per case, in one GX batch
with the untouched seed and the real damaged PDF text of 上海市人民政府办公厅."""
import pytest

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.pipeline import validate_reports

S000 = read_fixture("000_11add77ccab5606b.txt").decode()
NEW = "一、本年新收政府信息公开申请数量 | 1 | 0 | 0 | 0 | 0 | 0 | 1 | ||"
FORWARD = "四、结转下年度继续办理 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"
PARTIAL = "(二)部分公开(区分处理的,只计这一情形,不计其他情形) | 0 | 0 | 0 | 0 | 0 | 0 | 0 | ||"
LAW = "2.其他法律行政法规禁止公开 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | ||"
T4_START, T4_END = "行政复议 | 行政诉讼", "五、政府信息公开工作存在"
# table 4's two-level header run together with its numbers, as a crawler leaves it
T4_HEADER = ("行政复议行政诉讼结果维持结果纠正其他结果尚未审结总计未经复议直接起诉复议后起诉"
             "结果维持结果纠正其他结果尚未审结总计结果维持结果纠正其他结果尚未审结总计")
IDENTITIES = {"t3.flow", "t3.results", "t3.row_total", "t4.total"}


def _t4_run(digits: str) -> str:
    i, j = S000.index(T4_START), S000.index(T4_END)
    return S000[:i] + T4_HEADER + digits + "\n" + S000[j:]


ALTERED = {
    # 2 new requests: 1 granted, 1 carried forward under 自然人 with the 总计 cell left empty;
    # the figures agree, and 2 = 1 + blank would be an error only if the blank were 0
    "blank-forward.txt": S000.replace(NEW, NEW.replace("| 1 | 0 | 0 | 0 | 0 | 0 | 1 |", "| 2 | 0 | 0 | 0 | 0 | 0 | 2 |"))
                             .replace(FORWARD, "四、结转下年度继续办理 | 1 | 0 | 0 | 0 | 0 | 0 |  |")
                             .replace("共受理依申请公开件1件", "共受理依申请公开件2件"),
    # the 部分公开 row lost its label (as in a PDF-to-text conversion); its numbers agree
    "placed.txt": S000.replace(PARTIAL, " | 0 | 0 | 0 | 0 | 0 | 0 | 0 | ||"),
    # the same row, unlabelled, with a 1 that breaks its row total and the 自然人 column
    "placed-wrong.txt": S000.replace(PARTIAL, " | 1 | 0 | 0 | 0 | 0 | 0 | 0 | ||"),
    # the same 1 on the labelled row: the same identities are errors
    "labelled-wrong.txt": S000.replace(PARTIAL, PARTIAL.replace("| 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
                                                                "| 1 | 0 | 0 | 0 | 0 | 0 | 0 |")),
    # a misprinted label, 2. between 1. and 3. of 不予公开: certain by its number and place
    "misprint.txt": S000.replace(LAW, "2.其他法律行政止公开 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | ||"),
    "misprint-wrong.txt": S000.replace(LAW, "2.其他法律行政止公开 | 0 | 0 | 0 | 0 | 0 | 0 | 3 | ||"),
    # 15 single digits for 15 cells: 行政复议 结果维持 1, 总计 1
    "t4-run.txt": _t4_run("100010000000000"),
    # 17 digits for 15 cells (平潭 2021): not split
    "t4-run-17.txt": _t4_run("10203120001200000"),
    "no-dates.txt": S000.replace("本报告中所列数据的统计期限为2023年1月1日至2023年12月31日", "本报告中所列数据的统计期限自至"),
}


@pytest.fixture(scope="module")
def v():
    for name, text in ALTERED.items():
        assert text != S000, name
    reports = [extract_report("seed-000.txt", S000.encode()),
               extract_report("shanghai-office-2025.md", read_fixture("shanghai-office-2025.md"))]
    reports += [extract_report(name, text.encode()) for name, text in ALTERED.items()]
    return validate_reports(reports), {r.report: r for r in reports}


def _f(v, report, rules=None):
    f = v[0].findings
    f = f[f["report"] == report]
    return f[f["rule"].isin(rules)] if rules else f


def test_untouched_seed_has_no_finding(v):
    assert _f(v, "seed-000.txt").empty


def test_a_blank_total_beside_numbers_is_not_zero(v):
    validation, reports = v
    assert _f(v, "blank-forward.txt", IDENTITIES).empty          # no t3.flow, no t3.row_total
    blank = _f(v, "blank-forward.txt", ["zero.markers"])
    blank = blank[blank["cells"].map(lambda c: list(c) == ["t3.carried_forward.total"])].iloc[0]
    assert blank["observed"].startswith("总计空白，但分项有数") and "不按 0 计算" in blank["message"]
    assert {"t3.flow", "t3.row_total"} <= set(validation.not_assessed["blank-forward.txt"])
    # per line: which identities are not assessed, and why
    assert validation.not_assessed.why["blank-forward.txt"] == [
        "「四、结转下年度继续办理 · 总计」空白而分项有数，不按 0 计算，依赖它的t3.row_total（表三「四、结转下年度继续办理」行）、"
        "t3.flow（表三「总计」列）未评估"]
    # the dataset keeps what was written: a blank cell, value 0 as for every zero marker
    assert reports["blank-forward.txt"].raw["t3.carried_forward.total"] == ""
    # the 自然人 column is still checked, and holds: 2 + 0 = 1 + 1
    assert "t3.results" not in validation.not_assessed["blank-forward.txt"]


def test_a_row_placed_by_position_is_read_with_a_note(v):
    _, reports = v
    r = reports["placed.txt"]
    assert r.raw["t3.partially_granted.total"] == "0"
    assert r.placed == {"t3.partially_granted": "「三（二）部分公开」行标签缺失，按位置推定"}
    assert any("按其位置（「三（一）予以公开」与「三（三）不予公开 1.属于国家秘密」之间）推定为「三（二）部分公开」" in p
               for p in r.problems)
    assert _f(v, "placed.txt").empty                                # the figures agree: nothing to say


def test_an_identity_over_a_placed_row_is_a_warning_naming_the_doubt(v):
    f = _f(v, "placed-wrong.txt")
    assert set(f["rule"]) == {"t3.results", "t3.row_total"} and set(f["severity"]) == {"warning"}
    row = f[f["rule"] == "t3.row_total"].iloc[0]
    assert (row["observed"], row["expected"]) == ("0", "1")
    assert row["message"] == ("【提示】申请人合计：表三「三（二）部分公开」行（「三（二）部分公开」行标签缺失，按位置推定，只作提示）："
                              "总计填写为 0，但自然人与法人或其他组织之和为 1。")
    # where every line was read from its label, the same figures are errors
    labelled = _f(v, "labelled-wrong.txt")
    assert set(labelled["rule"]) == {"t3.results", "t3.row_total"} and set(labelled["severity"]) == {"error"}
    assert "按位置推定" not in "".join(labelled["message"])


def test_a_misprinted_label_certain_by_number_and_place_is_read(v):
    _, reports = v
    r = reports["misprint.txt"]
    assert r.raw["t3.denied_law_prohibited.total"] == "0" and r.placed == {}
    assert r.problems == ["t3.denied_law_prohibited: 行「2.其他法律行政止公开」的标签与格式不符，按其编号和位置"
                          "（「三（三）不予公开 1.属于国家秘密」与「三（三）不予公开 3.危及“三安全一稳定”」之间）"
                          "读作「三（三）不予公开 2.其他法律行政法规禁止公开」"]
    assert _f(v, "misprint.txt").empty
    # read with certainty, so a wrong total there is an error
    wrong = _f(v, "misprint-wrong.txt", ["t3.row_total"]).iloc[0]
    assert wrong["severity"] == "error" and wrong["where"] == "表三「三（三）不予公开 2.其他法律行政法规禁止公开」行"


def test_the_damaged_real_table_3_is_read_by_position_and_raises_nothing(v):
    _, reports = v
    r = reports["shanghai-office-2025.md"]
    assert set(r.placed) == {"t3.partially_granted", "t3.rejected_confirm", "t3.other_overdue_correction"}
    assert r.raw["t3.partially_granted.total"] == "2" and r.raw["t3.other_overdue_correction.total"] == "43"
    assert r.raw["t3.rejected_confirm.natural_person"] == "0"
    f = _f(v, "shanghai-office-2025.md")
    assert set(f["rule"]) == {"form.tables"} and list(f["where"]) == ["表二 主动公开政府信息情况"]  # t2 stays unread


def test_table_4_run_together_is_split_only_when_forced(v):
    _, reports = v
    r = reports["t4-run.txt"]
    assert [r.raw[f"t4.review.{c}"] for c in ("upheld", "corrected", "other", "pending", "total")] == ["1", "0", "0", "0", "1"]
    assert all(r.raw[f"t4.suit_after_review.{c}"] == "0" for c in ("upheld", "total"))
    assert _f(v, "t4-run.txt").empty
    cut = reports["t4-run-17.txt"]
    assert cut.raw["t4.review.total"] is None
    assert cut.problems == ["t4: 单元格连在一起（“10203120001200000”），无法确定如何拆分，未读取"]
    assert set(_f(v, "t4-run-17.txt")["rule"]) == {"form.tables"}


def test_pingtan_table_4_run_is_not_guessed():
    e = extract_report("pingtan-zone-2021.txt", read_fixture("pingtan-zone-2021.txt"))
    assert all(e.raw[k] is None for k in e.raw if k.startswith("t4."))
    assert "t4: 单元格连在一起（“10203120001200000”），无法确定如何拆分，未读取" in e.problems


def test_template_period_with_its_dates_removed_is_a_placeholder(v):
    f = _f(v, "no-dates.txt")
    assert list(f["rule"]) == ["form.placeholder"] and f.iloc[0]["severity"] == "warning"
    assert f.iloc[0]["sentence"].startswith("本报告中所列数据的统计期限自至")
