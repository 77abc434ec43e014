"""Bad input: every file ends up in the dataset, a bad one as failed with its reason; the run goes on."""
import json
import shutil

import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES
from giodq.extract import extract_report
from giodq.pipeline import run

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
NOT_TEXT = bytes([0x81, 0xFF]) * 200  # a lead byte then 0xFF: invalid in UTF-8, GB18030 and Big5


@pytest.mark.parametrize("data, code", [(b"", "empty"), (b"  \n\t ", "empty"), (PNG, "binary"),
                                        (b"\xff" * 300, "undecodable"), (NOT_TEXT, "undecodable"), (b"%PDF-1.4 broken", "unreadable")])
def test_bad_file_is_a_failed_input_with_a_reason(data, code):
    e = extract_report("x", data)
    assert e.status == "failed"
    assert e.error.startswith(code + ":")


def test_gbk_text_is_read():
    e = extract_report("gbk.txt", "规章 | 1 | 0 | 3 |\n".encode("gbk"))
    assert e.status == "ok" and e.raw["t2.regulations.in_force"] == "3"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for p in SAMPLES.iterdir():
        shutil.copy(p, src / p.name)
    (src / "empty.txt").write_bytes(b"")
    (src / "scan.png").write_bytes(PNG)
    (src / "garbage.txt").write_bytes(NOT_TEXT)
    out = tmp_path_factory.mktemp("out")
    run(str(src), out)
    return out


def test_run_keeps_every_input(out):
    reports = pq.read_table(out / "dataset" / "reports.parquet").to_pandas().set_index("report")
    assert len(reports) == 8
    failed = reports[reports["status"] == "failed"]
    assert sorted(failed.index) == ["empty.txt", "garbage.txt", "scan.png"]
    assert failed.loc["empty.txt", "error"].startswith("empty:")
    assert "PNG" in failed.loc["scan.png", "error"]
    assert failed.loc["garbage.txt", "error"].startswith("undecodable:")
    assert (reports.loc[reports["status"] == "ok", "error"].isna()).all()
    assert (reports["sha256"].str.len() == 64).all()


def test_run_record_lists_failures(out):
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["inputs"] == 8 and record["ok"] == 5
    assert {f["report"] for f in record["failed"]} == {"empty.txt", "garbage.txt", "scan.png"}
    # failed inputs have no cells; the readable ones have every canonical cell of their format
    cells = pq.read_table(out / "dataset" / "cells.parquet").to_pandas()
    assert set(cells["report"]) == {p.name for p in SAMPLES.iterdir()} - {"001_183f359fdb579c94.txt"}


def test_a_bug_on_one_file_fails_that_input_only(monkeypatch):
    from giodq.extract import tables

    def boom(rows, fmt, **_):
        raise KeyError("unexpected layout")

    monkeypatch.setattr(tables, "read_tables", boom)
    e = extract_report("odd.txt", "规章 | 1 | 0 | 3 |\n".encode())
    assert e.status == "failed" and e.error.startswith("extract:") and "unexpected layout" in e.error


def test_a_decoding_full_of_control_characters_is_not_text():
    from giodq.extract.decode import _looks_like_text

    text = "政府信息公开工作年度报告\t\n\r\f" * 50   # tabs, line and form feeds are text
    assert _looks_like_text(text)
    few = text + "\x0b\x1b"                       # a stray escape or two: still text
    assert _looks_like_text(few)
    many = text + "\x01\x1f\x0b" * (len(text) // 200)   # more than one in 200 characters: not text
    assert not _looks_like_text(many)
    assert not _looks_like_text("报告\x00")
