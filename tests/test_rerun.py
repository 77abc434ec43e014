"""Rerun one report after its unit corrects it: its rows and findings are replaced, the history
says what the correction resolved, every other report's rows stay as they were."""
import json
import re
import shutil

import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES, read_fixture
from giodq.pipeline import run
from giodq.rerun import rerun

KEY = "004_47717d3cd7e0ea5b.txt"


def _dataset(out):
    return {n: pq.read_table(out / "dataset" / f"{n}.parquet").to_pandas() for n in ("reports", "cells", "findings")}


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("out")
    for p in SAMPLES.iterdir():
        shutil.copy(p, src / p.name)
    run(str(src), out)
    before = _dataset(out)
    # the unit corrects its narrative: 6 requests, as its table says
    text = read_fixture(KEY).decode().replace("收到申请公开政府信息 2 件", "收到申请公开政府信息 6 件")
    (src / KEY).write_text(text, encoding="utf-8")
    record = rerun(KEY, str(src), out)
    return before, _dataset(out), record, out


def test_the_corrected_finding_is_gone_and_recorded_as_resolved(corrected):
    before, after, record, out = corrected
    assert "narrative.count" in set(before["findings"].loc[before["findings"]["report"] == KEY, "rule"])
    assert not (after["findings"]["report"] == KEY).any()
    assert [(r["report"], r["rule"]) for r in record["resolved"]] == [(KEY, "narrative.count")]
    assert record["appeared"] == []
    history = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "runs").glob("*.json"))]
    assert any(h.get("kind") == "rerun" and h["resolved"] for h in history)
    row = after["reports"].set_index("report").loc[KEY]
    assert row["errors"] == 0 and row["sha256"] != before["reports"].set_index("report").loc[KEY, "sha256"]


def test_other_reports_rows_are_unchanged(corrected):
    before, after, _, _ = corrected
    for name, frame in before.items():
        old = frame[frame["report"] != KEY].reset_index(drop=True)
        new = after[name][after[name]["report"] != KEY].reset_index(drop=True)
        cols = [c for c in old.columns if c not in ("errors", "warnings")]
        assert old[cols].astype(str).equals(new[cols].astype(str)), name


def test_the_site_is_rebuilt_with_the_correction(corrected):
    _, _, record, out = corrected
    assert (out / "data_docs" / "index.html").exists()
    # pages kept from the first run still lead to GX results over the whole district, which show
    # their own rows (not to the rerun's one-report results)
    kept = next(p for p in (out / "data_docs" / "reports").glob("*.html") if "001_183f359fdb579c94.txt" in p.read_text("utf-8"))
    links = set(re.findall(r'href="\.\./(validations/[^"]+)"', kept.read_text("utf-8")))
    assert links and all((out / "data_docs" / link).exists() for link in links)
    shares = next(link for link in links if link.startswith("validations/shares/"))
    assert "001_183f359fdb579c94.txt" in (out / "data_docs" / shares).read_text("utf-8")
    page = next(p for p in (out / "data_docs" / "reports").glob("*.html") if KEY in p.read_text(encoding="utf-8"))
    assert "正文数字与表格不符" not in page.read_text(encoding="utf-8")


def test_the_next_years_carry_is_rechecked(tmp_path):
    """A corrected 2023 report changes what its 2024 successor is compared with."""
    from test_cross_year import carry_pair, predecessor

    src = tmp_path / "src"
    carry_pair(src, tmp_path / "out")
    (src / "zh-2023.txt").write_bytes(predecessor(0, 0))     # corrected: nothing carried forward
    record = rerun("zh-2023.txt", str(src), tmp_path / "out")
    f = _dataset(tmp_path / "out")["findings"]
    assert "cross_year.carry" not in set(f.loc[f["report"] == "zh-2024.txt", "rule"])
    assert record["rechecked"] == ["zh-2024.txt"]
    assert {r["rule"] for r in record["resolved"] if r["report"] == "zh-2024.txt"} == {"cross_year.carry"}
