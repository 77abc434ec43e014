"""The district dashboard on the site's index (publish/dashboard.py): the coverage table by unit and
year, the three charts as SVG files in the site, in headless Chromium with no request leaving the
machine; a hostile unit name shown as text; a review's redraw keeps the dashboard; empty inputs."""
import logging
import re
import shutil
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from giodq.publish import dashboard, docs
from giodq.publish.review import Reviews
from giodq.publish.sources import report_id

HOSTILE = '<script>window.__pwned=1</script>]]><img src=x onerror="window.__pwned=2">局'
SVG = "{http://www.w3.org/2000/svg}"
GOV, EDU, FIN, HEALTH = "某某区人民政府", "某某区教育局", "某某区财政局", "某某区卫生健康委员会"
CITY, EAST, RIVER, CENTRE = "城关街道办事处", "东城街道办事处", "河口镇人民政府", "某某区政务服务中心"
LEVEL_OF = {GOV: "本级政府", EDU: "部门", FIN: "部门", HEALTH: "部门", CITY: "乡镇街道", EAST: "乡镇街道",
            RIVER: "乡镇街道"}
YEARS = (2022, 2023, 2024)
# unit -> status per year (None: no row)
STATUS = {
    GOV: ("published", "published", "late"),
    EDU: ("published", "duplicate", "published"),
    FIN: ("missing", "published", "published"),
    HEALTH: ("published", "missing", "missing"),
    CITY: ("published", "published", "published"),
    EAST: ("late", "published", "missing"),
    RIVER: ("published", "published", "duplicate"),
    CENTRE: (None, "not_on_roster", "not_on_roster"),
}


def key(unit: str, year: int, n: int = 1) -> str:
    return f"{year}/{unit}{'' if n == 1 else f'（{n}）'}.txt"


def frames(hostile: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """coverage, summary, findings and the reports table of a small district."""
    status = STATUS | ({HOSTILE: (None, None, "not_on_roster")} if hostile else {})
    rows = []
    for unit, by_year in status.items():
        for year, s in zip(YEARS, by_year):
            if s is None:
                continue
            reports = [] if s == "missing" else [key(unit, year)] + ([key(unit, year, 2)] if s == "duplicate" else [])
            rows.append({"unit": unit, "level": LEVEL_OF.get(unit), "year": year, "status": s, "reports": reports,
                         "counted": reports[-1] if reports else None, "body": unit if reports else None,
                         "parent": GOV if LEVEL_OF.get(unit) == "部门" else None, "on_roster": unit in LEVEL_OF})
    # the dtypes of dataset/coverage.parquet and summary.parquet: string columns hold NA
    coverage = pd.DataFrame(rows).astype({"year": "int64", "on_roster": "bool"} | {
        c: "string" for c in ("unit", "level", "status", "counted", "body", "parent")})
    received = {2022: 41.0, 2023: 57.0, 2024: 66.0}
    summary = pd.DataFrame(
        [{"scope": "level", "year": y, "level": "全部", "unit": None, "key": "t3.new_received.total",
          "label": "本年新收政府信息公开申请数量", "value": v, "reports": 7, "previous": None, "change": None,
          "ratio": None} for y, v in received.items()]
        + [{"scope": "level", "year": 2024, "level": "部门", "unit": None, "key": "t3.new_received.total",
            "label": "本年新收政府信息公开申请数量", "value": 20.0, "reports": 3, "previous": None, "change": None,
            "ratio": None},
           {"scope": "level", "year": 2024, "level": "全部", "unit": None, "key": "t3.carried_over.total",
            "label": "上年结转", "value": 5.0, "reports": 7, "previous": None, "change": None, "ratio": None},
           {"scope": "unit", "year": 2024, "level": "部门", "unit": EDU, "key": "new_received",
            "label": "本年新收", "value": 9.0, "reports": 1, "previous": 4.0, "change": 5.0, "ratio": 2.25}]
    ).astype({"year": "int64", "reports": "int64"} | {c: "string" for c in ("scope", "level", "unit", "key", "label")})
    published = coverage[coverage["counted"].notna()]
    reports = pd.DataFrame([{"report": r, "status": "ok", "body": u, "year": y, "format": "2021", "media": "text",
                             "title": f"{u}{y}年政府信息公开工作年度报告", "published": None, "not_assessed": [],
                             "notes": [], "error": None}
                            for rs, u, y in zip(published["reports"], published["unit"], published["year"])
                            for r in rs])
    f = [("t3.flow", "error", None), ("t3.flow", "error", "confirmed"), ("t3.flow", "error", None),
         ("t3.results", "error", None), ("zero.markers", "warning", None), ("zero.markers", "warning", "dismissed"),
         ("cross_year.carry", "error", None)]
    findings = pd.DataFrame([{"report": reports["report"].iloc[i], "rule": rule, "severity": sev, "state": state,
                              "title": "t", "where": "表三", "expected": "1", "observed": "2", "sentence": None,
                              "message": "m", "cells": []} for i, (rule, sev, state) in enumerate(f)])
    return coverage, summary, findings, reports


def build(folder: Path, coverage, summary, findings, reports=None, district=True) -> Path:
    if reports is None:
        reports = pd.DataFrame(columns=["report", "status"])
    return docs.build_data_docs({}, folder, reports, findings, None,
                                district={"coverage": coverage, "summary": summary} if district else None)


@pytest.fixture(scope="module")
def district():
    return frames()


@pytest.fixture(scope="module")
def site(tmp_path_factory, district):
    coverage, summary, findings, reports = district
    return build(tmp_path_factory.mktemp("site") / "data_docs", coverage, summary, findings, reports).parent


def board_of(page_html: str) -> str:
    start, end = docs._DASHBOARD
    assert page_html.count(start) == 1 and page_html.count(end) == 1
    return page_html[page_html.index(start):page_html.index(end) + len(end)]


def test_the_coverage_table_shows_each_unit_and_year(site, page):
    page.goto((site / "index.html").as_uri())
    table = page.locator("#giodq-coverage")
    assert [table.locator("thead th").nth(i).inner_text() for i in range(5)] == ["单位", "层级", "2022", "2023", "2024"]
    rows = table.locator("tbody tr")
    units = [rows.nth(i).locator("th").inner_text() for i in range(rows.count())]
    # by level (本级政府, 部门, 乡镇街道) then name; the units not on the roster last
    assert units == [GOV, *sorted([EDU, FIN, HEALTH]), *sorted([CITY, EAST, RIVER]), *sorted([CENTRE, HOSTILE])]
    labels = {"published": "已发布", "missing": "未发布", "duplicate": "重复发布", "late": "逾期发布",
              "not_on_roster": "不在名册"}
    for i, unit in enumerate(units):
        row = rows.nth(i)
        assert row.locator("td").first.inner_text() == LEVEL_OF.get(unit, "—")
        for year, status in zip(YEARS, (STATUS | {HOSTILE: (None, None, "not_on_roster")})[unit]):
            cell = row.locator(f"td[data-year='{year}']")
            if status is None:
                assert cell.inner_text() == "—" and "giodq-cov-none" in cell.get_attribute("class")
                continue
            assert cell.get_attribute("data-status") == status
            assert f"giodq-cov-{status}" in cell.get_attribute("class")
            assert cell.inner_text().startswith(labels[status])
            link = cell.locator("a")
            if status == "missing":
                assert link.count() == 0
            else:   # the report that counts: the last of a duplicate's
                counted = key(unit, year, 2 if status == "duplicate" else 1)
                assert link.get_attribute("href") == f"reports/{report_id(counted)}.html"
                assert (site / "reports" / f"{report_id(counted)}.html").is_file()
            if status == "duplicate":
                assert "（2 份）" in cell.inner_text()
                assert cell.get_attribute("title") == f"{key(unit, year)}、{key(unit, year, 2)}"
    # the colours differ by status, and the legend names them all
    colours = {s: page.locator(f"#giodq-coverage td.giodq-cov-{s}").first.evaluate(
        "e => getComputedStyle(e).backgroundColor") for s in labels}
    assert len(set(colours.values())) == 5
    assert page.locator(".giodq-legend .giodq-cov").all_inner_texts() == \
        ["已发布", "逾期发布", "重复发布", "未发布", "不在名册", "—"]
    assert page.locator(".giodq-legend").inner_text().endswith("无记录")
    summary = page.locator(".giodq-coverage-summary").inner_text()
    assert "名册内单位 7 个" in summary and "不在名册的发布机构 2 个" in summary and "未发布 4" in summary
    # one click to the counted report's page
    rows.nth(units.index(EDU)).locator("td[data-year='2023'] a").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith(EDU) and "2023" in page.locator("h1").inner_text()
    assert page.outside == []


def test_the_dashboard_is_above_the_report_list(site, page):
    page.goto((site / "index.html").as_uri())
    assert page.evaluate("""() => {
        const d = document.getElementById("giodq-dashboard"), r = document.getElementById("giodq-reports");
        return !!(d.compareDocumentPosition(r) & Node.DOCUMENT_POSITION_FOLLOWING) && d.parentElement === r.parentElement;
    }""")
    html = (site / "index.html").read_text(encoding="utf-8")
    assert html.index(docs._DASHBOARD[1]) < html.index(docs._SECTION[0])


def test_the_charts_are_svg_files_with_chinese_text(site):
    charts = site / "static" / "giodq" / "charts"
    assert sorted(p.name for p in charts.iterdir()) == ["findings-by-rule.svg", "received-by-year.svg",
                                                        "reports-by-status.svg"]
    texts = {}
    for path in charts.iterdir():
        data = path.read_text(encoding="utf-8")
        root = ET.fromstring(data.encode("utf-8"))     # well-formed XML
        assert root.tag == f"{SVG}svg"
        assert not list(root.iter(f"{SVG}image"))
        texts[path.stem] = [t.text for t in root.iter(f"{SVG}text")]
        families = [re.search(r"font-family: ([^;]*)", t.get("style", "")).group(1) for t in root.iter(f"{SVG}text")]
        # first the CJK font the layout was measured with, when this machine has one, then the list
        first = dashboard._cjk_font() or "Noto Sans CJK SC"
        assert families and all(f.startswith(f"'{first}', ") and "'WenQuanYi Zen Hei'" in f
                                and f.endswith(", sans-serif") for f in families)
        # text stays text (no glyph outlines: <text>, not paths); nothing fetched: no font, image or
        # stylesheet, and every reference is to the file itself (tick marks, clip paths)
        assert "@import" not in data and "@font-face" not in data and 'id="DejaVu' not in data
        assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', data))
        assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", data))
    assert {"申请数量勾稽关系（t3.flow）", "零值写法一致（zero.markers）", "跨年度结转一致（cross_year.carry）",
            "问题数（项）", "错误", "提示", "3", "2"} <= set(texts["findings-by-rule"])
    assert {"已发布", "未发布", "重复发布", "逾期发布", "不在名册", "单位·年度数", "13", "4", "3"} <= set(texts["reports-by-status"])
    # the district's all-levels rows only: not the 部门 row, the unit row or another cell
    assert {"2022", "2023", "2024", "41", "57", "66", "本年新收申请（件）"} <= set(texts["received-by-year"])
    assert "86" not in texts["received-by-year"] and "71" not in texts["received-by-year"]
    # no unit name is drawn in a chart
    for names in texts.values():
        assert not any(HOSTILE in (t or "") or "某某区" in (t or "") for t in names)


def test_the_charts_load_in_chromium_and_nothing_leaves_the_machine(site, page):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((site / "index.html").as_uri())
    page.wait_for_load_state("load")
    images = page.locator("#giodq-dashboard img")
    assert images.count() == 3
    for i in range(3):
        img = images.nth(i)
        assert img.evaluate("e => e.complete && e.naturalWidth > 0 && e.naturalHeight > 0")
        assert img.get_attribute("alt").startswith(("问题按规则：", "报告按状态", "全区收到申请数"))
    assert "2024 年 66 件" in page.locator("#giodq-chart-received-by-year img").get_attribute("alt")
    assert [page.locator(".giodq-chart figcaption").nth(i).inner_text() for i in range(3)] == \
        ["问题按规则", "报告按状态", "全区收到申请数（按年度）"]
    assert sum("/static/giodq/charts/" in u for u in requests) == 3
    assert all(u.startswith("file://") for u in requests) and page.outside == []


def test_a_hostile_unit_name_is_shown_as_text(site, page):
    page.goto((site / "index.html").as_uri())
    row = page.locator("#giodq-coverage tbody tr.giodq-off-roster", has_text="onerror")
    assert row.locator("th").inner_text() == HOSTILE
    assert page.locator("#giodq-dashboard script").count() == 0
    assert page.locator("#giodq-dashboard img").count() == 3          # the charts' only
    assert page.evaluate("window.__pwned") is None
    html = (site / "index.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "&lt;script&gt;window.__pwned=1&lt;/script&gt;]]&gt;" in html


def test_chart_text_is_escaped_in_the_svg(tmp_path):
    """No unit name reaches a chart, but an unknown rule id does (as itself): matplotlib escapes it."""
    findings = pd.DataFrame({"report": ["a"], "rule": [HOSTILE], "severity": ["warning"], "state": [None]})
    (path,) = dashboard.write_charts(tmp_path, None, None, findings)
    data = path.read_text(encoding="utf-8")
    assert "<script>" not in data and "]]>" not in data
    assert HOSTILE in [t.text for t in ET.fromstring(data.encode()).iter(f"{SVG}text")]


def test_the_charts_are_the_same_bytes_on_a_rerun(tmp_path, district):
    coverage, summary, findings, _ = district
    first = dashboard.write_charts(tmp_path / "a", coverage, summary, findings)
    second = dashboard.write_charts(tmp_path / "b", coverage, summary, findings)
    assert len(first) == 3 and [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert b"<dc:date>" not in first[0].read_bytes()


def test_a_chart_whose_data_did_not_change_is_copied_from_the_current_site(tmp_path, district, monkeypatch):
    """A nightly run's charts: those drawn from the same data are the current site's files, the
    others drawn again (and a kept file is a new file, not a link into the live site)."""
    coverage, summary, findings, _ = district
    first = dashboard.write_charts(tmp_path / "a", coverage, summary, findings)
    drawn = []
    real = dashboard._svg
    monkeypatch.setattr(dashboard, "_svg", lambda chart: drawn.append(chart.name) or real(chart))
    more = pd.concat([findings, findings.iloc[:1]], ignore_index=True)    # one finding more: its chart changes
    second = dashboard.write_charts(tmp_path / "b", coverage, summary, more, kept=tmp_path / "a")
    assert drawn == ["findings-by-rule"]
    assert [p.read_bytes() for p in first[1:]] == [p.read_bytes() for p in second[1:]]
    assert first[0].read_bytes() != second[0].read_bytes()
    assert all(a.stat().st_ino != b.stat().st_ino for a, b in zip(first, second))
    (tmp_path / "a" / dashboard.DRAWN).write_text("not json", encoding="utf-8")   # unreadable: all drawn
    dashboard.write_charts(tmp_path / "c", coverage, summary, findings, kept=tmp_path / "a")
    assert drawn == ["findings-by-rule"] * 2 + ["reports-by-status", "received-by-year"]


def test_without_a_cjk_font_the_charts_are_drawn_quietly(tmp_path, district, monkeypatch, caplog):
    """A machine with no CJK font: the layout is measured with DejaVu Sans, no warning per glyph."""
    from matplotlib import font_manager

    coverage, summary, findings, _ = district
    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if f.name.startswith("DejaVu")])
    font_manager.FontManager._findfont_cached.cache_clear()
    try:
        assert dashboard._cjk_font() is None
        with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
            warnings.simplefilter("always")
            written = dashboard.write_charts(tmp_path, coverage, summary, findings)
    finally:
        monkeypatch.undo()
        font_manager.FontManager._findfont_cached.cache_clear()
    assert len(written) == 3 and caught == [] and caplog.records == []
    assert "已发布" in written[1].read_text(encoding="utf-8")   # still text, for the browser's fonts


def test_a_redraw_keeps_the_dashboard(site, district, tmp_path):
    _, _, findings, reports = district
    before = (site / "index.html").read_text(encoding="utf-8")
    copy = tmp_path / "data_docs"
    shutil.copytree(site, copy, copy_function=docs.link_or_copy)     # as a review's release does
    reviewed = findings.assign(state=["dismissed"] * len(findings))
    docs.redraw(copy, before, reports, reviewed, pd.DataFrame(columns=["report", "key", "raw"]), set(), {},
                Reviews(), set())
    after = (copy / "index.html").read_text(encoding="utf-8")
    assert board_of(after) == board_of(before)
    assert after != before and 'giodq-total-dismissed">7<' in after          # the report list was redrawn
    assert (site / "index.html").read_text(encoding="utf-8") == before     # not through the hard link
    assert sorted(p.name for p in (copy / "static" / "giodq" / "charts").iterdir()) == \
        sorted(p.name for p in (site / "static" / "giodq" / "charts").iterdir())
    # and an index drawn before the dashboard existed is still redrawn
    old = before.replace(board_of(before), "")
    docs.redraw(copy, old, reports, reviewed, pd.DataFrame(columns=["report", "key", "raw"]), set(), {},
                Reviews(), set())
    redrawn = (copy / "index.html").read_text(encoding="utf-8")
    assert docs._DASHBOARD[0] not in redrawn and 'giodq-total-dismissed">7<' in redrawn


@pytest.mark.parametrize("case", ["no district", "empty frames", "coverage only"])
def test_empty_inputs_show_what_there_is(tmp_path, page, district, case):
    coverage, summary, findings, _ = district
    if case == "no district":
        index = build(tmp_path / "data_docs", None, None, None, district=False)
    elif case == "empty frames":
        index = build(tmp_path / "data_docs", coverage.iloc[0:0], summary.iloc[0:0], findings.iloc[0:0])
    else:
        index = build(tmp_path / "data_docs", coverage, None, None)
    charts = index.parent / "static" / "giodq" / "charts"
    drawn = sorted(p.name for p in charts.iterdir()) if charts.is_dir() else []
    page.goto(index.as_uri())
    board = page.locator("#giodq-dashboard")
    assert board.locator("h2").inner_text() == "全区概况"
    if case == "coverage only":
        assert drawn == ["reports-by-status.svg"]
        assert board.locator("#giodq-coverage tbody tr").count() == 9
        assert board.locator("#giodq-chart-reports-by-status img").evaluate("e => e.naturalWidth > 0")
        missing = ["findings-by-rule", "received-by-year"]
    else:
        assert drawn == []
        assert board.locator("#giodq-coverage").count() == 0
        assert board.locator("p.giodq-none").first.inner_text().startswith("无")
        missing = ["findings-by-rule", "reports-by-status", "received-by-year"]
    for name in missing:
        figure = board.locator(f"#giodq-chart-{name}")
        assert figure.locator("img").count() == 0 and figure.locator(".giodq-none").inner_text() == "无"
    assert page.locator("#giodq-reports").count() == 1 and page.outside == []


def test_a_dashboard_that_cannot_be_drawn_costs_no_site(tmp_path, district, monkeypatch, caplog):
    coverage, summary, findings, _ = district

    def broken(*args):
        raise ValueError("<b>bad</b> frame")

    monkeypatch.setattr(dashboard, "_coverage_table", broken)
    monkeypatch.setattr(dashboard, "_svg", broken)
    index = build(tmp_path / "data_docs", coverage, summary, findings)
    html = index.read_text(encoding="utf-8")
    assert "全区概况未能生成（ValueError: &lt;b&gt;bad&lt;/b&gt; frame）" in html
    assert 'id="giodq-reports"' in html
    assert {"district dashboard", "dashboard charts"} <= {r.getMessage() for r in caplog.records}


def test_a_dashboard_that_fails_half_drawn_leaves_only_why(tmp_path, district, monkeypatch):
    """The dashboard is written as Jinja draws it: a row that fails to draw after others were
    written leaves the error section alone, not half a table above it."""
    coverage, summary, findings, _ = district
    drawn = dashboard._coverage_table

    class Exploding(dict):
        def __getitem__(self, key):   # what the page's table alone reads of a row
            if key == "cells":
                raise ValueError("<i>row</i>")
            return super().__getitem__(key)

    def half(frame):
        years, rows = drawn(frame)
        return years, rows[:1] + [Exploding(rows[0])]

    drawing, drawn_pieces = dashboard.dashboard_section, []

    def recorded(*args):
        for piece in drawing(*args):
            drawn_pieces.append(piece)
            yield piece

    monkeypatch.setattr(dashboard, "_coverage_table", half)
    monkeypatch.setattr(dashboard, "dashboard_section", recorded)
    html = build(tmp_path / "data_docs", coverage, summary, findings).read_text(encoding="utf-8")
    assert "<table" in "".join(drawn_pieces)   # the table had begun when the row failed
    board = html[html.index("<!-- giodq:dashboard:start -->"):html.index("<!-- giodq:dashboard:end -->")]
    assert "全区概况未能生成（ValueError: &lt;i&gt;row&lt;/i&gt;）" in board
    assert "<table" not in board and 'id="giodq-reports"' in html


def test_screenshot_of_the_dashboard(tmp_path, page):
    """A district without the hostile unit, as a reviewer sees it (docs/dashboard.png in the README
    is the samples' dashboard, taken the same way)."""
    coverage, summary, findings, reports = frames(hostile=False)
    index = build(tmp_path / "data_docs", coverage, summary, findings, reports)
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.goto(index.as_uri())
    page.wait_for_load_state("load")
    board = page.locator("#giodq-dashboard")
    assert board.locator("img").count() == 3
    board.screenshot(path=tmp_path / "dashboard.png")
    assert 10_000 < (tmp_path / "dashboard.png").stat().st_size < 300_000
    assert page.outside == []


def test_the_index_is_written_a_piece_at_a_time_as_the_whole_would_be(tmp_path):
    # docs._insert_reports_section writes the report list as Jinja draws it: the page must be the
    # one the joined list gives (line ends, CJK and astral characters, the markers around it)
    marker = "<!-- giodq:reports-section:abc -->"
    page = "<html>\r\n<p>全区 𠀀</p>\n" + marker + "\r\n<footer>GX</footer>\n"
    index = tmp_path / "index.html"
    index.write_bytes(page.encode("utf-8"))
    as_read = index.read_text(encoding="utf-8")   # GX's page as the joined write read it (universal newlines)
    pieces = ["<tr>", "<td>报告 &lt;script&gt;</td>\r\n", "", "</tr>𠀀"]
    docs._insert_reports_section(index, marker, iter(pieces), board="<b>看板</b>")
    drawn = docs._DASHBOARD[0] + "<b>看板</b>" + docs._DASHBOARD[1] + docs._SECTION[0] + "".join(pieces) + docs._SECTION[1]
    assert index.read_bytes() == as_read.replace(marker, drawn).encode("utf-8")
    with pytest.raises(RuntimeError, match="did not draw"):   # a page without the marker is no site
        docs._insert_reports_section(index, marker, iter(pieces))
