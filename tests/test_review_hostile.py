"""The review loop under the probe of dae72f3: one regression test per bug found (A1 … A12), named
after it. Workbooks, inbox files and OUT's review files are untrusted or may be damaged; none of
them may stop a run, lose a decision, or let one reviewer undo another's without a word."""
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
from docx import Document
from openpyxl import load_workbook

from conftest import ROOT, SAMPLES
from giodq.cli import main
from giodq.pipeline import run
from giodq.publish import docs, store
from giodq.publish.review import Reviews
from giodq.publish.sources import copy_name
from giodq.review import commands, notices
from giodq.review import store as review_store
from giodq.review.decisions import Decision, decide, empty_decisions
from giodq.review.ids import finding_ids
from giodq.review.workbook import export, read
from test_review_loop import S001, S004, SENTENCE_004, Folder, _edit, corrected_004, decisions_at, fill, findings_at, \
    state_of


@pytest.fixture()
def district(tmp_path):
    """A district run, and a fresh export of its findings."""
    d = Folder(tmp_path)
    run(d.source, d.out)
    commands.export_workbook(d.out, str(tmp_path / "export.xlsx"))
    return d


def _decisions_bytes(d: Folder) -> bytes:
    return (Path(d.out) / "reviews" / "decisions.parquet").read_bytes()


def _new_input(d: Folder, name: str = "005_new.txt") -> None:
    """Something new in SOURCE: the next run is a full one (reads decisions, reconciles)."""
    d.put(name, (SAMPLES / "000_11add77ccab5606b.txt").read_bytes())


def _receipts(d: Folder, where: str) -> list[str]:
    folder = Path(d.out) / "reviews" / where
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))] if folder.is_dir() else []


# A1: duplicate reports of one unit and year -----------------------------------------------------------

def test_a1_duplicate_reports_of_one_unit_and_year_get_distinct_ids(tmp_path, capsys):
    alone = Folder(tmp_path / "alone")
    run(alone.source, alone.out)
    first = findings_at(alone.out).set_index(["report", "rule"])["finding_id"]

    d = Folder(tmp_path / "dup")
    d.put("004_copy.txt", (SAMPLES / S004).read_bytes())   # the same report uploaded twice
    run(d.source, d.out)
    f = findings_at(d.out)
    assert f["finding_id"].is_unique
    ids = f.set_index(["report", "rule"])["finding_id"]
    assert ids[(S004, "narrative.count")] == first[(S004, "narrative.count")]   # the first by key keeps its id
    commands.export_workbook(d.out, str(tmp_path / "export.xlsx"))
    ws = load_workbook(tmp_path / "export.xlsx")["问题清单"]
    listed = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert len(listed) == len(set(listed)) == len(f)
    fill(tmp_path / "export.xlsx", tmp_path / "done.xlsx", {("004_copy.txt", "narrative.count"): ("已确认", "", "张三")})
    assert main(["review", "import", d.out, str(tmp_path / "done.xlsx")]) == 0, capsys.readouterr().err
    assert state_of(d.out, "004_copy.txt", "narrative.count") == "confirmed"
    assert state_of(d.out, S004, "narrative.count") == "open"
    _new_input(d)
    assert run(d.source, d.out)["kind"] == "run"                 # and the next run reconciles them
    assert state_of(d.out, "004_copy.txt", "narrative.count") == "confirmed"


def test_a1_ids_that_are_not_unique_stop_the_run_with_a_clear_error(monkeypatch):
    from giodq.review import loop

    findings = pd.DataFrame({"report": ["a.txt", "b.txt"], "rule": ["t3.flow"] * 2})
    monkeypatch.setattr(loop, "finding_ids", lambda f, r: pd.Series(["0123456789abcdef"] * 2, index=f.index))
    with pytest.raises(loop.DuplicateFindingIds, match="0123456789abcdef a.txt t3.flow"):
        loop.with_ids(findings, pd.DataFrame({"report": ["a.txt", "b.txt"]}))


def test_a1_the_report_published_latest_numbers_its_findings_as_if_alone():
    finding = {"rule": "t3.flow", "cells": ["t3.new_received.total"]}
    findings = pd.DataFrame([{"report": "a-first.txt", **finding}, {"report": "b-corrected.txt", **finding}])
    both = pd.DataFrame({"report": ["a-first.txt", "b-corrected.txt"], "body": ["某区教育局", "某区 教育局"],
                         "year": pd.array([2024, 2024], dtype="Int64"),
                         "published": [pd.Timestamp("2025-01-10").date(), pd.Timestamp("2025-03-01").date()]})
    ids = finding_ids(findings, both)
    assert ids.is_unique
    alone = finding_ids(findings.iloc[[1]], both.iloc[[1]])
    assert ids.iloc[1] == alone.iloc[0]          # the corrected file, published later, counts
    undated = both.assign(published=None)
    assert finding_ids(findings, undated).iloc[0] == finding_ids(findings.iloc[[0]], undated.iloc[[0]]).iloc[0]


# A2: a malformed workbook in the inbox ----------------------------------------------------------------

def _rezip(src: Path, target: Path, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == "xl/worksheets/sheet1.xml" else data)


def _laughs(data: bytes) -> bytes:
    entities = "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 9))
    text = data.decode("utf-8")
    assert not text.startswith("<?xml") and "<t>" in text    # openpyxl's sheet: inline strings
    return (f'<!DOCTYPE x [<!ENTITY a0 "已确认">{entities}]>' + text).replace("<t>", "<t>&a8;", 1).encode("utf-8")


def test_a2_a_workbook_whose_sheet_cannot_be_parsed_is_refused_and_the_run_goes_on(district, tmp_path):
    d = district
    _rezip(tmp_path / "export.xlsx", tmp_path / "bad-xml.xlsx", lambda x: x.replace(b"<row ", b"<row <<", 1))
    _rezip(tmp_path / "export.xlsx", tmp_path / "laughs.xlsx", _laughs)
    fill(tmp_path / "export.xlsx", tmp_path / "good.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三")})
    for name in ("bad-xml.xlsx", "laughs.xlsx", "good.xlsx"):
        with pytest.raises(Exception) if name != "good.xlsx" else _nothing():
            read((tmp_path / name).read_bytes(), name)
        d.inbox(name, (tmp_path / name).read_bytes())
    record = run(d.source, d.out)
    refused = {r["file"]: r["errors"] for r in record["review"]["workbooks"]["refused"]}
    assert set(refused) == {"bad-xml.xlsx", "laughs.xlsx"}
    assert all("不是可读取的 Excel 工作簿" in e[0] for e in refused.values())
    assert state_of(d.out, S004, "narrative.count") == "confirmed"      # the good one is applied
    assert review_store.inbox(d.out) == []


def test_a2_read_raises_only_workbook_errors(tmp_path, district):
    from giodq.review.workbook import WorkbookError
    _rezip(tmp_path / "export.xlsx", tmp_path / "bad.xlsx", lambda x: x.replace(b"<row ", b"<row <<", 1))
    with pytest.raises(WorkbookError, match="工作表的内容已损坏"):
        read((tmp_path / "bad.xlsx").read_bytes(), "bad.xlsx")


def test_a2_any_error_applying_one_workbook_refuses_it_and_the_run_goes_on(district, tmp_path, monkeypatch):
    from giodq.review import loop

    d = district
    fill(tmp_path / "export.xlsx", tmp_path / "good.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三")})
    d.inbox("a-breaks.xlsx", (tmp_path / "export.xlsx").read_bytes())
    d.inbox("b-good.xlsx", (tmp_path / "good.xlsx").read_bytes())
    real = loop.check_rows

    def check_rows(rows, findings, decisions, via):
        if via == "a-breaks.xlsx":
            raise KeyError("something unforeseen")
        return real(rows, findings, decisions, via)

    monkeypatch.setattr(loop, "check_rows", check_rows)
    record = run(d.source, d.out)
    assert [r["file"] for r in record["review"]["workbooks"]["refused"]] == ["a-breaks.xlsx"]
    assert state_of(d.out, S004, "narrative.count") == "confirmed"


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# A3: a long inbox file name ----------------------------------------------------------------------------

def test_a3_a_long_inbox_name_is_filed_away_under_a_short_one(district, tmp_path):
    d = district
    name = "审核" * 40 + ".xlsx"          # 245 bytes: the file system allows it, not with a prefix
    assert len(name.encode()) > 225
    fill(tmp_path / "export.xlsx", tmp_path / "good.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三")})
    d.inbox(name, (tmp_path / "good.xlsx").read_bytes())
    record = run(d.source, d.out)
    assert record["review"]["workbooks"]["applied"][0]["file"] == name
    assert review_store.inbox(d.out) == []
    [receipt] = _receipts(d, "applied")
    assert name in receipt and "已导入 1 条审核结论" in receipt
    [kept] = (Path(d.out) / "reviews" / "applied").glob("*.xlsx")
    assert kept.read_bytes() == (tmp_path / "good.xlsx").read_bytes() and len(kept.name) < 40


# A4: a release that fails after an import -------------------------------------------------------------

def test_a4_a_failed_release_saves_no_decision_and_leaves_the_workbook_in_the_inbox(district, tmp_path, monkeypatch):
    d = district
    fill(tmp_path / "export.xlsx", tmp_path / "good.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三")})
    real = docs.redraw

    def redraw(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(docs, "redraw", redraw)
    with pytest.raises(OSError):
        commands.import_workbook(d.out, str(tmp_path / "good.xlsx"))
    d.inbox("good.xlsx", (tmp_path / "good.xlsx").read_bytes())
    with pytest.raises(OSError):
        run(d.source, d.out)                                  # the inbox, applied by an unchanged run
    assert not (Path(d.out) / "reviews" / "decisions.parquet").exists()
    assert state_of(d.out, S004, "narrative.count") == "open"
    assert review_store.inbox(d.out) == ["good.xlsx"]
    monkeypatch.setattr(docs, "redraw", real)
    run(d.source, d.out)                                      # the next run applies it
    assert state_of(d.out, S004, "narrative.count") == "confirmed"
    assert decisions_at(d.out).loc[(S004, "narrative.count"), "state"] == "confirmed"


# A5: an import does not read SOURCE --------------------------------------------------------------------

def test_a5_an_import_links_the_kept_source_copies_and_reads_no_source(district, tmp_path):
    d = district
    site = Path(d.out) / "data_docs"
    before = {r: (site / "sources" / copy_name(r, "text")).read_bytes() for r in (S001, S004)}
    d.put(S004, corrected_004())                               # the unit changed its file meanwhile
    (d.src / S001).unlink()                                    # and another removed theirs
    fill(tmp_path / "export.xlsx", tmp_path / "done.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三"),
                                                            (S001, "narrative.percent"): ("已确认", "", "张三")})
    d.src.rename(tmp_path / "source-gone")                    # no SOURCE at all: an import needs none
    assert commands.import_workbook(d.out, str(tmp_path / "done.xlsx")).applied == 2
    for report in (S001, S004):
        page = d.page(report)
        assert "已确认" in page and f'href="../sources/{copy_name(report, "text")}"' in page
        assert (site / "sources" / copy_name(report, "text")).read_bytes() == before[report]
    assert SENTENCE_004.encode() in before[S004]


def test_a5_in_a_bucket_too(tmp_path):
    from s3_server import moto_server

    from giodq.s3 import s3_client
    from test_review_loop import Bucket
    with moto_server():
        d = Bucket(s3_client())
        run(d.source, d.out)
        commands.export_workbook(d.out, str(tmp_path / "export.xlsx"))
        d.put(S004, corrected_004())
        d.s3.delete_object(Bucket="district", Key=f"reports/{S001}")
        fill(tmp_path / "export.xlsx", tmp_path / "done.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三"),
                                                                (S001, "narrative.percent"): ("已确认", "", "张三")})
        assert commands.import_workbook(d.out, str(tmp_path / "done.xlsx")).applied == 2
        for report in (S001, S004):
            assert f'href="../sources/{copy_name(report, "text")}"' in d.page(report)
        kept = d.s3.get_object(Bucket="district", Key=f"out/data_docs/sources/{copy_name(S004, 'text')}")["Body"].read()
        assert SENTENCE_004.encode() in kept


# A6: decisions.parquet or log.parquet damaged or lost --------------------------------------------------

@pytest.fixture()
def decided(district, tmp_path):
    d = district
    fill(tmp_path / "export.xlsx", tmp_path / "done.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三"),
                                                            (S001, "narrative.percent"): ("误报", "口径不同", "李四")})
    assert commands.import_workbook(d.out, str(tmp_path / "done.xlsx")).applied == 2
    return d


@pytest.mark.parametrize("damage", ["deleted", "corrupt"])
def test_a6_lost_decisions_are_rebuilt_from_the_log(decided, damage):
    d = decided
    path = Path(d.out) / "reviews" / "decisions.parquet"
    expected = decisions_at(d.out)[["state", "note", "decided_by", "unit", "year", "title", "where"]]
    path.unlink() if damage == "deleted" else path.write_bytes(b"PAR1 not a parquet file")
    _new_input(d)
    record = run(d.source, d.out)
    assert "已按 log.parquet" in record["review"]["warnings"][0]
    assert state_of(d.out, S004, "narrative.count") == "confirmed"
    assert state_of(d.out, S001, "narrative.percent") == "dismissed"
    rebuilt = decisions_at(d.out)[["state", "note", "decided_by", "unit", "year", "title", "where"]]
    pd.testing.assert_frame_equal(rebuilt.sort_index(), expected.sort_index(), check_dtype=False)


def test_a6_neither_file_readable_stops_with_an_error_naming_them(decided, tmp_path, capsys):
    d = decided
    for name in ("decisions.parquet", "log.parquet"):
        (Path(d.out) / "reviews" / name).write_bytes(b"garbage")
    _new_input(d)
    with pytest.raises(review_store.ReviewsUnreadable, match="decisions.parquet"):
        run(d.source, d.out)
    assert main(["review", "import", d.out, str(tmp_path / "export.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "decisions.parquet" in err and "log.parquet" in err and err.count("\n") == 1


def test_a6_a_damaged_log_is_set_aside_and_the_import_is_saved(decided, tmp_path):
    d = decided
    log = Path(d.out) / "reviews" / "log.parquet"
    log.write_bytes(b"damaged")
    commands.export_workbook(d.out, str(tmp_path / "again.xlsx"))
    fill(tmp_path / "again.xlsx", tmp_path / "again-done.xlsx", {(S001, "form.placeholder"): ("已确认", "", "王五")})
    assert commands.import_workbook(d.out, str(tmp_path / "again-done.xlsx")).applied == 1
    [aside] = (Path(d.out) / "reviews").glob("log.parquet.unreadable-*")
    assert aside.read_bytes() == b"damaged"
    assert list(review_store.read_log(d.out)["via"]) == ["again-done.xlsx"]
    assert state_of(d.out, S001, "form.placeholder") == "confirmed"
    assert state_of(d.out, S004, "narrative.count") == "confirmed"
    [record] = [r for r in store.history(d.out) if r["review"].get("workbook") == "again-done.xlsx"]
    assert "另存为" in record["review"]["warnings"][0]


# A7, A8, A12: the notices ------------------------------------------------------------------------------

def test_a7_the_notice_link_is_quoted():
    report = pd.Series({"report": "第1#稿 100%.txt", "body": None, "year": 2024})   # known by its file name
    name = notices.report_notice_name(report)
    assert "#" in name and "%" in name
    href = Reviews(notices=frozenset({name})).notice_href(report)
    assert href == "../../notices/" + quote(name) and "#" not in href and "%23" in href and "%25" in href


def test_a8_reports_with_no_body_get_a_notice_each_named_by_their_file(district, tmp_path):
    d = district
    d.put("006_copy_of_001.txt", (SAMPLES / S001).read_bytes().replace(b"\n", b"\n\n", 1))   # no body either
    run(d.source, d.out)
    commands.export_workbook(d.out, str(tmp_path / "export2.xlsx"))
    fill(tmp_path / "export2.xlsx", tmp_path / "done.xlsx", {(S001, "narrative.percent"): ("已确认", "", "张三"),
                                                             ("006_copy_of_001.txt", "narrative.percent"): ("已确认", "", "张三")})
    assert commands.import_workbook(d.out, str(tmp_path / "done.xlsx")).applied == 2
    written = sorted(Path(w).name for w in commands.write_notices(d.out))
    assert len(written) == 2 and all(w.startswith("未识别单位-") for w in written)
    assert any(S001.removesuffix(".txt") in w for w in written)
    for report in (S001, "006_copy_of_001.txt"):
        [mine] = [w for w in written if report.removesuffix(".txt") in w]
        assert f'href="../../notices/{quote(mine)}"' in d.page(report)
        text = "\n".join(p.text for p in Document(Path(d.out) / "notices" / mine).paragraphs)
        assert f"报告文件“{report}”的发布单位" in text and "未能识别发布机构" in text


def test_a12_a_notice_name_has_no_invisible_characters():
    name = notices.notice_name("某局\u202e\u200bxcod.exe\u0007")
    assert not any(ch in name for ch in "\u202e\u200b\u0007") and name.startswith("某局xcod.exe")


# A9: two reviewers ------------------------------------------------------------------------------------

def test_a9_a_row_that_would_undo_a_decision_made_since_the_export_is_refused(district, tmp_path, capsys):
    d = district
    fill(tmp_path / "export.xlsx", tmp_path / "zhang.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三")})
    fill(tmp_path / "export.xlsx", tmp_path / "li.xlsx", {(S004, "narrative.count"): ("误报", "口径", "李四"),
                                                          (S001, "form.placeholder"): ("已确认", "", "李四")})
    assert main(["review", "import", d.out, str(tmp_path / "zhang.xlsx")]) == 0
    before = _decisions_bytes(d)
    assert main(["review", "import", d.out, str(tmp_path / "li.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "自导出以来已由张三" in err and "已确认" in err and "冲突" in err
    assert _decisions_bytes(d) == before and state_of(d.out, S004, "narrative.count") == "confirmed"
    # the same decision as the one made meanwhile is no conflict
    fill(tmp_path / "export.xlsx", tmp_path / "same.xlsx", {(S004, "narrative.count"): ("已确认", "", "李四")})
    assert commands.import_workbook(d.out, str(tmp_path / "same.xlsx")).errors == ()


# A10: decide is linear ---------------------------------------------------------------------------------

def test_a10_deciding_on_every_finding_of_a_large_district_is_quick():
    n = 20_000
    reports = pd.DataFrame({"report": [f"r{i}" for i in range(n // 10)], "body": [f"单位{i}" for i in range(n // 10)],
                            "year": pd.array([2024] * (n // 10), dtype="Int64")})
    findings = pd.DataFrame({"finding_id": [f"{i:016x}" for i in range(n)], "report": [f"r{i // 10}" for i in range(n)],
                             "rule": "narrative.count", "title": "t", "where": "w", "observed": "1", "expected": "2",
                             "sentence": "s"})
    changes = [Decision(f"{i:016x}", "confirmed", None, "张三", "w.xlsx") for i in range(n)]
    t0 = time.perf_counter()
    decisions, log = decide(empty_decisions(), findings, reports, changes, "2025-01-01T00:00:00+00:00")
    assert time.perf_counter() - t0 < 5          # quadratic: a minute
    assert len(decisions) == len(log) == n and set(log["via"]) == {"w.xlsx"}
    assert (log["finding_id"].to_numpy() == findings["finding_id"].to_numpy()).all()


# A11: the inbox ---------------------------------------------------------------------------------------

def test_a11_a_link_in_the_inbox_is_not_followed(district, tmp_path):
    d = district
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"password=hunter2")
    (Path(d.out) / "reviews" / "inbox").mkdir(parents=True)
    (Path(d.out) / "reviews" / "inbox" / "evil.xlsx").symlink_to(secret)
    record = run(d.source, d.out)
    [refused] = record["review"]["workbooks"]["refused"]
    assert refused["file"] == "evil.xlsx" and "符号链接" in refused["errors"][0]
    assert review_store.inbox(d.out) == [] and secret.exists()
    kept = [p.read_bytes() for p in (Path(d.out) / "reviews").rglob("*") if p.is_file()]
    assert not any(b"hunter2" in b for b in kept)


def test_a11_dot_files_in_a_bucket_inbox_are_not_workbooks():
    from s3_server import moto_server

    from giodq.s3 import s3_client
    with moto_server():
        client = s3_client()
        client.create_bucket(Bucket="district")
        for key in (".~lock.a.xlsx#", ".DS_Store", "a.xlsx", "sub/b.xlsx"):
            client.put_object(Bucket="district", Key=f"out/reviews/inbox/{key}", Body=b"x")
        assert review_store.inbox("s3://district/out") == ["a.xlsx"]


def test_a11_a_workbook_past_the_input_limit_is_refused_unread(district, tmp_path, monkeypatch, capsys):
    d = district
    d.inbox("big.xlsx", (tmp_path / "export.xlsx").read_bytes())
    monkeypatch.setenv("GIODQ_MAX_INPUT_MB", "0.001")
    assert main(["review", "import", d.out, str(tmp_path / "export.xlsx")]) == 2
    assert "GIODQ_MAX_INPUT_MB" in capsys.readouterr().err
    record = run(d.source, d.out)
    [refused] = record["review"]["workbooks"]["refused"]
    assert "GIODQ_MAX_INPUT_MB" in refused["errors"][0]
    [kept] = (Path(d.out) / "reviews" / "refused").glob("*.xlsx")      # moved as it was, not read
    assert kept.read_bytes() == (tmp_path / "export.xlsx").read_bytes()


def test_a11_the_errors_listed_are_capped(district, tmp_path, capsys):
    d = district
    wb = load_workbook(tmp_path / "export.xlsx")
    ws = wb["问题清单"]
    header = [c.value for c in ws[1]]
    for i in range(120):
        row = [None] * len(header)
        row[header.index("问题编号")], row[header.index("审核结论")] = f"nope{i:04d}", "已确认"
        ws.append(row)
    wb.save(tmp_path / "many.xlsx")
    assert main(["review", "import", d.out, str(tmp_path / "many.xlsx")]) == 2
    err = capsys.readouterr().err
    assert err.count("不在当前检查结果中") == 50 and "还有 70 行有误" in err


def test_a11_the_docx_member_limit_does_not_apply_to_a_workbook(district, tmp_path, monkeypatch):
    d = district
    monkeypatch.setenv("GIODQ_MAX_MEMBER_MB", "0.001")   # a DOCX's bound; the sheet is larger
    fill(tmp_path / "export.xlsx", tmp_path / "good.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三")})
    assert commands.import_workbook(d.out, str(tmp_path / "good.xlsx")).errors == ()
    monkeypatch.setenv("GIODQ_MAX_MEMBERS_MB", "0.001")   # the bound a workbook has: named as such
    [error] = commands.import_workbook(d.out, str(tmp_path / "good.xlsx")).errors
    assert "GIODQ_MAX_MEMBERS_MB" in error and "DOCX" not in error and "GIODQ_MAX_MEMBER_MB）" not in error


def test_a11_an_export_of_25000_findings_imports_again(tmp_path):
    n = 25_000
    reports = pd.DataFrame({"report": [f"r{i:04d}_某某街道办事处2024年政府信息公开工作年度报告.pdf" for i in range(n // 10)],
                            "body": "某某区某某街道办事处", "year": pd.array([2024] * (n // 10), dtype="Int64")})
    findings = pd.DataFrame({
        "finding_id": [f"{i:016x}" for i in range(n)], "report": [reports["report"][i // 10] for i in range(n)],
        "rule": "narrative.count", "severity": "error", "title": "正文数字与表格不符",
        "where": "表三「本年新收政府信息公开申请数量」列「自然人」行，第二部分正文第3段",
        "message": [f"正文说收到申请 {i} 件，表三本年新收政府信息公开申请数量（合计）为 {i + 4} 件，二者不一致，请核实后更正"
                    for i in range(n)],
        "observed": [str(i) for i in range(n)], "expected": [str(i + 4) for i in range(n)],
        "sentence": [f"2024 年我街道共收到政府信息公开申请 {i} 件，其中网上申请 {i // 2} 件，当面申请 {i // 3} 件，"
                     f"信函申请 0 件，传真申请 0 件，其他形式申请 0 件，均已在法定期限内按期答复申请人，无逾期答复情形，申请人对答复结果均未提出行政复议或行政诉讼。"
                     for i in range(n)],
        "state": "open", "note": None, "decided_by": None, "decided_at": None})
    export(findings, reports, tmp_path / "big.xlsx", lambda r: (tmp_path / "x.html").as_uri())
    sheet = zipfile.ZipFile(tmp_path / "big.xlsx").getinfo("xl/worksheets/sheet1.xml").file_size
    assert sheet > 64 << 20                      # past a DOCX member's bound
    assert len(read((tmp_path / "big.xlsx").read_bytes(), "big.xlsx")) == n


# A12: the rest ---------------------------------------------------------------------------------------

def test_a12_the_unit_column_shows_the_body_as_written(district, tmp_path):
    ws = load_workbook(tmp_path / "export.xlsx")["问题清单"]
    header = [c.value for c in ws[1]]
    units = {row[header.index("报告文件")]: row[header.index("单位")] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert units[S001] == "（未识别）" and units[S004] == "湛河区轻工路街道办事处"


def test_a12_a_dismissal_needs_a_reason_not_invisible_characters(district, tmp_path, capsys):
    d = district
    _edit(tmp_path / "export.xlsx", tmp_path / "zw.xlsx", S001, "narrative.percent", 审核结论="误报", 备注="\u200b\u3000 \u2060")
    assert main(["review", "import", d.out, str(tmp_path / "zw.xlsx")]) == 2
    assert "选择“误报”时须在“备注”中写明理由" in capsys.readouterr().err


def test_a12_a_busy_import_names_the_review_wait_setting(district, tmp_path, monkeypatch, capsys):
    d = district
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom giodq.publish.lock import lock\n"
                               "with lock(sys.argv[1], 'run'):\n    print('held', flush=True)\n    time.sleep(60)", d.out],
                              cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("GIODQ_REVIEW_LOCK_WAIT_S", "0")
        assert main(["review", "import", d.out, str(tmp_path / "export.xlsx")]) == 2
        err = capsys.readouterr().err
        assert "GIODQ_REVIEW_LOCK_WAIT_S" in err and err.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()


def test_a12_reviews_do_not_prune_the_last_run_release(district, tmp_path, monkeypatch):
    d = district
    monkeypatch.setenv("GIODQ_KEEP_RELEASES", "2")
    run_release = store.current_release(d.out).name
    for i, (word, note) in enumerate([("已确认", ""), ("误报", "口径"), ("已确认", "")]):
        commands.export_workbook(d.out, str(tmp_path / f"e{i}.xlsx"))
        fill(tmp_path / f"e{i}.xlsx", tmp_path / f"d{i}.xlsx", {(S004, "narrative.count"): (word, note, "张三")})
        assert commands.import_workbook(d.out, str(tmp_path / f"d{i}.xlsx")).applied == 1
    releases = sorted(p.name for p in (Path(d.out) / "releases").iterdir())
    assert run_release in releases and len(releases) == 3       # keep_releases, and the run's besides


def test_a12_reviews_do_not_prune_the_last_run_release_in_a_bucket(tmp_path, monkeypatch):
    from s3_server import moto_server

    from giodq.s3 import s3_client
    from test_review_loop import Bucket
    with moto_server():
        d = Bucket(s3_client())
        monkeypatch.setenv("GIODQ_KEEP_RELEASES", "1")
        run(d.source, d.out)
        run_release = store.get_json("district", "out/current.json")["release"]
        for i, word in enumerate(["已确认", "待核实"]):
            commands.export_workbook(d.out, str(tmp_path / f"e{i}.xlsx"))
            fill(tmp_path / f"e{i}.xlsx", tmp_path / f"d{i}.xlsx", {(S004, "narrative.count"): (word, "", "张三")})
            assert commands.import_workbook(d.out, str(tmp_path / f"d{i}.xlsx")).applied == 1
        listed = d.s3.list_objects_v2(Bucket="district", Prefix="out/releases/")["Contents"]
        releases = {o["Key"].split("/")[2] for o in listed}
        assert len(releases) == 2 and run_release.split("/")[2] in releases


# B3: an older dataset --------------------------------------------------------------------------------

def test_b3_export_and_notices_work_on_a_dataset_without_finding_ids(district, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = district
    fill(tmp_path / "export.xlsx", tmp_path / "done.xlsx", {(S004, "narrative.count"): ("已确认", "", "张三")})
    commands.import_workbook(d.out, str(tmp_path / "done.xlsx"))
    path = store.current_release(d.out) / "dataset" / "findings.parquet"
    old = pq.read_table(path).to_pandas().drop(columns=["finding_id", "state", "note", "decided_by", "decided_at"])
    path.unlink()
    pq.write_table(pa.Table.from_pandas(old, preserve_index=False), path)
    assert commands.export_workbook(d.out, str(tmp_path / "old.xlsx")) == len(old)
    ws = load_workbook(tmp_path / "old.xlsx")["问题清单"]
    header = [c.value for c in ws[1]]
    states = {row[header.index("报告文件")] + row[header.index("规则")]: row[header.index("审核结论")]
              for row in ws.iter_rows(min_row=2, values_only=True)}
    assert states[S004 + "正文数字与表格不符（narrative.count）"] == "已确认"
    assert len(commands.write_notices(d.out)) == 1


def test_b1_the_flow_and_the_pipeline_take_the_inbox_from_the_review_package():
    from giodq import pipeline
    from giodq.review import inbox

    assert pipeline.apply_inbox is inbox.apply_inbox
    source = (ROOT / "flows" / "district_run.py").read_text(encoding="utf-8")
    assert "giodq.review.inbox import apply_inbox" in source and "review.commands" not in source

