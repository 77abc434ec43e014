"""The cleaned dataset: reports, cells and findings as Parquet (spec/output-contract.md)."""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from giodq.categorical import plain_strings, with_sorted_categories
from giodq.extract.digests import Digests
from giodq.validate.spool import CellSpool, cell_parts

REPORTS_SCHEMA = pa.schema([
    ("report", pa.string()), ("sha256", pa.string()),
    ("version", pa.string()),                               # the listing's version tag: unchanged -> not re-read
    ("title", pa.string()), ("body", pa.string()),
    ("year", pa.int64()),
    ("format", pa.string()), ("status", pa.string()), ("error", pa.string()),
    ("media", pa.string()), ("published", pa.date32()),
    ("ocr", pa.bool_()),                                    # a scan: its tables and text read by OCR
    ("errors", pa.int64()), ("warnings", pa.int64()),      # findings by severity
    ("not_assessed", pa.list_(pa.string())),                # rules skipped for this report
    ("notes", pa.list_(pa.string())),                       # what extraction could not read, and why
    ("duplicates", pa.list_(pa.string())),                  # the other reports of its duplicate groups
    ("duplicate_kind", pa.list_(pa.string())),              # for each of them: same_content | same_body_year
    ("sentence_hashes", pa.list_(pa.string())),             # the narrative's sentences, digested (cross_year.copied)
    # district/names.py: the roster's unit (null: on no unit; the body normalised without a roster),
    # the rule that matched it, the spelling a gazetteer or similarity match rests on, the level
    ("unit", pa.string()), ("unit_match", pa.string()), ("spelling", pa.string()), ("level", pa.string()),
])
CELLS_SCHEMA = pa.schema([
    ("report", pa.string()), ("key", pa.string()), ("table", pa.string()), ("row", pa.string()),
    ("col", pa.string()), ("label", pa.string()), ("kind", pa.string()), ("raw", pa.string()),
    ("value", pa.float64()),
    # a cell of a scan, read by OCR (extract/ocr.py): Tesseract's confidence 0..1, the page and the
    # cell's box in pixels of the page as read (ocr.Where); null for a cell of a text layer
    ("ocr_confidence", pa.float64()), ("ocr_page", pa.int64()), ("ocr_box", pa.list_(pa.int64())),
])
FINDINGS_SCHEMA = pa.schema([
    ("report", pa.string()), ("rule", pa.string()), ("severity", pa.string()), ("cells", pa.list_(pa.string())),
    ("expected", pa.string()), ("observed", pa.string()), ("sentence", pa.string()), ("message", pa.string()),
    ("title", pa.string()), ("where", pa.string()),
    ("unit", pa.string()), ("year", pa.int64()),           # form.missing has no report: its unit and year
    # the review loop (output-contract.md, "Review decisions")
    ("finding_id", pa.string()), ("state", pa.string()), ("note", pa.string()), ("decided_by", pa.string()),
    ("decided_at", pa.string()),
])


COVERAGE_SCHEMA = pa.schema([
    ("unit", pa.string()), ("level", pa.string()), ("year", pa.int64()), ("status", pa.string()),
    ("reports", pa.list_(pa.string())),
    ("counted", pa.string()),                 # the report that counts (null: cannot be told)
    ("body", pa.string()), ("parent", pa.string()), ("on_roster", pa.bool_()), ("late", pa.bool_()),
    ("published", pa.date32()), ("deadline", pa.date32()),
    ("undated", pa.list_(pa.string())),       # the unit's reports whose year could not be read
])
SUMMARY_SCHEMA = pa.schema([
    ("scope", pa.string()), ("year", pa.int64()), ("level", pa.string()), ("unit", pa.string()),
    ("key", pa.string()), ("label", pa.string()), ("value", pa.float64()), ("reports", pa.int64()),
    ("previous", pa.float64()), ("change", pa.float64()), ("ratio", pa.float64()),
])
ROSTER_SCHEMA = pa.schema([
    ("unit", pa.string()), ("aliases", pa.list_(pa.string())), ("level", pa.string()), ("parent", pa.string()),
])


def _table(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    # from_pandas semantics: NaN and pd.NA become Arrow nulls; a column the frame lacks (cells.parquet's
    # OCR columns of a run without scans) is null throughout; categoricals (the run's cells) as the
    # plain strings the schema and the pandas metadata name
    df = plain_strings(df)
    # Arrow lists (a dataset's sentence_hashes) and a run's digests (8 bytes each, extract/digests.py) as
    # Python lists, a row group at a time: the file's pandas metadata then names a type every pandas reads back
    nested = [c for c in df.columns if isinstance(df[c].dtype, pd.ArrowDtype) and pa.types.is_list(df[c].dtype.pyarrow_dtype)]
    if nested:
        df = df.astype({c: object for c in nested})
    digests = [f.name for f in schema if pa.types.is_list(f.type) and f.name in df.columns and df[f.name].dtype == object
               and any(isinstance(v, Digests) for v in df[f.name])]
    if digests:
        df = df.assign(**{c: [list(v) if isinstance(v, Digests) else v for v in df[c]] for c in digests})
    lacking = {f.name: pa.nulls(len(df), f.type) for f in schema if f.name not in df.columns}
    if not lacking:
        return pa.Table.from_pandas(df.reindex(columns=schema.names), schema=schema, preserve_index=False)
    present = pa.schema([f for f in schema if f.name in df.columns])
    table = pa.Table.from_pandas(df.reindex(columns=present.names), schema=present, preserve_index=False)
    for name, column in lacking.items():
        table = table.append_column(schema.field(name), column)
    return table.select(schema.names)


# about this much Arrow data per row group: Parquet encodes a group in memory, and the reports'
# sentence digests go through Python lists on the way (16 MB groups: +55 MB at 50,000 reports)
ROW_GROUP_BYTES = 4 << 20


def _write(df: pd.DataFrame | CellSpool, schema: pa.Schema, path: Path) -> None:
    """A frame to Parquet a row group at a time, so that Arrow holds one part of a province's
    table at once, not a copy of all of it (the rows per group from the first rows' size, at least
    1,000). A province's cells come a part of the spool at a time (validate/spool.py)."""
    parts = cell_parts(df)
    frame = next(parts)
    while not len(frame) and (later := next(parts, None)) is not None:
        frame = later   # a chunk of failed reports has no cells: the first with rows sets the size
    first = _table(frame.iloc[:1000], schema)
    rows = max(1000, int(ROW_GROUP_BYTES / max(1, first.nbytes / max(1, len(first)))))
    if len(frame) > 1000:
        first = _table(frame.iloc[:rows], schema)
    # the first part's schema, with the pandas metadata from_pandas adds (Int64 stays Int64 when read)
    with pq.ParquetWriter(path, first.schema) as writer:
        writer.write_table(first)
        for start in range(rows, len(frame), rows):
            writer.write_table(_table(frame.iloc[start:start + rows], schema))
        for frame in parts:
            for start in range(0, len(frame), rows):
                writer.write_table(_table(frame.iloc[start:start + rows], schema))


def write_dataset(out: Path, reports: pd.DataFrame, cells: pd.DataFrame | CellSpool, findings: pd.DataFrame,
                  coverage: pd.DataFrame | None = None, summary: pd.DataFrame | None = None,
                  roster: pd.DataFrame | None = None) -> Path:
    """Write out/dataset/*.parquet, into a release that is not current yet (publish/store.py):
    reports, cells, findings, coverage and summary (the district view), and the roster checked
    against (when there was one: a rerun checks against the same)."""
    final = out / "dataset"
    final.mkdir(parents=True)
    _write(reports, REPORTS_SCHEMA, final / "reports.parquet")
    _write(cells, CELLS_SCHEMA, final / "cells.parquet")
    _write(findings, FINDINGS_SCHEMA, final / "findings.parquet")
    for name, frame, schema in (("coverage", coverage, COVERAGE_SCHEMA), ("summary", summary, SUMMARY_SCHEMA),
                                ("roster", roster, ROSTER_SCHEMA)):
        if frame is not None:
            _write(frame, schema, final / f"{name}.parquet")
    return final


def read_dataset(out: Path, inputs: Collection[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(reports, cells) of the dataset already at OUT, or None when there is none yet. ``inputs``:
    the keys a run reads anew. Their rows are kept (a run compares its inputs with them), but not
    their sentence digests nor their cells: the run's cross-year rules read only the dataset's other
    reports (validate/frames.py other_reports), and a province run again would otherwise hold its
    whole last dataset through the run (digests as Python strings, millions of cells)."""
    from giodq.validate.frames import READ_ANEW, ReadAnew   # not at the top: frames imports the district, which imports this

    final = Path(out) / "dataset"
    if not (final / "reports.parquet").exists():
        return None
    names = pq.read_schema(final / "reports.parquet").names   # a dataset of an older giodq lacks some columns
    wanted = ["report", "sha256", "version", "body", "year", "status", "error", "published", "sentence_hashes", "ocr"]
    table = pq.read_table(final / "reports.parquet", columns=[c for c in wanted if c in names])
    keep = None
    if inputs:
        anew = pc.is_in(table["report"], value_set=pa.array(sorted(set(inputs)), pa.string()))
        if "sentence_hashes" in table.column_names:
            at = table.column_names.index("sentence_hashes")
            table = table.set_column(at, "sentence_hashes",
                                     pc.if_else(anew, pa.nulls(len(table), table.schema.field(at).type), table.column(at)))
        # the others' cells only (in a district run again, most often none): not every cell decoded, then dropped
        keep = pc.field("report").isin(pc.filter(table["report"], pc.invert(anew)).combine_chunks().cast(pa.string()))
    cells = _cells(final / "cells.parquet", ["report", "key", "value"], keep)
    reports = table.to_pandas()
    if inputs:   # validate/frames.py other_reports checks that the run reads these again
        reports.attrs[READ_ANEW] = ReadAnew(set(inputs) & set(reports["report"]))
    return reports, cells


def read_full_dataset(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """(reports, cells, findings) at OUT, every column, or None when there is none yet."""
    final = Path(out) / "dataset"
    if not (final / "reports.parquet").exists():
        return None
    reports, findings = (pq.read_table(final / f"{name}.parquet").to_pandas() for name in ("reports", "findings"))
    return reports, _cells(final / "cells.parquet"), findings


# the cells' columns of a few hundred distinct values (report names: one per report), read as categoricals
CATEGORICAL_CELLS = ("report", "key", "table", "row", "col", "label", "kind")


def _cells(path: Path, columns: list[str] | None = None, filters: pc.Expression | None = None) -> pd.DataFrame:
    """cells.parquet with its repeated columns as categoricals, as the run's own cells are
    (validate/frames.py): a district's cells as strings take four times the memory. ``filters``:
    the rows to keep, as pyarrow reads them."""
    names = columns or pq.read_schema(path).names
    read = [c for c in CATEGORICAL_CELLS if c in names]
    return with_sorted_categories(pq.read_table(path, columns=columns, read_dictionary=read, filters=filters).to_pandas())
