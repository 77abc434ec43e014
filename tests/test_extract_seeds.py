"""Extraction on the real seed and corpus files, against the values read by hand."""
import json

import pytest

from conftest import FIXTURES, read_fixture
from giodq.extract import extract_report

SEEDS = ["000_11add77ccab5606b.txt", "001_183f359fdb579c94.txt", "002_40523efafb065443.txt",
         "003_72b5106183aba5ae.txt", "004_47717d3cd7e0ea5b.txt"]


def _check(name: str, want: dict):
    e = extract_report(name, read_fixture(name))
    assert e.status == "ok"
    assert e.format == want["format"]
    assert e.year == want["year"]
    if want["body"]:
        assert want["body"] in e.body or e.body in want["body"]
    for key, value in want.get("cells", {}).items():
        from giodq.extract.numbers import parse_value
        assert parse_value(e.raw[key]) == value, key
    return e


@pytest.mark.parametrize("name", SEEDS)
def test_seed_meta_and_cells(name, seeds_expected):
    _check(name, seeds_expected[name])


@pytest.mark.parametrize("name", ["000_11add77ccab5606b.txt", "002_40523efafb065443.txt",
                                  "003_72b5106183aba5ae.txt", "004_47717d3cd7e0ea5b.txt"])
def test_every_cell_of_the_2021_tables_is_located(name):
    e = extract_report(name, read_fixture(name))
    assert [k for k, v in e.raw.items() if v is None] == []


def test_seed_004_label_typo_and_tab_layout():
    # table 2 header reads 本年度止件数 (a mangled 本年废止件数); rows are tab-separated
    e = extract_report("004.txt", read_fixture("004_47717d3cd7e0ea5b.txt"))
    assert e.raw["t2.regulations.repealed"] == "0"
    assert e.raw["t3.unable_not_held.natural_person"] == "6"
    assert e.raw["t3.total_processed.total"] == "6"


def test_seed_001_free_text_template_has_no_tables():
    e = extract_report("001.txt", read_fixture("001_183f359fdb579c94.txt"))
    assert e.format == "legacy" and e.raw == {} and e.year is None


def test_html_page_with_split_labels_and_blank_cells():
    want = json.loads((FIXTURES / "corpus-expected.json").read_text(encoding="utf-8"))
    e = _check("shuyang-drc-2023.html", want["shuyang-drc-2023.html"])
    assert e.media == "html"
    assert e.body == "沭阳县发展和改革局"          # the 发布机构 field, not the site chrome
    assert e.published.isoformat() == "2024-01-17"
    # 法人 columns left blank (<o:p> </o:p>): kept as blank raw text, not dropped or shifted
    assert e.raw["t3.new_received.commercial"] == ""
    assert e.raw["t3.new_received.total"] == "26"
    assert e.raw["t4.review.pending"] == "1" and e.raw["t4.review.total"] == "1"
    # table 2 says 规范性文件 where the 2021 form says 行政规范性文件
    assert e.raw["t2.normative_docs.issued"] == "8"
