"""Reports held compactly while a province waits for validation: raw cells as the format's keys and
a tuple (giodq/extract/rawcells.py), the cells and narrative packed into bytes (extract/packed.py),
and validation of packed reports the same as of the reports as extracted."""
import os
import pickle
from dataclasses import replace

import pandas as pd
import pytest

from conftest import read_fixture
from giodq import cells as cm
from giodq.extract import extract_report
from giodq.extract.packed import PackedFile, pack, unpack
from giodq.extract.rawcells import RawCells
from giodq.pipeline import reports_table, validate_reports
from giodq.validate.spool import all_cells


def test_raw_cells_read_as_the_dict_they_came_from():
    e = extract_report("s.txt", read_fixture("004_47717d3cd7e0ea5b.txt"))
    assert isinstance(e.raw, RawCells) and e.raw.fmt == e.format
    plain = dict(e.raw)
    assert list(plain) == [c.key for c in cm.cells_for(e.format)]
    assert e.raw == plain and plain == e.raw
    assert e.raw["t3.new_received.total"] == plain["t3.new_received.total"]
    assert e.raw.get("no.such.key", "?") == "?" and "no.such.key" not in e.raw
    assert list(e.raw.values()) == list(plain.values()) and list(e.raw.items()) == list(plain.items())
    back = pickle.loads(pickle.dumps(e))
    assert back.raw == plain and isinstance(back.raw, RawCells)
    assert len(pickle.dumps(e.raw)) < len(pickle.dumps(plain)) / 3


def test_other_cells_stay_a_dict():
    keys = [c.key for c in cm.cells_for("2021")]
    assert RawCells.of("legacy", {}) == {} and not isinstance(RawCells.of("legacy", {}), RawCells)
    partial = {k: "" for k in keys[:-1]}
    assert RawCells.of("2021", partial) is partial
    reordered = dict(reversed(list({k: "" for k in keys}.items())))
    assert RawCells.of("2021", reordered) is reordered


def test_packed_reports_validate_as_extracted():
    reports = [extract_report(n, read_fixture(n)) for n in
               ("004_47717d3cd7e0ea5b.txt", "002_40523efafb065443.txt", "guihuaping-street-2020.txt",
                "shuyang-drc-2023.html")]
    reports.append(extract_report("bad.txt", b"\x00\x01 not a report"))
    packed = [pack(r) for r in reports]
    assert all(p.packed and not p.raw and not p.claims and p.parts is None for p in packed if p.status == "ok")
    assert packed[-1] is reports[-1]   # a failed input has nothing to pack
    assert [unpack(p) for p in packed] == reports
    assert all(len(p.packed) < len(pickle.dumps(r)) / 2 for p, r in zip(packed, reports) if p.packed)
    assert unpack(packed[0]) is not packed[0] and packed[0].packed   # the packed one stays packed
    a, b = validate_reports(reports), validate_reports(packed)
    pd.testing.assert_frame_equal(all_cells(a.cells), all_cells(b.cells))   # by chunk too (GIODQ_VALIDATE_CHUNK)
    pd.testing.assert_frame_equal(a.findings, b.findings)
    assert dict(a.not_assessed) == dict(b.not_assessed)
    pd.testing.assert_frame_equal(reports_table(reports, a), reports_table(packed, b))


def test_sentence_digests_read_as_their_strings_and_are_written_as_lists():
    import pyarrow as pa

    from giodq.extract.digests import Digests
    from giodq.publish.dataset import _table

    hexes = ["0123456789abcdef", "fedcba9876543210", "00000000000000ff"]
    d = Digests.of(hexes)
    assert isinstance(d, Digests) and len(d.data) == 24
    assert d == hexes and list(d) == hexes and d[1] == hexes[1] and d[-1] == hexes[-1] and d[:2] == hexes[:2]
    assert set(d) == set(hexes) and len(d) == 3 and pickle.loads(pickle.dumps(d)) == hexes
    assert Digests.of(["not hex at all!!", *hexes]) == ["not hex at all!!", *hexes]   # kept as written
    assert not isinstance(Digests.of(["ABCDEF0123456789"]), Digests)   # not as the extraction writes them
    # reports.parquet's column: lists of the strings, a run's digests beside a dataset's plain lists (an update)
    written = _table(pd.DataFrame({"sentence_hashes": [d, None, Digests.of([]), Digests.of(hexes[:1]), hexes]}),
                     pa.schema([("sentence_hashes", pa.list_(pa.string()))]))
    assert written.column("sentence_hashes").to_pylist() == [hexes, None, [], hexes[:1], hexes]

    e = extract_report("s.txt", read_fixture("004_47717d3cd7e0ea5b.txt"))
    assert isinstance(e.sentence_hashes, Digests) and len(e.sentence_hashes) > 5


def test_a_rerun_reads_missing_digests_of_an_older_dataset_as_none_kept():
    """A dataset written before reports.parquet had sentence_hashes, beside a rerun's new row (an
    Arrow list column): the other reports' hashes are pd.NA, read as none kept."""
    import pyarrow as pa

    from giodq.rerun import _from_dataset

    older = pd.DataFrame({"report": ["2023.txt"], "sha256": ["a"], "body": ["X"], "year": [2023], "format": ["2021"]})
    new = pd.DataFrame({"report": ["2024.txt"], "sha256": ["b"], "body": ["X"], "year": [2024], "format": ["2021"],
                        "sentence_hashes": pd.arrays.ArrowExtensionArray(pa.array([["0000000000000000"]],
                                                                                  type=pa.list_(pa.string())))})
    reports = pd.concat([older, new], ignore_index=True)
    cells = pd.DataFrame({"report": pd.Series([], dtype="string"), "key": pd.Series([], dtype="string"),
                          "raw": pd.Series([], dtype="string")})
    assert _from_dataset(reports.iloc[0], cells).sentence_hashes == []
    assert _from_dataset(reports.iloc[1], cells).sentence_hashes == ["0000000000000000"]


def test_waiting_reports_let_go_of_each_batchs_bytes_once_it_is_in(tmp_path, monkeypatch):
    """A run takes the batches in one at a time (pipeline.Waiting): each report's packed bytes go to
    disk at once and the batch's own objects are not held, so that a province's batches are never
    all in memory together; in the end the reports come in the listing's order, with its versions."""
    import sys
    import tempfile

    from giodq.extract.packed import Spilled
    from giodq.ingest import InputRef
    from giodq.pipeline import Waiting

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    names = ("004_47717d3cd7e0ea5b.txt", "shuyang-drc-2023.html")
    batches = [[pack(extract_report(n, read_fixture(n)))] for n in names]
    waiting = Waiting([InputRef(key=n, version=f"v{i}") for i, n in enumerate(reversed(names))])
    packed = batches[0][0].packed
    held = sys.getrefcount(packed)
    assert waiting.add(batches[0]) == 1
    del batches[0]
    assert sys.getrefcount(packed) == held - 1   # only this test's name for the bytes is left
    assert waiting.add(batches[0]) == 1
    ready = waiting.in_order()
    assert [(r.report, r.version) for r in ready] == [(names[1], "v0"), (names[0], "v1")]
    assert all(isinstance(r.packed, Spilled) for r in ready) and ready[1].packed.read() == packed
    assert list(tmp_path.iterdir()) == []   # the file has no name


def test_waiting_reports_are_on_disk_and_read_back_by_position(tmp_path, monkeypatch):
    """The waiting reports hold where each report is, not the report (extract/waiting.py): read back
    by position, in chunks (validate/chunks.py) and as a whole to another process."""
    import gc
    import tempfile
    from array import array

    from giodq.extract.waiting import WaitingReports
    from giodq.ingest import InputRef
    from giodq.pipeline import with_versions
    from giodq.validate.chunks import unit_chunks

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    names = ("004_47717d3cd7e0ea5b.txt", "shuyang-drc-2023.html")
    reports = [extract_report(n, read_fixture(n)) for n in names] + [extract_report("bad.txt", b"\x00\x01")]
    refs = [InputRef(key=r.report, version=f"v{i}") for i, r in enumerate(reports)]
    waiting = with_versions([pack(r) for r in reversed(reports)], refs)
    assert isinstance(waiting, WaitingReports) and len(waiting) == 3
    assert {type(o) for o in gc.get_referents(waiting)} - {type(WaitingReports)} == {array, PackedFile}   # where, the file
    expected = [replace(r, version=f"v{i}") for i, r in enumerate(reports)]
    assert [unpack(w) for w in waiting] == expected
    assert waiting[-1] == expected[-1] and waiting[0] is not waiting[0]   # each read a new object
    with pytest.raises(IndexError):
        waiting[3]
    assert [unpack(w) for w in waiting[1:]] == expected[1:]
    chunks = unit_chunks(waiting, {}, 2)   # no units: each report alone, two to a chunk
    assert [type(c) for c in chunks] == [WaitingReports] * 2
    assert [[unpack(r) for r in c] for c in chunks] == [expected[:2], expected[2:]]
    whole = pickle.loads(pickle.dumps(waiting))   # as the reports, with their bytes
    assert isinstance(whole, list) and [unpack(r) for r in whole] == expected


def test_packed_reports_wait_on_disk_and_read_back_as_extracted(tmp_path, monkeypatch):
    import gc
    import tempfile
    import weakref

    from giodq.extract.packed import PackedFile, Spilled
    from giodq.ingest import InputRef
    from giodq.pipeline import with_versions

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    names = ("004_47717d3cd7e0ea5b.txt", "shuyang-drc-2023.html")
    reports = [extract_report(n, read_fixture(n)) for n in names] + [extract_report("bad.txt", b"\x00\x01")]
    refs = [InputRef(key=r.report, version=f"v{i}") for i, r in enumerate(reversed(reports))]
    waiting = with_versions([pack(r) for r in reports], refs)
    assert [r.report for r in waiting] == [r.report for r in reversed(reports)]      # the listing's order
    assert [r.version for r in waiting] == ["v0", "v1", "v2"]
    assert [type(r.packed) for r in waiting] == [type(None), Spilled, Spilled]      # bad.txt has nothing packed
    assert waiting[1].packed.file is waiting[2].packed.file and list(tmp_path.iterdir()) == []   # one file, no name
    by_key = {r.report: r for r in reports}
    assert all(unpack(w) == replace(by_key[w.report], version=w.version) for w in waiting)
    # to another process (a Dask worker) a spilled report goes with its bytes
    copy = pickle.loads(pickle.dumps(waiting[1]))
    assert isinstance(copy.packed, bytes) and unpack(copy) == unpack(waiting[1])
    # a validation of waiting reports is that of the reports as extracted
    a, b = validate_reports(reports), validate_reports(waiting)
    pd.testing.assert_frame_equal(a.findings.sort_values(["report", "rule"], ignore_index=True),
                                  b.findings.sort_values(["report", "rule"], ignore_index=True))
    file = weakref.ref(waiting[1].packed.file)
    handle = waiting[1].packed.file._file
    del waiting, copy, b
    gc.collect()
    assert file() is None and handle.closed   # closed with the last report that waited in it
    # bytes cut short under the run are an error, never part of a report
    short = PackedFile()
    spilled = short.put(b"0123456789")
    os.ftruncate(short._file.fileno(), 4)
    with pytest.raises(OSError, match="ends early"):
        spilled.read()
