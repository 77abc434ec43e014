"""Extraction from every form a report comes in, on real files: cells against the hand-read
values; unreadable tables produce form.tables and no identity error."""
import json

import pytest

from conftest import FIXTURES, read_fixture
from giodq.extract import extract_report
from giodq.extract.numbers import parse_value
from giodq.pipeline import validate_reports

CORPUS = json.loads((FIXTURES / "corpus-expected.json").read_text(encoding="utf-8"))
IDENTITIES = {"t3.flow", "t3.results", "t3.row_total", "t4.total"}


def _check_cells(e, name):
    want = CORPUS[name]
    assert e.status == "ok" and e.year == want["year"] and e.format == want["format"]
    for key, value in want.get("cells", {}).items():
        assert parse_value(e.raw[key]) == value, key


def _rules(e):
    v = validate_reports([e])
    return v, set(v.findings["rule"])


@pytest.mark.parametrize("name", ["huaian-city-2024.pdf", "shuyang-drc-2023.html", "shuyang-county-2025.md",
                                  "shanghai-office-2025.md"])
def test_readable_forms_against_hand_read_cells(name):
    e = extract_report(name, read_fixture(name))
    _check_cells(e, name)
    if CORPUS[name]["body"]:
        assert CORPUS[name]["body"] in e.body or e.body in CORPUS[name]["body"] or name.startswith("shuyang-county")


def test_pdf_table_split_over_two_pages_with_a_broken_label():
    e = extract_report("huaian.pdf", read_fixture("huaian-city-2024.pdf"))
    assert e.media == "pdf" and e.body == "淮安市人民政府"
    assert [k for k, v in e.raw.items() if v is None] == []
    assert e.raw["t3.unable_needs_creation.total"] == "11"   # under （四）无 / 法提供, across the page break
    assert e.raw["t3.other_overdue_fee.natural_person"] == "6"  # item numbered 2、 with a label over 3 lines
    v, rules = _rules(e)
    assert rules == set(), v.findings[["rule", "where", "observed"]]


def test_scanned_pdf_is_form_tables_not_zeros():
    e = extract_report("scan.pdf", read_fixture("huaian-city-2024-p4-scan.pdf"))
    assert e.status == "ok" and "扫描件" in e.problems[0]
    assert all(v is None for v in e.raw.values())
    v, rules = _rules(e)
    assert "form.tables" in rules and not rules & IDENTITIES
    assert v.cells["value"].isna().all()


def test_docx_made_from_the_real_page():
    e = extract_report("shuyang-drc-2023.docx", read_fixture("shuyang-drc-2023.docx"))
    assert e.media == "docx" and e.body == "沭阳县发展和改革局"
    _check_cells(e, "shuyang-drc-2023.html")
    assert e.raw["t3.new_received.commercial"] == ""       # merged blank 法人 cells stay blank
    assert [k for k, v in e.raw.items() if v is None] == []


def test_gbk_page_declared_in_its_meta_tag():
    html = read_fixture("shuyang-drc-2023.html").decode("utf-8").replace('charset="utf-8"', 'charset="gbk"')
    html = html.replace('charset=utf-8', 'charset=gbk')
    e = extract_report("gbk.html", html.encode("gb18030"))
    assert e.body == "沭阳县发展和改革局"
    _check_cells(e, "shuyang-drc-2023.html")


def test_markdown_with_renamed_columns():
    e = extract_report("sy.md", read_fixture("shuyang-county-2025.md"))
    assert e.body == "沐阳县人民政府"   # misspelt on the page (沭阳): kept as written
    assert [k for k, v in e.raw.items() if v is None] == []
    assert e.raw["t2.fees.amount"] == "4068.208"


def test_damaged_table_2_is_named_never_filled_in():
    e = extract_report("sh.md", read_fixture("shanghai-office-2025.md"))
    assert e.raw["t2.regulations.issued"] is None       # "| 规章 | 22 | 235 |": a cell lost, not guessed
    assert any("t2.regulations" in p for p in e.problems)
    v, rules = _rules(e)
    tables = v.findings[v.findings["rule"] == "form.tables"]
    assert any("t2.regulations.issued" in list(c) for c in tables["cells"])
    assert not rules & (IDENTITIES | {"narrative.count", "narrative.none"})


def test_cells_run_together_are_not_split_but_single_numbers_are_read():
    e = extract_report("pt.txt", read_fixture("pingtan-zone-2021.txt"))
    _check_cells(e, "pingtan-zone-2021.txt")
    assert e.raw["t3.new_received.total"] is None         # 640020470: 64,0,0,2,0,4,70 is not guessed
    assert any("640020470" in p for p in e.problems)
    assert e.raw["t3.carried_over.total"] == "0"          # 0000000: seven digits for seven cells
    v, rules = _rules(e)
    assert "form.tables" in rules and not rules & IDENTITIES


@pytest.mark.parametrize("name", ["xiongxian-township-2019.txt", "guihuaping-street-2020.txt"])
def test_tables_with_no_numbers_are_missing_not_zero(name):
    e = extract_report(name, read_fixture(name))
    assert e.format == "2019" and e.year == CORPUS[name]["year"]
    assert all(v is None for v in e.raw.values())
    v, rules = _rules(e)
    assert "form.tables" in rules and not rules & IDENTITIES
    assert v.findings[v.findings["rule"] == "form.tables"]["severity"].eq("error").all()


def test_2019_format_tables():
    text = read_fixture("000_11add77ccab5606b.txt").decode().replace("2023", "2020")
    start, end = text.index("第二十条第(一)项"), text.index("三、行政机关收到和处理")
    t2 = ("第二十条第(一)项 | |||\n信息内容 | 本年新制作数量 | 本年新公开数量 | 对外公开总数量 |\n规章 | 0 | 0 | 0 |\n"
          "规范性文件 | 2 | 2 | 15 |\n第二十条第(五)项 | |||\n信息内容 | 上一年项目数量 | 本年增/减 | 处理决定数量 |\n"
          "行政许可 | 12 | -1 | 30 |\n其他对外管理服务事项 | 3 | 0 | 5 |\n第二十条第(六)项 | |||\n"
          "行政处罚 | 8 | 2 | 40 |\n行政强制 | 1 | 0 | 2 |\n第二十条第(八)项 | |||\n行政事业性收费 | 2 | 0 | |\n"
          "第二十条第(九)项 | |||\n信息内容 | 采购项目数量 | 采购总金额 | |\n政府集中采购 | 4 | 56.5 | |\n")
    text = text[:start] + t2 + text[end:]
    other = text.index("(六)其他处理 | 1.申请人")
    text = text[:other] + "(六)其他处理 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |\n" + text[text.index("(七)总计"):]
    e = extract_report("2020.txt", text.encode())
    assert e.format == "2019" and e.year == 2020
    assert e.raw["t2.licensing.change"] == "-1" and e.raw["t2.procurement.amount"] == "56.5"
    assert e.raw["t3.other_other.total"] == "0" and "t3.other_overdue_fee.total" not in e.raw
    assert [k for k, v in e.raw.items() if v is None] == []
    v, rules = _rules(e)
    assert not rules & (IDENTITIES | {"value.type", "form.tables"}), v.findings
    assert "t3.results" not in v.not_assessed.get("2020.txt", [])   # the 19-item sum was checked
