"""Extract: one report file's bytes -> its metadata and canonical cells (raw text kept).

``extract_report`` never raises for a bad file: a file that cannot be read at all
comes back with ``status = "failed"`` and the reason, so that no input is lost.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from giodq.extract import claims, layout, meta, ocr, parts, tables
from giodq.extract.decode import NotAReport, decode, sniff
from giodq.extract.digests import Digests
from giodq.extract.limits import Limits, input_reason
from giodq.extract.numbers import is_value_cell
from giodq.extract.rawcells import RawCells

if TYPE_CHECKING:
    from giodq.extract.packed import Spilled

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Extracted:
    """What one input file yields. ``raw`` maps every canonical key of the format to
    the text as written ('' for a blank cell, None where the cell was not located)."""
    report: str
    sha256: str
    status: str = "ok"
    version: str | None = None        # the listing's version tag of the bytes read (ingest.InputRef)
    error: str | None = None
    media: str | None = None          # pdf, docx, html, text
    title: str | None = None          # the report's title as written
    body: str | None = None
    year: int | None = None
    format: str = "unknown"
    published: date | None = None
    title_year: int | None = None     # the year the title names (form.year)
    period_year: int | None = None    # the year of the statistics period (form.year)
    raw: Mapping[str, str | None] = field(default_factory=dict)   # RawCells where it is the format's
    problems: list[str] = field(default_factory=list)   # what could not be read, and why (中文)
    placed: dict[str, str] = field(default_factory=dict)  # table rows in doubt (placed by position, OCR) -> why (中文)
    scanned: bool = False                                   # a scan: tables and text read by OCR
    ocr: dict[str, ocr.Where] = field(default_factory=dict)  # cells read by OCR -> page, box, confidence
    claims: list[claims.Claim] = field(default_factory=list)      # counts and claims of none
    shares: list[claims.Share] = field(default_factory=list)      # stated percentages
    placeholders: list[str] = field(default_factory=list)         # sentences with template blanks
    parts: parts.Parts | None = None                              # the six parts of the format (form.sections)
    part_five: claims.PartFive | None = None                      # what part five states (narrative.problems)
    sentence_hashes: Sequence[str] = field(default_factory=list)  # the narrative's sentences (cross_year.copied; Digests)
    # raw, placed, ocr and the narrative as bytes while a run waits, on disk in the run's process (extract/packed.py)
    packed: bytes | Spilled | None = None


def failed(report: str, data: bytes, reason: str) -> Extracted:
    return Extracted(report=report, sha256=hashlib.sha256(data).hexdigest(), status="failed", error=reason)


class Document(NamedTuple):
    """What a file holds, reduced to rows (layout.py): its media kind, the rows, the page title,
    notes on what could not be read (中文), and whether the rows were read by OCR."""
    media: str
    rows: list[layout.Row]
    title: str | None = None
    notes: list[str] = []
    scanned: bool = False


def document_rows(data: bytes, limits: Limits | None = None) -> Document:
    """Bytes -> the Document, the work bounded by ``limits`` (the settings' when None). Raises NotAReport."""
    limits = limits or Limits.resolve()
    kind = sniff(data)
    if kind == "pdf":
        scans = ocr.PdfScans(data, ocr.Budget(limits))
        try:
            rows, notes = layout.pdf_to_rows(data, limits, scans)
        finally:
            scans.close()
        if not any(any(c for c in r) for r in rows):
            # a scan that cannot be read: the tables are there but not readable, which is form.tables, never zeros
            return Document(kind, [], None, [scans.why_nothing()] + scans.budget.notes() + notes,
                            scanned=scans.scanned)
        return Document(kind, rows, None, scans.notes() + notes, scanned=scans.scanned)
    if kind == "image":
        return _image_file(data)
    if kind == "docx":
        pictures = ocr.Pictures(ocr.Budget(limits))
        rows = layout.docx_to_rows(data, limits, pictures.read)
        return Document(kind, rows, None, pictures.notes(), scanned=pictures.scanned)
    text = decode(data, kind, limits)
    if kind == "html":
        root, notes = layout.parse_html(text)
        rows, title = layout.tree_to_rows(root)
        return Document(kind, rows, title, notes)
    return Document(kind, layout.text_to_rows(text))


def _image_file(data: bytes) -> Document:
    """An image file's rows read by OCR; or none, with why, where it cannot be read here: the tables
    are there but not readable, which is form.tables, never zeros."""
    try:
        rows = ocr.image_rows(data)
    except ocr.Unreadable as e:
        return Document("image", [], None, [f"扫描件：{e}，表格和正文均无法读取"], scanned=True)
    return Document("image", rows, None, ["扫描件：表格和正文经文字识别（OCR）读取，未经人工核对"], scanned=True)


def extract_report(report: str, data: bytes) -> Extracted:
    """One input file -> Extracted. Never raises for bad input."""
    sha = hashlib.sha256(data).hexdigest()
    limits = Limits.resolve()
    too_large = input_reason(len(data), limits)  # before any parsing (ingest checks too; this is the last line)
    if too_large:
        return failed(report, data, too_large)
    try:
        doc = document_rows(data, limits)
    except NotAReport as e:
        return failed(report, data, str(e))
    except Exception as e:  # a parser crash on a damaged file is a failed input, not a failed run
        log.exception("cannot read %s", report)
        return failed(report, data, f"unreadable: 无法解析文件（{type(e).__name__}: {e}）")
    try:
        return _read(report, sha, doc)
    except Exception as e:  # a bug met on one odd file fails that input, not the batch or the run
        log.exception("cannot extract %s", report)
        return failed(report, data, f"extract: 提取失败（{type(e).__name__}: {e}）")


def _read(report: str, sha: str, doc: Document) -> Extracted:
    """Rows of one document -> Extracted: metadata, tables, narrative."""
    rows, title, notes = doc.rows, doc.title, doc.notes
    page = meta.Page(rows, title)
    title_year, period_year = meta.title_year(page), meta.period_year(page)
    year = meta.find_year(page, title_year, period_year)
    has_numbers = any(is_value_cell(c) for r in rows if len(r) > 1 for c in r)
    fmt = meta.decide_format(year, tables.detect_format(rows), page, has_numbers)
    read = tables.read_tables(rows, fmt, scanned=doc.scanned)
    by_ocr = ocr.take_cells(read)
    prose = [r[0] for r in rows if len(r) == 1]
    sentences = claims.sentences(prose)
    paras = claims.paragraphs(prose)
    six = parts.read_parts(rows)
    return Extracted(
        report=report, sha256=sha, media=doc.media, scanned=doc.scanned,
        title=meta.find_title(page), body=meta.find_body(page), year=year, format=fmt,
        published=meta.find_published(page), title_year=title_year, period_year=period_year,
        raw=RawCells.of(fmt, read.raw), problems=notes + read.problems, placed=read.placed, ocr=by_ocr,
        claims=claims.read_claims(sentences) + claims.read_enumerations(paras), shares=claims.read_shares(paras),
        placeholders=claims.read_placeholders(sentences),
        parts=six, part_five=claims.read_part_five(six.five) if six.at[4] is not None else None,
        sentence_hashes=Digests.of(claims.sentence_hashes(sentences)),
    )
