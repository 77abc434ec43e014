"""The district view (issue #13): a roster, one name per unit, coverage (missing, duplicate, late,
not_on_roster), form.missing and form.body, cross-year rules by unit, the district's figures, and a
bad roster refused before anything is read. Seeds 002 (a department, dated) and 004 (a street)
altered: bodies, years and dates rewritten."""
from __future__ import annotations

import io

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import read_fixture
from giodq import cli
from giodq.district import names
from giodq.district.roster import RosterError, parse_roster
from giodq.pipeline import run

S002 = read_fixture("002_40523efafb065443.txt").decode()
S004 = read_fixture("004_47717d3cd7e0ea5b.txt").decode()
DEPT, DATE = "河东区中小企业发展服务中心", "成文日期: | 2025-01-24"
STREET_TITLE = "湛河区轻工路街道办事处 2024 年"

ROSTER = """单位名称,别名,层级,上级
淮安市人民政府,,本级政府,
洪泽区人民政府,洪泽区政府,本级政府,淮安市人民政府
沭阳县人民政府,,本级政府,宿迁市人民政府
湛河区轻工路街道办事处,轻工路街道,乡镇街道,湛河区人民政府
河东区中小企业发展服务中心,,部门,河东区人民政府
湛河区发展和改革委员会,湛河区发改委,部门,湛河区人民政府
"""


def street(body: str, year: int = 2024) -> bytes:
    """Seed 004 as written by ``body`` for ``year``."""
    text = S004.replace(STREET_TITLE, f"{body} {year} 年", 1)
    return text.replace("2024", str(year)).encode() if year != 2024 else text.encode()


def dept(body: str, day: str) -> bytes:
    """Seed 002 as written by ``body``, dated ``day``."""
    assert DATE in S002 and DEPT in S002
    return S002.replace(DEPT, body).replace(DATE, f"成文日期: | {day}").encode()


DISTRICT = {
    "street.txt": street("湛河区轻工路街道办事处"),                   # exact
    "hongze.txt": street("淮安市洪泽区人民政府"),                     # a city prefix
    "shuyang.txt": street("沐阳县人民政府"),                          # 沐 for 沭: the gazetteer
    "dept-a.txt": dept(DEPT, "2025-01-20"),                          # two reports of one unit-year:
    "dept-b.txt": dept("河东区 中小企业发展服务中心", "2025-01-28"),   # the later one counts
    "fgw.txt": dept("湛河区发改委", "2025-02-10"),                     # an alias, published late
    "beijing.txt": street("北京市海淀区人民政府"),                     # on no unit of the roster
}                                                                    # 淮安市人民政府: no report


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("district")
    src = tmp / "src"
    src.mkdir()
    for name, data in DISTRICT.items():
        (src / name).write_bytes(data)
    (tmp / "roster.csv").write_text(ROSTER, encoding="utf-8")
    record = run(str(src), tmp / "out", roster=str(tmp / "roster.csv"))
    ds = tmp / "out" / "dataset"
    return record, {n: pq.read_table(ds / f"{n}.parquet").to_pandas()
                    for n in ("reports", "cells", "findings", "coverage", "summary", "roster")}


def test_each_body_gets_its_unit_and_the_rule_that_matched(district):
    _, t = district
    rep = t["reports"].set_index("report")
    got = {k: (rep.at[k, "unit"] if isinstance(rep.at[k, "unit"], str) else None, rep.at[k, "unit_match"])
           for k in DISTRICT}
    assert got == {
        "street.txt": ("湛河区轻工路街道办事处", "exact"),
        "hongze.txt": ("洪泽区人民政府", "prefix"),
        "shuyang.txt": ("沭阳县人民政府", "gazetteer"),
        "dept-a.txt": (DEPT, "exact"),
        "dept-b.txt": (DEPT, "normalised"),
        "fgw.txt": ("湛河区发展和改革委员会", "alias"),
        "beijing.txt": (None, "none"),
    }
    assert rep.at["shuyang.txt", "body"] == "沐阳县人民政府"    # body stays as written
    assert rep.at["shuyang.txt", "spelling"] == "沐阳县 → 沭阳县"
    assert rep.at["fgw.txt", "level"] == "部门"


def test_coverage_has_a_row_per_unit_and_year(district):
    record, t = district
    cov = t["coverage"]
    status = dict(zip(cov["unit"], cov["status"]))
    assert set(cov["year"]) == {2024}
    assert status == {"淮安市人民政府": "missing", "洪泽区人民政府": "published", "沭阳县人民政府": "published",
                      "湛河区轻工路街道办事处": "published", DEPT: "duplicate", "湛河区发展和改革委员会": "late",
                      "北京市海淀区人民政府": "not_on_roster"}
    dup = cov[cov["status"] == "duplicate"].iloc[0]
    assert list(dup["reports"]) == ["dept-a.txt", "dept-b.txt"] and dup["counted"] == "dept-b.txt"
    late = cov[cov["status"] == "late"].iloc[0]
    assert str(late["published"]) == "2025-02-10" and str(late["deadline"]) == "2025-01-31"
    assert record["district"]["coverage"] == {"missing": 1, "published": 3, "duplicate": 1, "late": 1,
                                              "not_on_roster": 1}
    assert list(t["roster"]["unit"])[:2] == ["淮安市人民政府", "洪泽区人民政府"]


def test_missing_units_and_misspelt_bodies_are_findings(district):
    _, t = district
    f = t["findings"]
    missing = f[f["rule"] == "form.missing"]
    assert len(missing) == 1
    m = missing.iloc[0]
    assert (m["report"], m["unit"], m["year"], m["severity"]) == ("", "淮安市人民政府", 2024, "error")
    assert "2025-03-31" in m["message"] and "本级政府" in m["message"] and m["finding_id"]
    body = f[f["rule"] == "form.body"]
    assert list(body["report"]) == ["shuyang.txt"]
    b = body.iloc[0]
    assert b["severity"] == "warning" and "沐阳县 → 沭阳县" in b["message"] and "沭阳县人民政府" in b["message"]
    # only the gazetteer's match is a form.body: a prefix, an alias, a space are no misspelling
    assert set(f.loc[f["rule"] == "form.deadline", "report"]) == {"fgw.txt"}


def test_summary_sums_agree_with_the_cells(district):
    _, t = district
    cells, cov, summary = t["cells"], t["coverage"], t["summary"]
    counted = set(cov["counted"].dropna())
    assert "dept-a.txt" not in counted and "dept-b.txt" in counted   # a unit-year counts once
    level = summary[summary["scope"] == "level"]
    assert len(level) > 0
    for row in level.itertuples():
        mine = cov[(cov["year"] == row.year) & (cov["counted"].notna())
                   & ((cov["level"] == row.level) | (row.level == "全部"))]
        values = cells[cells["report"].isin(set(mine["counted"])) & (cells["key"] == row.key)]["value"]
        assert row.value == pytest.approx(values.sum()), (row.year, row.level, row.key)
        assert row.reports == values.notna().sum()
    new = level[(level["level"] == "全部") & (level["key"] == "t3.new_received.total")].iloc[0]
    value = cells.set_index(["report", "key"])["value"]
    dept_new = value[("dept-b.txt", "t3.new_received.total")]
    # four streets (004: 6 each; one not on the roster), the two departments (002) counted once each
    assert new.value == 4 * 6 + 2 * dept_new and new.reports == 6


def test_no_roster_links_the_spellings_of_one_unit_across_years(tmp_path):
    """The cross-year rules compare a unit with itself under another spelling: last year's report
    (with a city prefix) carried 2 requests forward, this year's says 0 came over."""
    from test_cross_year import predecessor

    src = tmp_path / "src"
    src.mkdir()
    (src / "2023.txt").write_bytes(predecessor(2, 0).decode().replace(
        "湛河区轻工路街道办事处 2023 年", "平顶山市湛河区轻工路街道办事处 2023 年", 1).encode())
    (src / "2024.txt").write_bytes(S004.encode())
    for roster in (None, ROSTER):
        out = tmp_path / f"out-{bool(roster)}"
        if roster:
            (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
        run(str(src), out, roster=str(tmp_path / "roster.csv") if roster else None)
        f = pq.read_table(out / "dataset" / "findings.parquet").to_pandas()
        carry = f[f["rule"] == "cross_year.carry"]
        assert set(carry["report"]) == {"2024.txt"}, roster
        assert "2023.txt" in carry.iloc[0]["where"]
        rep = pq.read_table(out / "dataset" / "reports.parquet").to_pandas().set_index("report")
        assert rep.at["2023.txt", "body"] == "平顶山市湛河区轻工路街道办事处"
        assert rep.at["2023.txt", "unit"] == rep.at["2024.txt", "unit"] == "湛河区轻工路街道办事处"


def test_the_matching_rules_in_order():
    roster = parse_roster(ROSTER.encode() + "湛河区东关街道办事处,,乡镇街道,\n洪泽区商务局,,部门,\n淮安市商务局,,部门,\n"
                          .encode(), "r.csv")
    m = lambda body: names.match_bodies([body], roster)[body]  # noqa: E731
    assert (m("洪泽区政府").unit, m("洪泽区政府").how) == ("洪泽区人民政府", "alias")
    assert m("淮安市 洪泽区 人民政府").how == "prefix"
    assert m("江苏省淮安市洪泽区商务局").unit == "洪泽区商务局"
    assert m("商务局").unit is None                  # no place left: never a guess between the two
    assert m("宿迁市沐阳县人民政府").unit == "沭阳县人民政府"
    near = m("湛河区轻功路街道")
    assert (near.unit, near.how) == ("湛河区轻工路街道办事处", "similar") and "功 → 工" in near.spelling
    assert m("湛河区西关街道").unit is None          # a two-character town's name: never by similarity
    assert m("沭阳县人民政府办公室").unit is None    # the government's office is not the government
    assert m("泗阳县人民政府").unit is None          # a real county, not on the roster: not corrected


BAD = {
    "missing-column.csv": ("单位名称,层级\n淮安市人民政府,本级政府\n".encode(), "缺少列：别名"),
    "duplicate-name.csv": ((ROSTER + "淮安市人民政府,,本级政府,\n").encode(), "重复"),
    "alias-twice.csv": ((ROSTER + "洪泽区财政局,洪泽区政府,部门,\n").encode(), "同时属于"),
    "gbk.csv": (ROSTER.encode("gb18030"), "不是 UTF-8"),
    "bad-level.csv": ((ROSTER + "洪泽区财政局,,局,\n").encode(), "层级"),
    "not-a-workbook.xlsx": (b"PK\x03\x04 not really", "无法作为 ZIP 压缩包打开"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_roster_is_one_line_and_nothing_is_published(name, tmp_path, capsys):
    data, says = BAD[name]
    src = tmp_path / "src"
    src.mkdir()
    (src / "street.txt").write_bytes(DISTRICT["street.txt"])
    (tmp_path / name).write_bytes(data)
    with pytest.raises(RosterError, match=says):
        parse_roster(data, name)
    code = cli.main(["run", str(src), "--out", str(tmp_path / "out"), "--roster", str(tmp_path / name), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and says in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out" / "dataset").exists() and not (tmp_path / "out" / "run.json").exists()


def test_an_xlsx_roster_and_the_roster_from_the_environment(tmp_path, monkeypatch):
    from openpyxl import Workbook

    wb = Workbook()
    for row in pd.read_csv(io.StringIO(ROSTER), dtype=str).fillna("").itertuples(index=False):
        if wb.active.max_row == 1 and wb.active["A1"].value is None:
            wb.active.append(["单位名称", "别名", "层级", "上级"])
        wb.active.append(list(row))
    wb.save(tmp_path / "名册.xlsx")
    src = tmp_path / "src"
    src.mkdir()
    (src / "fgw.txt").write_bytes(DISTRICT["fgw.txt"])
    monkeypatch.setenv("GIODQ_ROSTER", str(tmp_path / "名册.xlsx"))
    record = run(str(src), tmp_path / "out")
    assert record["district"]["units"] == 6 and record["district"]["coverage"]["missing"] == 5
    rep = pq.read_table(tmp_path / "out" / "dataset" / "reports.parquet").to_pandas()
    assert list(rep["unit"]) == ["湛河区发展和改革委员会"]


def test_a_rerun_checks_against_the_runs_roster_and_closes_form_missing(district, tmp_path):
    """淮安市人民政府 uploads its report: the rerun (no --roster: the run's) finds it on the roster
    and its form.missing is gone."""
    import shutil

    from giodq.rerun import rerun

    record, _ = district
    src = tmp_path / "src"
    shutil.copytree(record["source"], src)
    out = tmp_path / "out"
    shutil.copytree(record["out"], out, symlinks=True)
    (src / "huaian.txt").write_bytes(street("淮安市人民政府"))
    again = rerun("huaian.txt", str(src), out)
    f = pq.read_table(out / "dataset" / "findings.parquet").to_pandas()
    assert not (f["rule"] == "form.missing").any()
    assert any(r["rule"] == "form.missing" for r in again["resolved"])
    cov = pq.read_table(out / "dataset" / "coverage.parquet").to_pandas()
    assert dict(zip(cov["unit"], cov["status"]))["淮安市人民政府"] == "published"


def test_a_missing_unit_is_in_the_workbook_and_gets_a_notice(district, tmp_path, capsys):
    """form.missing goes round the review loop: a row of the workbook (单位 the roster's name, no
    report file), confirmed by a reviewer, a 整改通知 to the unit asking for its report."""
    import shutil

    from docx import Document
    from openpyxl import load_workbook
    from test_review_loop import fill

    record, _ = district
    out = tmp_path / "out"
    shutil.copytree(record["out"], out, symlinks=True)
    exported = tmp_path / "问题清单.xlsx"
    assert cli.main(["review", "export", str(out), str(exported)]) == 0
    ws = load_workbook(exported)["问题清单"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]
    [missing] = [r for r in rows if r["规则"].endswith("（form.missing）")]
    assert (missing["单位"], missing["报告文件"], missing["年度"]) == ("淮安市人民政府", "（未发布）", "2024")
    fill(exported, tmp_path / "a.xlsx", {("（未发布）", "form.missing"): ("已确认", "", "张三")})
    assert cli.main(["review", "import", str(out), str(tmp_path / "a.xlsx")]) == 0
    assert cli.main(["notices", str(out)]) == 0
    [notice] = [p for p in (out / "notices").iterdir() if p.name.startswith("淮安市人民政府")]
    text = "\n".join(p.text for p in Document(str(notice)).paragraphs)
    assert "淮安市人民政府：" in text and "未找到你单位2024 年度政府信息公开工作年度报告" in text
    f = pq.read_table(out / "dataset" / "findings.parquet").to_pandas()
    assert f.loc[f["rule"] == "form.missing", "state"].tolist() == ["confirmed"]
    # the review's release keeps the district's files
    assert (out / "dataset" / "coverage.parquet").exists() and (out / "dataset" / "roster.parquet").exists()


def test_a_roster_in_a_bucket(tmp_path):
    """--roster s3://bucket/key on a real S3 endpoint (moto's server): read as a file is; a key
    that is not there is one clear error."""
    import boto3

    from giodq.preflight import district_of
    from s3_server import moto_server

    with moto_server():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="office")
        s3.put_object(Bucket="office", Key="2024/名册.csv", Body=ROSTER.encode("utf-8-sig"))   # Excel's BOM
        district = district_of("s3://office/2024/名册.csv", "2024")
        assert [u.name for u in district.roster.units][:2] == ["淮安市人民政府", "洪泽区人民政府"]
        assert district.years == (2024,)
        with pytest.raises(RosterError, match="无法读取名册"):
            district_of("s3://office/2024/missing.csv", None)


def test_a_matching_keeps_no_forms_of_the_districts_names_past_it():
    """The caches of the forms of names serve one matching: a province's (~10 MB at 50,000 bodies)
    would otherwise stay with the process for the rest of the run, and of every later run."""
    from giodq.district import gazetteer, scope

    cached = (names.forms_left_out, gazetteer.corrections, gazetteer._leading_places)
    scope._units.cache_clear()   # a matching of these bodies by another test would be taken from there
    names.match_bodies(["江苏省淮安市洪泽区商务局", "宿迁市沐阳县人民政府"], None)
    assert all(f.cache_info().currsize for f in cached)   # what a matching fills ...
    matches, links = scope.District().units_of(["江苏省淮安市洪泽区商务局", "淮安市洪泽区商务局", "宿迁市沐阳县人民政府"])
    assert links["江苏省淮安市洪泽区商务局"] == links["淮安市洪泽区商务局"]
    assert [f.cache_info().currsize for f in cached] == [0, 0, 0]   # ... a district's matching empties
