"""What a reviewer sees, in headless Chromium (Debian's chromium, driven by Playwright): the
site built from samples/ opens from its folder with no network, the index leads to each
report's findings in one click, and hostile report text is shown, never run."""
import shutil

import pytest

from conftest import SAMPLES, read_fixture
from giodq.pipeline import run

HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">.txt'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for p in SAMPLES.iterdir():
        shutil.copy(p, src / p.name)
    (src / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (src / "notes.json").write_text('{"note": "not a report"}')  # readable, no table: every cell missing
    # seed 004 with script in its title and in the sentence its finding quotes
    text = read_fixture("004_47717d3cd7e0ea5b.txt").decode()
    text = text.replace("湛河区轻工路街道办事处 2024 年政府信息公开工作 年度报告",
                        "<script>window.__pwned=2</script>湛河区轻工路街道办事处2024年政府信息公开工作年度报告", 1)
    text = text.replace("2024 年我街道收到申请公开政府信息 2 件",
                        "<img src=y onerror=\"window.__pwned=3\">2024 年我街道收到申请公开政府信息 2 件", 1)
    (src / HOSTILE_NAME).write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    run(str(src), out)
    return out / "data_docs"


def test_index_lists_reports_worst_first_and_failed_inputs(site, page):
    page.goto((site / "index.html").as_uri())
    rows = page.locator("#giodq-report-list tbody tr")
    names = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert len(names) == 7 and names[0] in ("004_47717d3cd7e0ea5b.txt", HOSTILE_NAME, "notes.json")
    for seed in ("000_11add77ccab5606b.txt", "001_183f359fdb579c94.txt", "002_40523efafb065443.txt",
                 "003_72b5106183aba5ae.txt"):
        assert seed in names
    assert "scan.png" in page.locator(".giodq-failed").inner_text()
    assert "PNG 图像" in page.locator(".giodq-failed").inner_text()
    assert page.outside == []


def test_one_click_from_the_index_to_seed_004s_findings(site, page):
    page.goto((site / "index.html").as_uri())
    page.click("a.giodq-report-link:text-is('004_47717d3cd7e0ea5b.txt')")      # the one click
    page.wait_for_load_state()
    finding = page.locator("li.giodq-finding[data-rule='narrative.count']")
    assert "正文数字与表格不符" in finding.inner_text()
    assert "2024 年我街道收到申请公开政府信息 2 件，均在规定期限内进行答复。" in finding.locator(".giodq-sentence").inner_text()
    assert finding.locator(".giodq-observed").inner_text() == "2"
    assert finding.locator(".giodq-expected").inner_text() == "6"
    assert "一、本年新收政府信息公开申请数量 · 总计" in finding.inner_text()
    assert page.locator("h1").inner_text().startswith("湛河区轻工路街道办事处")
    # the source file and GX's validation page are linked, and GX's page links back
    assert page.locator("a.giodq-source-link").inner_text() == "查看原文本"   # a text file, shown as text
    finding.locator("a:text('验证结果（GX）')").click()
    page.wait_for_load_state()
    assert "claims" in page.url
    page.click("a.giodq-nav-reports")
    page.wait_for_selector("#giodq-report-list")
    assert page.outside == []


def test_a_report_with_no_cells_shows_them_as_not_read(site, page):
    page.goto((site / "index.html").as_uri())
    page.click("a.giodq-report-link:text-is('notes.json')")
    page.wait_for_load_state()
    assert page.locator("li.giodq-finding[data-rule='form.tables']").count() == 3
    assert page.locator("td.giodq-missing").count() == 200   # every cell of the 2021 tables: 未读取, never 0
    assert page.locator("td.giodq-missing").first.inner_text() == "未读取"


def test_hostile_text_is_shown_not_run(site, page):
    page.goto((site / "index.html").as_uri())
    link = page.locator("a.giodq-report-link", has_text="onerror")
    assert link.inner_text() == HOSTILE_NAME
    link.click()
    page.wait_for_load_state()
    assert page.locator(".giodq-report-title").inner_text().startswith("<script>window.__pwned=2</script>")
    assert '<img src=y onerror="window.__pwned=3">' in page.locator(".giodq-sentence").first.inner_text()
    page.locator("a:text('验证结果（GX）')").first.click()   # GX's page shows the sentence too
    page.wait_for_load_state()
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.goto((site / "index.html").as_uri())
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.outside == []
