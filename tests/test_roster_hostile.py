"""A hostile probe of the district view (issue #13): rosters and bodies written to break it. Each
test asserts what should hold; a test that fails names a bug (see the probe's report).

- a body is never put on a unit whose place it contradicts (北京市朝阳区 is not 长春市朝阳区);
- a roster is read whole or refused at once with one line: a stale <dimension> in an xlsx, an
  xlsx that inflates to gigabytes, a csv with a field over the csv module's limit, a roster with
  a header and no unit, cell text with newlines and terminal escapes in the error;
- a body of repeated misspelt places does not stall the run;
- a rerun against another roster leaves no finding that rests on the old one;
- a unit renamed on the roster, its old name kept as an alias, keeps its findings' ids;
- hostile unit names stay text on the site, in the workbook and in the notices' file names.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import zipfile

import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook, load_workbook

from conftest import ROOT, read_fixture
from giodq.district.names import link_bodies, match_bodies
from giodq.district.roster import RosterError, parse_roster
from giodq.pipeline import run

S004 = read_fixture("004_47717d3cd7e0ea5b.txt").decode()
STREET_TITLE = "湛河区轻工路街道办事处 2024 年"
HEAD = "单位名称,别名,层级,上级\n"


def street(body: str) -> bytes:
    """Seed 004 (a street's 2024 report) as written by ``body``."""
    assert STREET_TITLE in S004
    return S004.replace(STREET_TITLE, f"{body} 2024 年", 1).encode()


def roster(*rows: str) -> object:
    return parse_roster((HEAD + "".join(r + "\n" for r in rows)).encode(), "r.csv")


def unit_of(body: str, r) -> str | None:
    return match_bodies([body], r)[body].unit


# --- matching: a place written out is never contradicted

@pytest.mark.parametrize("unit, body", [
    ("长春市朝阳区人民政府", "北京市朝阳区人民政府"),
    ("济南市历下区东关街道办事处", "兰州市城关区东关街道办事处"),
    ("淮安市洪泽区商务局", "宿迁市洪泽区商务局"),
])
def test_a_body_naming_another_place_is_not_matched(unit, body):
    """Rule 4 leaves out the places a name starts with; it must not leave out a place that
    contradicts the unit's own (another city, another district): that is another unit."""
    r = roster(f"{unit},,本级政府,")
    assert unit_of(body, r) is None


def test_without_a_roster_two_cities_districts_stay_two_units():
    """Without a roster the district's bodies are linked across spellings; two districts of two
    cities that share a name must not become one unit (their reports would be one unit's
    duplicates, and the cross-year rules would compare one with the other)."""
    linked = link_bodies(["北京市朝阳区人民政府", "长春市朝阳区人民政府"])
    assert linked["北京市朝阳区人民政府"] != linked["长春市朝阳区人民政府"]


def test_a_body_of_repeated_misspelt_places_is_matched_quickly():
    """A 发布机构 field is as long as the file makes it; 沐阳县 (near 沭阳县, 泗阳县, 濮阳县...)
    written a few times multiplies the gazetteer's variants. Seconds per body stall a run."""
    r = roster("沭阳县人民政府,,本级政府,")
    body = "沐阳县" * 7 + "局"
    t0 = time.perf_counter()
    match_bodies([body], r)
    link_bodies([body])
    assert time.perf_counter() - t0 < 1.0


# --- reading the roster: whole, or refused at once in one line

def _xlsx(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rewrite_sheet(data: bytes, change) -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            body = src.read(item.filename)
            z.writestr(item, change(body) if item.filename == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


def test_an_xlsx_with_a_stale_dimension_is_read_whole():
    """Some writers leave <dimension> stale; openpyxl's read-only mode then stops at it. Five
    units must be five units (or a refusal), never one with the others silently dropped."""
    data = _xlsx([["单位名称", "别名", "层级"]] + [[f"甲{i}县人民政府", "", "本级政府"] for i in range(5)])
    stale = _rewrite_sheet(data, lambda b: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:C2"/>', b))
    assert len(parse_roster(stale, "r.xlsx").units) == 5


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> str:
    """An xlsx of about half a MB whose sheet inflates to 512 MB (one cell)."""
    data = _xlsx([["单位名称", "别名", "层级"]])
    src = zipfile.ZipFile(io.BytesIO(data))
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                z.writestr(item, body)
                continue
            head = body.split(b"<sheetData>")[0]
            with z.open(item.filename, "w", force_zip64=True) as w:
                w.write(head + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
                chunk = b"a" * (1 << 20)
                for _ in range(512):
                    w.write(chunk)
                w.write(b"</t></is></c></row></sheetData></worksheet>")
    return str(path)


def test_an_xlsx_zip_bomb_is_refused_at_once(bomb):
    """The roster is read before any work: an xlsx that inflates far beyond any roster is a
    RosterError found from the zip's directory, not minutes and gigabytes of parsing."""
    code = ("import sys\nfrom giodq.district.roster import read_roster, RosterError\n"
            "try:\n    read_roster(sys.argv[1])\nexcept RosterError:\n    sys.exit(0)\nsys.exit(1)\n")
    try:
        done = subprocess.run([sys.executable, "-c", code, bomb], cwd=ROOT, capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("reading a 512 MB-inflating roster took more than 20 s")
    assert done.returncode == 0, done.stderr.decode()[-500:]


def test_a_csv_with_a_huge_field_is_a_roster_error():
    """A field over csv's limit (131072 characters, e.g. an unclosed quote) is the roster's fault:
    a RosterError, not _csv.Error."""
    with pytest.raises(RosterError):
        parse_roster((HEAD + "甲县人民政府," + "乙" * 140_000 + ",本级政府,\n").encode(), "r.csv")


def test_a_roster_with_only_its_header_is_refused():
    """No unit: refused before any work (it is accepted now, and the run fails at publishing)."""
    with pytest.raises(RosterError):
        parse_roster(HEAD.encode(), "r.csv")


def test_a_roster_error_is_one_line_without_terminal_escapes():
    """The error quotes the cell; a quoted newline or an escape sequence in it must not make two
    lines on stderr or drive the terminal."""
    with pytest.raises(RosterError) as e:
        parse_roster((HEAD + '"甲县\n人民政府\x1b[2J",,本级,\n').encode(), "r.csv")
    assert "\n" not in str(e.value) and "\x1b" not in str(e.value)


def test_the_command_refuses_a_huge_field_roster_in_one_line(tmp_path):
    """giodq run with such a roster: exit 2, one line, nothing published."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(street("湛河区轻工路街道办事处"))
    bad = tmp_path / "roster.csv"
    bad.write_text(HEAD + "甲县人民政府," + "乙" * 140_000 + ",本级政府,\n", encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"}   # no Prefect server is started
    done = subprocess.run([sys.executable, "-m", "giodq.cli", "run", str(src), "--out", str(tmp_path / "out"),
                           "--roster", str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr[-500:]
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr[-500:]
    assert not (tmp_path / "out" / "dataset").exists() and not (tmp_path / "out" / "current").exists()


# --- reruns and ids

def test_a_rerun_against_another_roster_is_refused_and_changes_nothing(tmp_path):
    """form.body says a report's body is a unit's through a corrected spelling; a rerun re-checks one
    report, so against another roster (which would change every report's unit and leave such
    findings stale) it is refused in one line, and the dataset is as it was."""
    from giodq.preflight import CommandError
    from giodq.rerun import rerun

    src = tmp_path / "src"
    src.mkdir()
    (src / "shuyang.txt").write_bytes(street("沐阳县人民政府"))
    (src / "a.txt").write_bytes(street("湛河区轻工路街道办事处"))
    (tmp_path / "r1.csv").write_text(HEAD + "沭阳县人民政府,,本级政府,\n湛河区轻工路街道办事处,,乡镇街道,\n",
                                     encoding="utf-8")
    (tmp_path / "r2.csv").write_text(HEAD + "湛河区轻工路街道办事处,,乡镇街道,\n", encoding="utf-8")
    out = tmp_path / "out"
    run(str(src), out, roster=str(tmp_path / "r1.csv"))
    f = pq.read_table(out / "dataset" / "findings.parquet").to_pandas()
    assert "shuyang.txt" in set(f.loc[f["rule"] == "form.body", "report"])
    before = (out / "dataset" / "findings.parquet").read_bytes()
    with pytest.raises(CommandError, match="名册"):
        rerun("a.txt", str(src), out, roster=str(tmp_path / "r2.csv"))
    done = subprocess.run([sys.executable, "-m", "giodq.cli", "rerun", "a.txt", "--source", str(src), "--out",
                           str(out), "--roster", str(tmp_path / "r2.csv"), "--quiet"], capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr[-500:]
    assert (out / "dataset" / "findings.parquet").read_bytes() == before
    rerun("a.txt", str(src), out, roster=str(tmp_path / "r1.csv"))   # the run's own roster: fine
    rerun("a.txt", str(src), out)                                    # or none given: the run's


def test_a_unit_renamed_with_its_old_name_as_alias_keeps_its_ids(tmp_path):
    """The roster says it is the same unit (the old name is its alias): its findings keep their
    ids, so that the reviewers' decisions stay with them."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "s.txt").write_bytes(street("湛河区轻工路街道办事处"))
    (tmp_path / "r1.csv").write_text(HEAD + "湛河区轻工路街道办事处,,乡镇街道,\n", encoding="utf-8")
    (tmp_path / "r2.csv").write_text(HEAD + "湛河区轻工路街道,湛河区轻工路街道办事处,乡镇街道,\n", encoding="utf-8")
    out = tmp_path / "out"
    run(str(src), out, roster=str(tmp_path / "r1.csv"))
    before = set(pq.read_table(out / "dataset" / "findings.parquet").to_pandas()["finding_id"])
    run(str(src), out, roster=str(tmp_path / "r2.csv"))
    after = set(pq.read_table(out / "dataset" / "findings.parquet").to_pandas()["finding_id"])
    assert before and before == after


# --- hostile names stay text (these hold now: regression guards)

EVIL = ["{{7*7}}县人民政府", "<script>alert(1)</script>街道", "../../etc/passwd", "a/b\\c", "=HYPERLINK(\"http://x\",\"y\")",
        "{% raw %}{{ config }}", "甲\u202e县", "长" * 300]


def test_hostile_unit_names_stay_text_on_the_site_in_the_workbook_and_notices(tmp_path):
    from giodq.review import commands

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(street("湛河区轻工路街道办事处"))
    rows = ["湛河区轻工路街道办事处,,乡镇街道,"] + ['"' + n.replace('"', '""') + '",,部门,' for n in EVIL]
    (tmp_path / "r.csv").write_text(HEAD + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    run(str(src), out, roster=str(tmp_path / "r.csv"))
    index = (out / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in index and "&lt;script&gt;alert(1)" in index
    assert "{{7*7}}县人民政府" in index and "49县人民政府" not in index
    assert "\u202e" not in index
    book = tmp_path / "x.xlsx"
    commands.export_workbook(str(out), str(book))
    wb = load_workbook(book)
    ws = wb["问题清单"]
    header = [c.value for c in ws[1]]
    unit_col, verdict, who = (header.index(h) for h in ("单位", "审核结论", "审核人"))
    units = {row[unit_col].value: row[unit_col].data_type for row in ws.iter_rows(min_row=2)}
    assert units.get('=HYPERLINK("http://x","y")') == "s"
    for row in ws.iter_rows(min_row=2):
        row[verdict].value, row[who].value = "已确认", "probe"
    wb.save(book)
    commands.import_workbook(str(out), str(book))
    written = commands.write_notices(str(out))
    assert len(written) >= len(EVIL)
    for path in written:
        name = os.path.basename(path)
        assert os.path.dirname(os.path.abspath(path)) == str((out / "notices").resolve())
        assert "/" not in name and "\\" not in name and not name.startswith(".") and len(name) < 120
        assert "\u202e" not in name
