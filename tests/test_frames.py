"""The validation frames are built on codes (categoricals) for speed; these hold them to what the
plain pandas operations on strings give, and the dataset to plain strings."""
import re
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from conftest import FIXTURES, SAMPLES
from giodq import pipeline
from giodq.categorical import objects, plain_strings
from giodq.district import figures
from giodq.extract import extract_report
from giodq.extract.numbers import ZERO_MARKERS, valid_cell_pattern
from giodq.validate import frames as fr


def _reports():
    files = sorted(SAMPLES.iterdir()) + [FIXTURES / n for n in ("guihuaping-street-2020.txt", "pingtan-zone-2021.txt",
                                                                 "xiongxian-township-2019.txt", "shuyang-drc-2023.html")]
    # every sample twice under other keys: reports whose keys sort apart from their order in the run
    return [extract_report(f"{prefix}{p.name}", p.read_bytes()) for prefix in ("z-", "a-") for p in files]


def test_the_table_frames_are_the_pivots_pandas_gives_on_strings():
    reports = _reports()
    cells = fr.cells_frame(reports)
    assert isinstance(cells["key"].dtype, pd.CategoricalDtype) and isinstance(cells["report"].dtype, pd.CategoricalDtype)
    rep = fr.reports_frame(reports)
    strings = plain_strings(cells)
    for table, line, columns in (("t3", "col", [r.key for r in fr.cm.T3_ROWS]), ("t3", "row", [c.key for c in fr.cm.T3_COLS]),
                                 ("t4", "row", [c.key for c in fr.cm.T4_COLS])):
        other = "col" if line == "row" else "row"
        part = strings[strings["table"] == table]
        wide = part.pivot(index=["report", line], columns=other, values="value").reindex(columns=columns)
        wide = wide.astype("float64").reset_index()
        wide.columns.name = None
        wide[line] = wide[line].astype("string")
        want = rep[["report", "format"]].merge(wide, on="report", how="inner")
        got = fr._table_frame(cells, rep, table, line, columns)
        assert len(got) > 20
        pd.testing.assert_frame_equal(got, want)


def test_plain_strings_gives_the_strings_back_and_keeps_missing_values():
    values = ["乙", "甲", None, "甲", "a"]
    frame = pd.DataFrame({"c": pd.Categorical(values), "n": range(5)})
    out = plain_strings(frame)
    assert str(out["c"].dtype) == "string" and out["n"].tolist() == list(range(5))
    assert [None if v is pd.NA else v for v in out["c"]] == values


def test_the_dataset_stores_the_cells_as_plain_strings(tmp_path):
    out = tmp_path / "out"
    pipeline.run(str(SAMPLES), str(out))
    [path] = list(out.glob("releases/*/dataset/cells.parquet"))
    schema = pq.read_schema(path)
    for name in ("report", "key", "table", "row", "col", "label", "kind", "raw"):
        assert str(schema.field(name).type) in ("string", "large_string"), name
    cells = pd.read_parquet(path)
    assert all(str(cells[c].dtype) in ("string", "str", "object") for c in ("report", "key", "label"))
    reports = pd.read_parquet(path.with_name("reports.parquet"))
    with_tables = reports.loc[reports["format"].isin(fr.cm.TABLE_FORMATS), "report"]
    assert set(cells["report"]) == set(with_tables) and len(with_tables) >= 4


def _python_pattern(kind: str) -> str:
    """value.type's pattern as written with Python's own \\d, \\s and $."""
    digits = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
    number = {"count": rf"{digits}(?:\.0+)?", "amount": rf"{digits}(?:\.\d+)?", "change": rf"[+-]?{digits}(?:\.0+)?"}[kind]
    markers = "|".join(re.escape(m) for m in ZERO_MARKERS if m)
    return rf"^\s*(?:{number}(?:\s*[（(][^）)]*[）)])?|{markers})?\s*$"


def test_the_value_type_pattern_runs_in_arrow_and_accepts_what_python_would():
    # every code point, alone and inside numbers: each character class is held to Python's \d and \s
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    texts = [t for c in chars for t in (c, f"1{c}2", f" 3({c})")] + ["1\n", "12\n（注）\n", "1,234", "1,23", "+3", "3.50"]
    cells = pd.Series(texts, dtype="string")
    for kind in ("count", "amount", "change"):
        pattern = valid_cell_pattern(kind)
        assert not cells.array._needs_python_regex(pattern)   # GX's str.contains goes to Arrow's RE2
        got = cells.str.contains(pattern).to_numpy(dtype=bool)
        python = re.compile(_python_pattern(kind))
        want = np.array([bool(python.search(t)) for t in texts])
        assert want.sum() > 1000
        assert [t for t, g, w in zip(texts, got, want) if g != w] == []


def test_a_report_key_given_twice_is_refused_as_pandas_pivot_refuses_it():
    one = next(r for r in _reports() if r.format in fr.cm.TABLE_FORMATS)
    cells = fr.cells_frame([one, one])
    try:
        fr._table_frame(cells, fr.reports_frame([one]), "t3", "row", [c.key for c in fr.cm.T3_COLS])
    except ValueError as e:
        assert "twice" in str(e)
    else:
        raise AssertionError("a report's cells given twice were pivoted")


def test_the_dataset_is_read_as_categoricals_and_put_together_with_a_run_without_python_objects(tmp_path):
    from giodq.categorical import concat
    from giodq.publish.dataset import read_full_dataset

    out = tmp_path / "out"
    pipeline.run(str(SAMPLES), str(out))
    [release] = list(out.glob("releases/*"))
    _, cells, _ = read_full_dataset(release)
    for name in ("report", "key", "label"):
        categories = list(cells[name].cat.categories)
        assert categories == sorted(categories)
    run = fr.cells_frame(_reports()[:3])
    both = concat([cells, run])
    assert all(isinstance(both[c].dtype, pd.CategoricalDtype) for c in ("report", "key", "table", "label"))
    want = pd.concat([plain_strings(cells), plain_strings(run)], ignore_index=True)
    pd.testing.assert_frame_equal(plain_strings(both), want)


def test_objects_give_one_python_string_per_category_and_none_where_missing():
    column = pd.Series(pd.Categorical(["甲", None, "乙", "甲"]))
    got = objects(column)
    assert got.tolist() == ["甲", None, "乙", "甲"]
    assert got[0] is got[3]   # shared, not a string per row
    plain = pd.Series(["x", "y"], dtype="object")
    assert objects(plain).tolist() == ["x", "y"]


def test_the_district_figures_read_the_counted_cells_as_a_merge_on_strings_would():
    reports = _reports()
    frames = fr.validation_frames(reports)
    counted = figures.counted_reports(frames["coverage_table"])
    keys = figures.summed_keys()
    strings = plain_strings(frames["cells"])
    want = counted.assign(row=range(len(counted))).merge(
        strings.loc[strings["key"].isin(keys), ["report", "key", "value"]], on="report")[["row", "key", "value"]]
    got = figures._counted_cells(frames["cells"], counted, keys)
    got = got.iloc[got["row"].argsort(kind="stable")]
    assert len(got) > 100
    pd.testing.assert_frame_equal(got.astype({"key": "string"}).reset_index(drop=True),
                                  want.astype({"key": "string"}).reset_index(drop=True))
    pd.testing.assert_frame_equal(figures.summary_frame(frames["coverage_table"], frames["cells"]),
                                  figures.summary_frame(frames["coverage_table"], strings))


def test_a_report_page_lays_out_every_cell_under_its_row_and_column_whatever_the_order():
    from giodq.publish.review import _tables

    report = next(r for r in _reports() if r.format == "2021")
    cells = list(report.raw.items())
    key = "t3.new_received.total"
    cells = [(k, None if k == key else ("" if k == "t4.review.total" else v)) for k, v in cells]
    tables = _tables(cells)
    assert [t["title"] for t in tables] == list(fr.cm.TABLES.values())
    shown = {}
    for t in tables:
        for label, row in t["rows"]:
            for col, cell in zip(t["cols"], row):
                shown[(t["title"], label, col)] = cell
    for k, v in cells:
        c = fr.cm.all_cells()[k]
        want = ("giodq-missing", "未读取") if v is None else ("giodq-blank", "（空白）") if v == "" else ("", v)
        assert shown[(fr.cm.TABLES[c.table], c.row_label, c.col_label)] == want, k
    assert sum(cell == ("giodq-na", "") for cell in shown.values()) == len(shown) - len(cells)
    assert _tables(list(reversed(cells)))[0]["rows"][0][0] == tables[0]["rows"][-1][0]   # rows as the cells name them


def test_a_pages_cells_are_its_rows_in_order_whether_the_reports_rows_are_together_or_not():
    """docs._rows_by_report: each report's (key, raw) in the frame's order, from a run's cells (each
    report's rows together: no sort, no copy) or from rows in any order (an update's, a subset)."""
    from giodq.publish.docs import _rows_by_report

    cells = fr.cells_frame(_reports()[:3])
    names = list(dict.fromkeys(cells["report"].astype(str)))
    shuffled = cells.sample(frac=1, random_state=1)
    mixed = shuffled.assign(report=shuffled["report"].astype(str))   # plain strings, not a categorical
    for frame in (cells, shuffled, mixed):
        for drawn in (set(names), {names[1]}):
            rows = _rows_by_report(frame, drawn, ["key", "raw"])
            for name in names:
                mine = frame[frame["report"].astype(str) == name]
                want = list(zip(mine["key"].astype(str), [None if pd.isna(v) else v for v in mine["raw"]]))
                assert rows(name) == (want if name in drawn else [])
