"""Each identity rule, on seed 000 altered to break it (one report per rule), validated in one
GX batch with the untouched seeds: the finding's rule, cells, expected and observed, and no
finding where the report is right."""
import pytest

from conftest import read_fixture
from giodq.extract import extract_report
from giodq.pipeline import validate_reports

SEED = read_fixture("000_11add77ccab5606b.txt").decode("utf-8")
T3_TOTAL = "(七)总计 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |"
T4_ROW = "0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"

# rule -> (text replaced, replacement)
BROKEN = {
    # 新收 1 + 结转 0 = 总计 1 + 结转下年度 0; the carried-forward total now says 2
    "t3.flow": ("四、结转下年度继续办理 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
                "四、结转下年度继续办理 | 0 | 0 | 0 | 0 | 0 | 0 | 2 |"),
    # a 予以公开 applicant cell and its total raised: results no longer add up to (七)总计
    "t3.results": ("(一)予以公开 | 1 | 0 | 0 | 0 | 0 | 0 | 1 |", "(一)予以公开 | 2 | 0 | 0 | 0 | 0 | 0 | 2 |"),
    # a row whose total disagrees with its applicants
    "t3.row_total": ("3.要求提供公开出版物 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
                     "3.要求提供公开出版物 | 0 | 0 | 0 | 0 | 0 | 0 | 4 |"),
    # 行政复议: 结果维持 3, 总计 0
    "t4.total": (T4_ROW, "3 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"),
    # a count written as a negative number
    "value.type": ("规章 | 0 | 0 | 0 |", "规章 | 0 | 0 | -2 |"),
}


@pytest.fixture(scope="module")
def validation():
    reports = [extract_report("seed-000.txt", SEED.encode())]
    for rule_id, (old, new) in BROKEN.items():
        assert old in SEED, old
        reports.append(extract_report(f"broken-{rule_id}.txt", SEED.replace(old, new).encode()))
    for name in ("002_40523efafb065443.txt", "004_47717d3cd7e0ea5b.txt"):
        reports.append(extract_report(name, read_fixture(name)))
    return validate_reports(reports)


def _findings(validation, report):
    return validation.findings[validation.findings["report"] == report]


IDENTITY_RULES = ("t3.flow", "t3.results", "t3.row_total", "t4.total", "value.type", "form.tables")


def test_untouched_reports_have_no_identity_findings(validation):
    f = validation.findings[validation.findings["rule"].isin(IDENTITY_RULES)]
    assert f["report"].str.startswith("broken-").all(), f


def test_t3_flow(validation):
    f = _findings(validation, "broken-t3.flow.txt")
    flow = f[f["rule"] == "t3.flow"].iloc[0]
    assert list(flow["cells"]) == ["t3.new_received.total", "t3.carried_over.total",
                                   "t3.total_processed.total", "t3.carried_forward.total"]
    assert (flow["observed"], flow["expected"]) == ("1", "3")
    assert flow["where"] == "表三「总计」列" and flow["severity"] == "error"
    assert "本年新收与上年结转之和为 1" in flow["message"]
    # the same edit breaks the carried-forward row's own total (0 applicants, total 2)
    assert set(f["rule"]) == {"t3.flow", "t3.row_total"}


def test_t3_results(validation):
    f = _findings(validation, "broken-t3.results.txt")
    res = f[f["rule"] == "t3.results"]
    assert set(res["where"]) == {"表三「自然人」列（2021 年格式，21 项办理结果）",
                                 "表三「总计」列（2021 年格式，21 项办理结果）"}
    row = res.iloc[0]
    assert row["cells"][0] == "t3.total_processed.natural_person" and len(row["cells"]) == 22
    assert (row["observed"], row["expected"]) == ("1", "2")


def test_t3_row_total(validation):
    f = _findings(validation, "broken-t3.row_total.txt")
    # the raised total also breaks the 总计 column's results sum
    assert sorted(f["rule"]) == ["t3.results", "t3.row_total"]
    row = f[f["rule"] == "t3.row_total"].iloc[0]
    assert row["cells"][0] == "t3.rejected_publication.total"
    assert (row["observed"], row["expected"]) == ("4", "0")
    assert "要求提供公开出版物" in row["where"]


def test_t4_total(validation):
    f = _findings(validation, "broken-t4.total.txt")
    assert list(f["rule"]) == ["t4.total"]
    row = f.iloc[0]
    assert list(row["cells"]) == ["t4.review.total", "t4.review.upheld", "t4.review.corrected",
                                  "t4.review.other", "t4.review.pending"]
    assert (row["observed"], row["expected"], row["where"]) == ("0", "3", "表四「行政复议」")


def test_value_type(validation):
    f = _findings(validation, "broken-value.type.txt")
    assert list(f["rule"]) == ["value.type"]
    row = f.iloc[0]
    assert list(row["cells"]) == ["t2.regulations.in_force"]
    assert (row["observed"], row["expected"]) == ("-2", "非负整数")


def test_missing_cell_is_not_assessed_not_passed():
    text = SEED.replace(T3_TOTAL, "(七)总计 | 1 | 0 | 0 |")  # row cut short: the cells cannot be located
    v = validate_reports([extract_report("cut.txt", text.encode())])
    assert set(v.findings["rule"]) == {"form.tables"}  # and no identity error: not assessed
    f = v.findings.iloc[0]
    assert "t3.total_processed.total" in list(f["cells"]) and f["where"].startswith("表三")
    assert {"t3.flow", "t3.results", "t3.row_total"} <= set(v.not_assessed["cut.txt"])
    assert v.cells.set_index("key").loc["t3.total_processed.total", "raw"] is None or \
        v.cells.set_index("key")["raw"].isna()["t3.total_processed.total"]


def test_legacy_report_gets_a_form_tables_warning_and_no_identity_assessed():
    v = validate_reports([extract_report("001.txt", read_fixture("001_183f359fdb579c94.txt"))])
    tables = v.findings[v.findings["rule"] == "form.tables"]
    assert len(tables) == 1 and tables.iloc[0]["severity"] == "warning"
    assert not v.findings["rule"].isin(IDENTITY_RULES[:-1]).any()
    assert {"t3.flow", "t3.results", "t3.row_total", "t4.total"} <= set(v.not_assessed["001.txt"])
