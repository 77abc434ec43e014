"""Rows and labels: the text forms reports come in, and label variants."""
from giodq.extract.layout import html_to_rows, text_to_rows
from giodq.extract.numbers import parse_value
from giodq.extract.tables import fit_values, norm_label, read_tables


def test_pipe_rows_one_per_line():
    rows = text_to_rows("规章 | 0 | 0 | 0 |\n行政许可 | 5 | ||\n")
    assert rows == [["规章", "0", "0", "0"], ["行政许可", "5", "", ""]]


def test_markdown_rows_and_a_lost_cell_is_not_guessed():
    rows = text_to_rows("| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n|---|---|---|---|\n| 规章 | 22 | 235 |\n"
                        "| 一、本年新收政府信息公开申请数量 | 26 | | | | | | |\n")
    assert rows[1] == ["规章", "22", "235"]           # the opening and closing pipes bound no cell
    assert rows[2][-1] == ""                          # a blank last cell between pipes is a cell
    read = read_tables(rows, "2021")
    assert read.raw["t2.regulations.issued"] is None  # 2 numbers for 3 columns: which one is lost is unknown
    assert read.raw["t3.new_received.total"] == ""


def test_label_and_number_in_one_cell():
    read = read_tables(text_to_rows("行政许可 2293\n规章 0 0 0\n"), "2021")
    assert read.raw["t2.licensing.decisions"] == "2293"
    assert [read.raw[f"t2.regulations.{c}"] for c in ("issued", "repealed", "in_force")] == ["0", "0", "0"]


def test_one_cell_per_line_rows_end_at_a_cell_without_pipe_or_at_the_next_label():
    text = "规章 |\n1 |\n2 |\n3\n行政许可 |\n7 |\n||\n行政处罚 |\n8\n三、收到和处理政府信息公开申请情况\n"
    assert text_to_rows(text) == [["规章", "1", "2", "3"], ["行政许可", "7", "", ""], ["行政处罚", "8"],
                                  ["三、收到和处理政府信息公开申请情况"]]


def test_tab_rows_keep_leading_blank_cells():
    assert text_to_rows("\t(三) 不予公开\t1. 属于国家秘密\t0\t0") == [["", "(三) 不予公开", "1. 属于国家秘密", "0", "0"]]


def test_label_numbering_and_spacing_variants():
    assert norm_label("（一）予以公开") == norm_label("(一)予以公开") == "予以公开"
    assert norm_label("1.属于国家秘密") == norm_label("1、属于国家秘密") == norm_label("1. 属于国家秘密")
    assert norm_label("自 然 人") == "自然人"
    assert norm_label("3.危及“三安全一稳定”") == "危及三安全一稳定"


def test_fit_values_drops_padding_but_keeps_inner_blanks():
    assert fit_values(["", "6", "0", "0", "0", "0", "0", "6", ""], 7) == ["6", "0", "0", "0", "0", "0", "6"]
    assert fit_values(["26", "", "", "", "", "", "26"], 7) == ["26", "", "", "", "", "", "26"]
    assert fit_values(["640020470"], 7) is None  # cells run together: never guess a split


def test_a_row_with_too_few_numbers_is_missing_not_zero():
    read = read_tables(text_to_rows("规章 | 640020 |\n"), "2021")
    assert read.raw["t2.regulations.issued"] is None
    assert read.problems and "t2.regulations" in read.problems[0]


def test_html_skips_scripts_and_joins_split_labels():
    rows, title = html_to_rows("<html><head><title>T</title><script>var x='规章'</script></head><body>"
                               "<table><tr><td><span>行政</span><span>许可</span></td><td>&nbsp;</td>"
                               "<td>3</td></tr></table></body></html>")
    assert title == "T"
    assert rows == [["行政许可", "", "3"]]


def test_values_keep_raw_and_read_notes_and_markers():
    assert parse_value("22（其中修订16件）") == 22
    assert parse_value("—") == 0 and parse_value("") == 0 and parse_value("无") == 0
    assert parse_value("4,068.208") == 4068.208
    assert parse_value(None) is None and parse_value("abc") is None
