"""A province validated a chunk of units at a time (pipeline.validate_reports, GIODQ_VALIDATE_CHUNK):
the same cells, findings, not-assessed rules, reports table and GX counts as the district validated
in one batch; each unit's reports in one chunk; the suites' results merged as GX gives them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import read_fixture
from giodq.extract import extract_report, ocr
from giodq import pipeline
from giodq.pipeline import reports_table, validate_reports
from giodq.preflight import check_district
from giodq.validate.chunks import unit_chunks
from giodq.validate.merge import NotMergeable, merge_suite_results
from giodq.validate.spool import CellSpool, all_cells
from giodq.validate.suites import SUITES_DIR
from test_cross_year import predecessor

S004 = read_fixture("004_47717d3cd7e0ea5b.txt").decode()
ROSTER = """单位名称,别名,层级,上级
湛河区轻工路街道办事处,轻工路街道,乡镇街道,湛河区人民政府
河东区中小企业发展服务中心,,部门,河东区人民政府
淮安市人民政府,,本级政府,
"""


def _district_files() -> list[tuple[str, bytes]]:
    """Seeds and real reports, a street's reports over three years under two spellings (one with
    a carry error), and a report with no body: units of one report and of several."""
    names = [f"00{i}_" for i in range(5)]
    seeds = sorted(p for p in (Path(__file__).parent / "fixtures").iterdir() if p.name[:4] in names)
    real = ["guihuaping-street-2020.txt", "pingtan-zone-2021.txt", "xiongxian-township-2019.txt",
            "shuyang-drc-2023.html", "shuyang-county-2025.md"]
    street = "湛河区轻工路街道办事处 2024 年"
    return [(p.name, p.read_bytes()) for p in seeds] + [(n, read_fixture(n)) for n in real] + [
        ("street-2023.txt", predecessor(2, 3)), ("street-2024.txt", S004.encode()),
        ("alias-2022.txt", S004.replace(street, "轻工路街道 2022 年", 1).replace("2024", "2022").encode()),
        ("nobody.txt", "2024年政府信息公开工作年度报告\n一、总体情况\n".encode())]


def _district_reports() -> list:
    return [extract_report(name, data) for name, data in _district_files()]


@pytest.fixture(scope="module")
def whole_and_chunked(tmp_path_factory):
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    district = check_district(str(roster), "2022-2024")
    reports = _district_reports()
    whole = validate_reports(reports, district=district, chunk=10_000)   # one chunk, whatever GIODQ_VALIDATE_CHUNK says
    return reports, whole, validate_reports(reports, district=district, chunk=2)


def test_chunks_give_what_the_whole_batch_gives(whole_and_chunked):
    reports, whole, chunked = whole_and_chunked
    assert len(unit_chunks(reports, chunked.links, 2)) > 3
    # the same cells, each report's together; the chunks' one after the other (Parquet's rows have no order)
    by_cell = lambda cells: cells.sort_values(["report", "key"]).reset_index(drop=True)  # noqa: E731
    assert isinstance(chunked.cells, CellSpool) and not isinstance(whole.cells, CellSpool)
    pd.testing.assert_frame_equal(by_cell(whole.cells), by_cell(all_cells(chunked.cells)))
    pd.testing.assert_frame_equal(whole.findings, chunked.findings)
    pd.testing.assert_frame_equal(reports_table(reports, whole), reports_table(reports, chunked))
    assert dict(whole.not_assessed) == dict(chunked.not_assessed)
    assert whole.not_assessed.why == chunked.not_assessed.why
    pd.testing.assert_frame_equal(whole.coverage, chunked.coverage)
    # the pair across years was checked in one chunk: the street's 2024 report has its carry error
    f = chunked.findings
    assert "cross_year.carry" in set(f.loc[f["report"] == "street-2024.txt", "rule"])
    assert "form.missing" in set(f["rule"])   # the coverage suite ran (once: the same findings)


def test_merged_results_count_what_gx_counts_over_the_whole(whole_and_chunked):
    _, whole, chunked = whole_and_chunked
    assert list(whole.results) == list(chunked.results)
    for suite in whole.results:
        a, b = whole.results[suite], chunked.results[suite]
        assert (a["success"], a["statistics"]) == (b["success"], b["statistics"]), suite
        for x, y in zip(a["results"], b["results"]):
            for k in ("element_count", "missing_count", "unexpected_count", "unexpected_percent",
                      "unexpected_percent_total", "unexpected_index_column_names"):
                assert x["result"].get(k) == y["result"].get(k), (suite, k)
            rows = lambda r: sorted(json.dumps(v, sort_keys=True, default=str) for v in r["result"]["unexpected_index_list"])  # noqa: E731
            assert rows(x) == rows(y), suite
            assert len(y["result"]["partial_unexpected_list"]) == min(20, y["result"]["unexpected_count"])


def test_a_checker_lets_go_of_a_chunks_batches_before_the_next_is_drawn():
    """GX's data source keeps every batch it validated, and the metrics on them: a province's chunk
    would be held while the next one is drawn. forget() drops them, and the checker still validates."""
    import gc
    import weakref

    from giodq.validate.frames import validation_frames
    from giodq.validate.run import Checker

    reports = _district_reports()[:4]
    with Checker() as checker:
        frames = validation_frames(reports)
        first = checker.validate(frames)
        held = [weakref.ref(b.data) for b in checker.source.get_execution_engine().batch_manager.batch_cache.values()]
        del frames
        gc.collect()
        assert held and all(r() is not None for r in held)   # GX holds the chunk's batches
        checker.forget()
        assert all(r() is None for r in held)   # at once: not left to Python's collector
        again = checker.validate(validation_frames(reports))
    assert {n: [x["result"] for x in r["results"]] for n, r in again.items()} == \
        {n: [x["result"] for x in r["results"]] for n, r in first.items()}


def test_a_unit_stays_in_one_chunk_and_chunks_keep_the_runs_order():
    class R:
        def __init__(self, report, body):
            self.report, self.body = report, body

    reports = [R("a1", "A"), R("b1", "B"), R("a2", "A 2"), R("x", None), R("c1", "C"), R("b2", "B")]
    links = {"A": "a", "A 2": "a", "B": "b", "C": "c"}
    chunks = unit_chunks(reports, links, 2)
    assert [[r.report for r in c] for c in chunks] == [["a1", "a2"], ["b1", "b2"], ["x", "c1"]]
    where = {r.report: i for i, c in enumerate(chunks) for r in c}
    assert where["a1"] == where["a2"] and where["b1"] == where["b2"]
    assert all([r.report for r in c] == [r.report for r in reports if r in c] for c in chunks)
    assert sorted(where) == sorted(r.report for r in reports)
    assert unit_chunks(reports, links, 10) == [reports]
    assert unit_chunks([], links, 10) == [[]]


def test_merge_refuses_what_chunks_cannot_decide():
    result = {"suite_name": "s", "success": True, "statistics": {}, "meta": {}, "results": [{
        "success": True, "exception_info": {"raised_exception": False},
        "expectation_config": {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x", "mostly": 0.9},
                               "meta": {}},
        "result": {"element_count": 1, "unexpected_count": 0, "unexpected_list": [], "unexpected_index_list": []}}]}
    with pytest.raises(NotMergeable, match="mostly"):
        merge_suite_results([result, result])
    other = json.loads(json.dumps(result))
    other["results"][0]["expectation_config"]["kwargs"] = {"column": "y"}
    with pytest.raises(NotMergeable):
        merge_suite_results([other, result])


def test_every_committed_expectation_is_row_wise():
    """What the merge rests on (giodq/validate/merge.py): no expectation decides on a share."""
    paths = list(SUITES_DIR.glob("*.json"))
    assert len(paths) >= 17
    for path in paths:
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            assert e["kwargs"].get("mostly", 1) == 1, (path.name, e["type"])


def test_what_gx_could_not_evaluate_stops_the_run_chunked_or_not():
    """GX writes a failed metric's error under the metric's id, not at the top of exception_info:
    never read as "no finding", nor merged as if it were a result."""
    from giodq.validate.findings import results_to_findings

    by_metric = {"MetricConfigurationID(('column_values.nonnull.unexpected_count', ...))": {
        "raised_exception": True, "exception_traceback": "...", "exception_message": "unsupported operand"}}
    failed = {"success": False, "exception_info": by_metric, "result": {},
              "expectation_config": {"type": "expect_sums_to_balance", "kwargs": {"column": "x"},
                                     "meta": {"finding": "balance", "rule_id": "t3.flow"}}}
    fine = json.loads(json.dumps(failed)) | {"success": True, "exception_info": {"raised_exception": False},
                                              "result": {"element_count": 0, "unexpected_count": 0,
                                                         "unexpected_list": [], "unexpected_index_list": []}}
    suite = lambda r: {"suite_name": "s", "success": r["success"], "statistics": {}, "meta": {}, "results": [r]}  # noqa: E731
    merged = merge_suite_results([suite(fine), suite(failed)])
    assert merged["results"][0]["exception_info"] == by_metric
    for results in ({"s": suite(failed)}, {"s": merged}):
        with pytest.raises(RuntimeError, match="unsupported operand"):
            results_to_findings(results)


def test_a_chunk_size_below_one_is_refused_before_anything_is_read(tmp_path, monkeypatch):
    from giodq.preflight import CommandError, check_run

    (tmp_path / "src").mkdir()
    monkeypatch.setenv("GIODQ_VALIDATE_CHUNK", "0")
    with pytest.raises(CommandError, match="GIODQ_VALIDATE_CHUNK"):
        check_run(str(tmp_path / "src"), str(tmp_path / "out"))


def _rows(path: Path) -> list[str]:
    """A Parquet file's rows as a sorted list (its rows have no order), every column as read."""
    frame = pd.read_parquet(path)
    return sorted(json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)
                  for row in frame.astype(object).where(frame.notna(), None).to_dict("records"))


def test_a_province_published_from_its_chunks_is_the_district_published_whole(tmp_path, monkeypatch):
    """The cells wait on disk by chunk, each in parts (validate/spool.py), and are published a part at
    a time: the same dataset, summary and report pages as a district validated in one batch."""
    from giodq.validate import spool

    monkeypatch.setattr(spool, "PART_REPORTS", 1)   # every chunk of 2 reports in 2 parts
    src = tmp_path / "src"
    src.mkdir()
    for name, data in _district_files():
        (src / name).write_bytes(data)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    outs = {}
    for name, chunk in (("whole", "10000"), ("chunked", "2")):
        monkeypatch.setenv("GIODQ_VALIDATE_CHUNK", chunk)
        outs[name] = tmp_path / name
        pipeline.run(str(src), outs[name], roster=str(roster), years="2022-2024")
    whole, chunked = (outs[n] / "dataset" for n in ("whole", "chunked"))
    files = sorted(p.name for p in whole.glob("*.parquet"))
    assert {"cells.parquet", "summary.parquet", "reports.parquet", "findings.parquet"} <= set(files)
    for name in files:
        assert _rows(whole / name) == _rows(chunked / name), name
    assert len(pd.read_parquet(whole / "cells.parquet")) > 1000
    pages = sorted(p.name for p in (outs["whole"] / "data_docs" / "reports").glob("*.html"))
    readable = pd.read_parquet(whole / "reports.parquet").query("status == 'ok'")
    assert len(pages) == len(readable) >= 9
    assert pages == sorted(p.name for p in (outs["chunked"] / "data_docs" / "reports").glob("*.html"))
    for page in pages:
        # the same page, but for the time of the GX run its links name
        a, b = (re.sub(r"\d{8}T\d{6}\.\d{6}Z", "TIME", (outs[n] / "data_docs" / "reports" / page).read_text(encoding="utf-8"))
                for n in ("whole", "chunked"))
        assert a == b, page
        assert "<td" in a


def test_a_spool_keeps_its_frames_exactly_travels_as_them_and_leaves_nothing(tmp_path, monkeypatch):
    import gc
    import pickle
    import tempfile

    from giodq.categorical import concat
    from giodq.validate.frames import cells_frame

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    reports = _district_reports()[:4]
    frames = [cells_frame(reports[:2]), cells_frame(reports[2:])]
    spool = CellSpool()
    for f in frames:
        spool.add(f)
    assert len(spool) == sum(map(len, frames))
    for got, want in zip(spool.parts(), frames):
        pd.testing.assert_frame_equal(got, want)
    assert list(tmp_path.iterdir()) == []   # files without a name: nothing another process could open
    files = list(spool._files)
    copy = pickle.loads(pickle.dumps(spool))   # a Dask worker's result: the frames, not the files
    spool.close()
    assert all(f.closed for f in files)
    pd.testing.assert_frame_equal(all_cells(copy), concat(frames))
    others = list(copy._files)
    del copy
    gc.collect()
    assert all(f.closed for f in others)


def test_a_spool_reads_back_a_few_reports_cells_at_a_time(monkeypatch):
    """Publishing reads a spool a part at a time: a chunk's cells come back in parts of
    PART_REPORTS reports, every report's cells in one part, and together as the chunk was."""
    from giodq.categorical import concat
    from giodq.validate import spool as sp
    from giodq.validate.frames import cells_frame

    monkeypatch.setattr(sp, "PART_REPORTS", 2)
    reports = _district_reports()[:5]
    chunk = cells_frame(reports)
    spool = CellSpool()
    spool.add(chunk)
    parts = list(spool.parts())
    assert [p["report"].nunique() for p in parts] == [2, 2, 1]
    assert [r for p in parts for r in dict.fromkeys(p["report"])] == [r.report for r in reports]
    pd.testing.assert_frame_equal(concat(parts), chunk)
    assert len(spool) == len(chunk)


def test_a_spools_chunks_are_written_as_the_whole_would_be_with_or_without_scans(tmp_path):
    """A chunk without scans has no OCR columns and a chunk of failed reports no cells: cells.parquet
    reads back with the types and row groups the whole frame gives."""
    import pyarrow.parquet as pq

    from giodq.categorical import concat
    from giodq.publish.dataset import CELLS_SCHEMA, _write
    from giodq.validate.frames import _ocr_columns, cells_frame

    reports = _district_reports()
    plain = cells_frame(reports[:6])
    scanned = cells_frame(reports[6:9])
    scanned = scanned.join(_ocr_columns(len(scanned), [(0, [ocr.Where(1, (1, 2, 3, 4), 0.9)] * 5)]))
    empty = plain.iloc[:0]
    assert "ocr_page" not in plain and str(scanned["ocr_page"].dtype) == "Int64"
    spool = CellSpool()
    for frame in (empty, plain, scanned):
        spool.add(frame)
    assert [list(p.columns) for p in spool.parts()] == [list(scanned.columns)] * 3
    _write(spool, CELLS_SCHEMA, tmp_path / "chunked.parquet")
    _write(concat([empty, plain, scanned]), CELLS_SCHEMA, tmp_path / "whole.parquet")
    got, want = (pd.read_parquet(tmp_path / f"{n}.parquet") for n in ("chunked", "whole"))
    pd.testing.assert_frame_equal(got, want)
    assert str(got["ocr_page"].dtype) == "Int64" and got["ocr_page"].notna().sum() == 5
    assert pq.ParquetFile(tmp_path / "chunked.parquet").num_row_groups <= 3   # not one per row


def test_a_killed_runs_spools_leave_nothing_behind(tmp_path):
    import os
    import subprocess
    import sys

    # a run killed while its cells and packed reports wait on disk
    script = """
import os, signal
import pandas as pd
from giodq.extract.packed import PackedFile
from giodq.validate.spool import CellSpool
spool = CellSpool()
spool.add(pd.DataFrame({"report": ["a"], "raw": ["1"]}))
waiting = PackedFile().put(b"packed")
print(len(os.listdir(os.environ["TMPDIR"])), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    run = subprocess.run([sys.executable, "-c", script], env={**os.environ, "TMPDIR": str(tmp_path)},
                         capture_output=True, text=True)
    assert run.returncode == -9, run.stderr
    assert run.stdout.strip() == "0" and list(tmp_path.iterdir()) == []
