"""Duplicate reports (one body and year in several readable reports, one file under two names)
are flagged in reports.parquet, run.json and the reviewer's index; the cross-year rules take the
year before's report published latest, never the one whose name sorts first, and are not assessed
when the year before's reports cannot be told apart."""
import json
import re
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES, read_fixture
from giodq.pipeline import run, validate_reports
from giodq.publish.sources import report_id
from giodq.validate.duplicates import duplicate_groups, flag_duplicates
from giodq.extract import extract_report
from test_cross_year import S004, predecessor

S004_KEY = "004_47717d3cd7e0ea5b.txt"
S002_KEY = "002_40523efafb065443.txt"
CORRECTED = "<b>湛河-更正.txt"            # report text in a name: shown as text, never markup
COPY = "002-副本.txt"
BODY_004 = "湛河区轻工路街道办事处"
CROSS_YEAR = {"cross_year.carry", "cross_year.in_force"}


def _reports(out) -> pd.DataFrame:
    return pq.read_table(out / "dataset" / "reports.parquet").to_pandas().set_index("report")


def _findings(out) -> pd.DataFrame:
    return pq.read_table(out / "dataset" / "findings.parquet").to_pandas()


def _record(out) -> dict:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def dated(data: bytes, line: str | None) -> bytes:
    """A report with a publication line above its title (发布日期：2024-01-20)."""
    return data if line is None else line.encode() + b"\n" + data


# -- flagging ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def flagged(tmp_path_factory):
    """The seeds, seed 004 again with other content (a corrected narrative) under another name,
    and seed 002's bytes under a second name."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("out")
    for p in SAMPLES.iterdir():
        shutil.copy(p, src / p.name)
    text = read_fixture(S004_KEY).decode().replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件")
    (src / CORRECTED).write_text(text, encoding="utf-8")
    shutil.copy(SAMPLES / S002_KEY, src / COPY)
    run(str(src), out)
    return out


def test_same_body_and_year_flagged_in_the_dataset(flagged):
    reports = _reports(flagged)
    assert reports.loc[CORRECTED, "body"] == reports.loc[S004_KEY, "body"] == BODY_004
    assert list(reports.loc[S004_KEY, "duplicates"]) == [CORRECTED]
    assert list(reports.loc[CORRECTED, "duplicates"]) == [S004_KEY]
    assert list(reports.loc[S004_KEY, "duplicate_kind"]) == ["same_body_year"]
    for key in ("000_11add77ccab5606b.txt", "001_183f359fdb579c94.txt", "003_72b5106183aba5ae.txt"):
        assert len(reports.loc[key, "duplicates"]) == 0, key


def test_same_bytes_flagged_as_same_content(flagged):
    reports = _reports(flagged)
    assert reports.loc[COPY, "sha256"] == reports.loc[S002_KEY, "sha256"]
    assert list(reports.loc[S002_KEY, "duplicates"]) == [COPY]
    assert list(reports.loc[COPY, "duplicate_kind"]) == ["same_content"]


def test_run_record_lists_the_groups(flagged):
    groups = _record(flagged)["duplicates"]
    by_kind = {g["kind"]: g for g in groups}
    assert len(groups) == 2   # identical files are one same_content group, not also a same_body_year one
    assert sorted(by_kind["same_content"]["reports"]) == sorted([S002_KEY, COPY])
    assert by_kind["same_content"]["body"] == "河东区中小企业发展服务中心"
    body_year = by_kind["same_body_year"]
    assert (body_year["body"], body_year["year"]) == (BODY_004, 2024)
    assert sorted(body_year["reports"]) == sorted([S004_KEY, CORRECTED])


def test_index_page_lists_duplicate_groups(flagged):
    html = (flagged / "data_docs" / "index.html").read_text(encoding="utf-8")
    m = re.search(r'<h3 id="giodq-duplicates">重复报告</h3>(.*?)</table>', html, re.S)
    assert m, "no 重复报告 section"
    section = m.group(1)
    assert "同一发布机构同一年度有多份报告" in section and "内容完全相同的文件" in section
    assert BODY_004 in section and COPY in section and S004_KEY in section
    assert "&lt;b&gt;湛河-更正.txt" in section and "<b>" not in section
    assert f'href="reports/{report_id(CORRECTED)}.html"' in section


def test_report_page_names_its_duplicates(flagged):
    page = (flagged / "data_docs" / "reports" / f"{report_id(S004_KEY)}.html").read_text(encoding="utf-8")
    m = re.search(r'<dd class="giodq-duplicates">(.*?)</dd>', page, re.S)
    assert m and "&lt;b&gt;湛河-更正.txt" in m.group(1) and "同一发布机构同一年度" in m.group(1)
    copy = (flagged / "data_docs" / "reports" / f"{report_id(COPY)}.html").read_text(encoding="utf-8")
    assert re.search(rf'giodq-duplicates">以下文件与本报告重复：\s*<a[^>]*>{S002_KEY}</a>（内容完全相同）', copy)
    alone = (flagged / "data_docs" / "reports" / "{}.html".format(report_id("003_72b5106183aba5ae.txt")))
    assert "giodq-duplicates" not in alone.read_text(encoding="utf-8")


def test_groups_of_identical_and_differing_reports():
    """a and b are the same bytes, c is the same body and year with other content: a+b is a
    same_content group, a+b+c a same_body_year group; failed inputs never count."""
    reports = pd.DataFrame({"report": ["c", "b", "a", "x", "y"], "sha256": ["2", "1", "1", "0", "0"],
                            "body": ["某 局", "某局", "某局", None, None], "year": [2023, 2023, 2023, None, None],
                            "status": ["ok", "ok", "ok", "failed", "failed"]})
    groups = duplicate_groups(reports)
    assert sorted((k, tuple(g["report"])) for k, g in groups.groupby("kind")) == [
        ("same_body_year", ("a", "b", "c")), ("same_content", ("a", "b"))]
    flags = flag_duplicates(reports).set_axis(reports["report"])
    assert flags.loc["a", "duplicates"] == ["b", "c"]
    assert flags.loc["a", "duplicate_kind"] == ["same_content", "same_body_year"]
    assert flags.loc["c", "duplicate_kind"] == ["same_body_year", "same_body_year"]
    assert flags.loc["x", "duplicates"] is None


def test_a_file_crawled_many_times(tmp_path):
    """30 copies of one file: each copy lists the other 29 in reports.parquet (in key order, all
    same_content, without building the 870 pairs), and its page names the first 20 and how many more."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"copy-{i:02d}.txt").write_bytes((SAMPLES / S002_KEY).read_bytes())
    run(str(src), tmp_path / "out")
    reports = _reports(tmp_path / "out")
    others = list(reports.loc["copy-07.txt", "duplicates"])
    assert others == [f"copy-{i:02d}.txt" for i in range(30) if i != 7]
    assert set(reports.loc["copy-07.txt", "duplicate_kind"]) == {"same_content"}
    page = (tmp_path / "out" / "data_docs" / "reports" / f"{report_id('copy-07.txt')}.html").read_text("utf-8")
    listed = re.search(r'<dd class="giodq-duplicates">(.*?)</dd>', page, re.S).group(1)
    assert re.findall(r'class="giodq-duplicate" href="[^"]+">([^<]+)</a>', listed) == others[:20]
    assert re.search(r'另有 <span class="giodq-more-duplicates">9</span> 份', listed)
    assert 'href="../index.html#giodq-duplicates"' in listed
    index = (tmp_path / "out" / "data_docs" / "index.html").read_text("utf-8")
    assert all(f">{name}</a>" in index for name in others)   # the index lists them all


# -- last year's report ------------------------------------------------------------------------

def _two_years(tmp_path, last_year: dict[str, bytes]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the 2024 seed beside ``last_year`` (name -> bytes): (findings, reports) at OUT."""
    src = tmp_path / "src"
    src.mkdir()
    for name, data in last_year.items():
        (src / name).write_bytes(data)
    (src / "zhanhe-2024.txt").write_bytes(S004.encode())
    run(str(src), tmp_path / "out")
    return _findings(tmp_path / "out"), _reports(tmp_path / "out")


def _carry_against(findings: pd.DataFrame) -> set[str]:
    """The reports cross_year.carry compared zhanhe-2024.txt with (named in the finding's place)."""
    carry = findings[(findings["report"] == "zhanhe-2024.txt") & (findings["rule"] == "cross_year.carry")]
    return {m for w in carry["where"] for m in re.findall(r"与上年报告 (.+?) 比较", w)}


@pytest.mark.parametrize("later, earlier", [("a-2023.txt", "b-2023.txt"), ("b-2023.txt", "a-2023.txt")])
def test_last_year_is_the_report_published_latest(tmp_path, later, earlier):
    """The later report says 2 carried forward (2024 carries over 0: a finding), the earlier 0
    (no finding): whichever name sorts first, the finding compares with the later one."""
    findings, reports = _two_years(tmp_path, {
        later: dated(predecessor(2, 0), "发布日期：2024-01-20"),
        earlier: dated(predecessor(0, 0), "成文日期：2024-01-10"),
    })
    assert str(reports.loc[later, "published"]) == "2024-01-20"
    assert _carry_against(findings) == {later}
    assert not set(reports.loc["zhanhe-2024.txt", "not_assessed"]) & CROSS_YEAR
    assert list(reports.loc[later, "duplicates"]) == [earlier]


def test_last_year_from_the_dataset_at_out_is_the_one_published_latest(tmp_path):
    """The year before's reports in the dataset an earlier run left at OUT: their publication
    dates are read back from reports.parquet."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "a-2023.txt").write_bytes(dated(predecessor(0, 0), "发布日期：2024-01-10"))
    (tmp_path / "a" / "b-2023.txt").write_bytes(dated(predecessor(2, 0), "发布日期：2024-01-30"))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "zhanhe-2024.txt").write_bytes(S004.encode())
    run(str(tmp_path / "a"), tmp_path / "out")
    run(str(tmp_path / "b"), tmp_path / "out")
    assert _carry_against(_findings(tmp_path / "out")) == {"b-2023.txt"}


def test_a_dataset_without_publication_dates_still_gives_last_year(tmp_path):
    """A dataset of an older giodq has no ``published``: a single report of the year before is
    still last year's."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "zhanhe-2023.txt").write_bytes(predecessor(2, 0))
    run(str(tmp_path / "a"), tmp_path / "old")
    reports = pq.read_table(tmp_path / "old" / "dataset" / "reports.parquet").to_pandas().drop(columns="published")
    cells = pq.read_table(tmp_path / "old" / "dataset" / "cells.parquet").to_pandas()
    v = validate_reports([extract_report("zhanhe-2024.txt", S004.encode())], (reports, cells))
    assert set(v.findings.loc[v.findings["rule"] == "cross_year.carry", "where"].str.contains("zhanhe-2023.txt")) == {True}


@pytest.mark.parametrize("dates, why", [
    (("发布日期：2024-01-10", "成文日期：2024-01-10"), "发布日期相同"),
    (("发布日期：2024-01-10", None), "部分报告未能读取发布日期"),
    ((None, None), "各报告均未能读取发布日期"),
])
def test_undecidable_last_year_is_not_assessed_and_says_why(tmp_path, dates, why):
    findings, reports = _two_years(tmp_path, {
        "a-2023.txt": dated(predecessor(2, 0), dates[0]),
        "b-2023.txt": dated(predecessor(0, 3), dates[1]),
    })
    mine = findings[findings["report"] == "zhanhe-2024.txt"]
    assert not mine["rule"].isin(CROSS_YEAR).any()
    row = reports.loc["zhanhe-2024.txt"]
    assert CROSS_YEAR <= set(row["not_assessed"])
    assert f"上年度有两份报告（a-2023.txt、b-2023.txt），{why}且内容不同，无法确定以哪份为准，跨年度规则未评估" \
        in list(row["notes"])
    page = (tmp_path / "out" / "data_docs" / "reports" / f"{report_id('zhanhe-2024.txt')}.html").read_text("utf-8")
    assert "无法确定以哪份为准" in page and "跨年度结转一致（cross_year.carry）" in page


def test_identical_last_year_reports_are_interchangeable(tmp_path):
    """The same bytes under two names, no date: no guess is needed; the first by key is taken."""
    data = predecessor(2, 0)
    findings, reports = _two_years(tmp_path, {"b-2023.txt": data, "a-2023.txt": data})
    assert _carry_against(findings) == {"a-2023.txt"}
    assert not set(reports.loc["zhanhe-2024.txt", "not_assessed"]) & CROSS_YEAR
    assert list(reports.loc["a-2023.txt", "duplicate_kind"]) == ["same_content"]
