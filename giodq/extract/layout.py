"""Documents -> rows: one list of cell texts per table row, one single-cell row per line of prose.

Every form a report comes in is first reduced to this, so that finding the
tables (tables.py) and the metadata (meta.py) is written once:

- ``text_to_rows``: plain text as it comes off the web: pipe-separated rows,
  one cell per line ending in ``|``, tab-separated rows from a PDF.
- ``html_to_rows``: a web page; each ``<tr>`` is a row, blocks of prose are lines,
  scripts, styles and navigation are dropped.
- ``pdf_to_rows``: pdfplumber's tables and the page text.
- ``docx_to_rows``: python-docx paragraphs and tables in document order.
"""
from __future__ import annotations

import io
import re

from lxml import html as lxml_html

from giodq.extract.numbers import is_value_cell

Row = list[str]

_PIPES_ONLY = re.compile(r"^\s*\|[\s|]*$")
_MARKDOWN_RULE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?\s*)?$")  # |---|---|


def _clean(cell: str) -> str:
    return re.sub(r"\s+", " ", cell.replace("\u3000", " ")).strip()


def text_to_rows(text: str) -> list[Row]:
    """Plain text -> rows. Tabs and inner pipes separate cells on one line; a cell that
    ends its line with ``|`` continues its row on the next line (the one-cell-per-line
    form), and a label that follows numbers starts a new row there."""
    rows: list[Row] = []
    pending: Row = []

    def flush() -> None:
        if pending:
            rows.append(pending.copy())
            pending.clear()

    for line in text.splitlines():
        if "\t" in line:
            flush()
            rows.append([_clean(c) for c in line.split("\t")])
            continue
        stripped = line.strip()
        if _MARKDOWN_RULE.match(stripped):
            continue
        if "|" not in stripped:
            if not stripped:
                continue
            if pending and is_value_cell(stripped):
                pending.append(_clean(stripped))  # the last number of a one-cell-per-line row has no pipe
                flush()
            else:
                flush()
                rows.append([_clean(stripped)])
            continue
        if _PIPES_ONLY.match(stripped):
            pending.extend([""] * stripped.count("|"))
            continue
        parts = [_clean(p) for p in stripped.split("|")]
        filled = [p for p in parts if p]
        if len(filled) > 1 or not stripped.endswith("|"):
            flush()  # a whole row on one line; the pipes that open and close it bound no cell
            rows.append(parts[1 if stripped.startswith("|") else 0: -1 if stripped.endswith("|") else None])
            continue
        cell = filled[0]
        if not is_value_cell(cell) and any(is_value_cell(c) for c in pending):
            flush()  # a label after numbers: the previous row is complete
        pending.append(cell)
        pending.extend([""] * (stripped.count("|") - 1))
    flush()
    return rows


_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "nav", "button", "select", "option",
              "iframe", "svg", "form", "input", "textarea"}
_BLOCK_TAGS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section",
               "article", "header", "footer", "blockquote", "pre", "dl", "dt", "dd", "center", "title"}


def _cell_text(el) -> str:
    """Text of a table cell, with label fragments split over spans joined up."""
    parts = []
    for node in el.iter():
        if node is not el and isinstance(node.tag, str) and node.tag.lower() in _SKIP_TAGS:
            continue
        if node.text and isinstance(node.tag, str):
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return _clean("".join(parts))


def html_to_rows(text: str) -> tuple[list[Row], str | None]:
    """An HTML page -> (rows, the page <title>)."""
    root = lxml_html.fromstring(text)
    title_el = root.find(".//title")
    title = _clean(title_el.text_content()) if title_el is not None else None
    rows: list[Row] = []
    buf: list[str] = []

    def flush() -> None:
        line = _clean("".join(buf))
        buf.clear()
        if line:
            rows.append([line])

    def walk_table(table) -> None:
        carried: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
        for tr in table.iter("tr"):
            if _nearest_table(tr) is not table:
                continue
            cells = [td for td in tr if isinstance(td.tag, str) and td.tag.lower() in ("td", "th")]
            nested = [td for td in cells if td.find(".//table") is not None]
            if nested:  # a layout table: read what is inside it instead
                for td in cells:
                    walk(td)
                    flush()
                continue
            row = _expand(cells, carried)
            if any(row):
                rows.append(row)

    def walk(el) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if tag in _SKIP_TAGS:
            return
        if tag == "table":
            flush()
            walk_table(el)
            return
        block = tag in _BLOCK_TAGS
        if block:
            flush()
        if tag is not None and el.text:
            buf.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                buf.append(child.tail)
        if block:
            flush()

    body = root.find(".//body")
    walk(body if body is not None else root)
    flush()
    return rows, title


def _span(td, name: str) -> int:
    try:
        return max(1, min(int(td.get(name, "1")), 100))
    except ValueError:
        return 1


def _expand(cells, carried: dict[int, int]) -> list[str]:
    """A <tr>'s cells -> one text per grid column. A cell's text stands in its first column;
    the other columns it spans (colspan, or rowspan from rows above) are blank, so that the
    value columns of every row line up (a blank 法人 block spanning five columns is five blanks)."""
    row: list[str] = []
    col = 0
    for td in cells:
        while carried.get(col, 0) > 0:  # positions taken by a rowspan from above
            carried[col] -= 1
            row.append("")
            col += 1
        width, height = _span(td, "colspan"), _span(td, "rowspan")
        row.extend([_cell_text(td)] + [""] * (width - 1))
        for c in range(col, col + width):
            if height > 1:
                carried[c] = height - 1
        col += width
    while carried.get(col, 0) > 0:
        carried[col] -= 1
        row.append("")
        col += 1
    return row


def _nearest_table(el):
    p = el.getparent()
    while p is not None and not (isinstance(p.tag, str) and p.tag.lower() == "table"):
        p = p.getparent()
    return p


def pdf_to_rows(data: bytes) -> list[Row]:
    """A text PDF -> rows in reading order: on each page, the lines of prose outside the tables
    and the rows of pdfplumber's tables, interleaved by their position on the page (a table
    continued from the page before comes before the next section's heading)."""
    import pdfplumber  # imported here: only PDFs pay for it

    rows: list[Row] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]
            outside = page.filter(lambda obj, boxes=boxes: not any(_inside(obj, b) for b in boxes)) if boxes else page
            items: list[tuple[float, Row]] = [(line["top"], [_clean(line["text"])])
                                              for line in outside.extract_text_lines() if line["text"].strip()]
            for t in tables:
                for bbox_row, cells in zip(t.rows, t.extract()):
                    items.append((bbox_row.bbox[1], [_clean(c or "") for c in cells]))
            rows.extend(row for _, row in sorted(items, key=lambda item: item[0]))
    return rows


def _inside(obj, bbox) -> bool:
    x0, top, x1, bottom = bbox
    return obj.get("x0", 0) >= x0 - 1 and obj.get("x1", 0) <= x1 + 1 and obj.get("top", 0) >= top - 1 \
        and obj.get("bottom", 0) <= bottom + 1


def docx_to_rows(data: bytes) -> list[Row]:
    """A Word document -> rows: paragraphs and table rows in document order. Merged cells are
    blank after their first grid column, as in html_to_rows."""
    from docx import Document  # imported here: only DOCX files pay for it
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(io.BytesIO(data))
    rows: list[Row] = []
    for block in doc.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text.strip():
                rows.append([_clean(block.text)])
        elif isinstance(block, Table):
            rows.extend(_docx_table_rows(block))
    return rows


def _docx_table_rows(table) -> list[Row]:
    """Read the table's XML: a cell spanning columns (gridSpan) or continuing a vertical merge
    (vMerge) leaves its other grid positions blank, as colspan and rowspan do in html_to_rows."""
    from docx.oxml.ns import qn

    out: list[Row] = []
    for tr in table._tbl.tr_lst:
        row: list[str] = []
        for tc in tr.tc_lst:
            text = " ".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in tc.iter(qn("w:p")))
            row.append("" if tc.vMerge == "continue" else _clean(text))
            row.extend([""] * (tc.grid_span - 1))
        if any(row):
            out.append(row)
    return out
