"""Documents -> rows: one list of cell texts per table row, one single-cell row per line of prose.

Every form a report comes in is first reduced to this, so that finding the
tables (tables.py) and the metadata (meta.py) is written once:

- ``text_to_rows``: plain text as it comes off the web: pipe-separated rows,
  one cell per line ending in ``|``, tab-separated rows from a PDF.
- ``html_to_rows``: a web page; each ``<tr>`` is a row, blocks of prose are lines,
  scripts, styles and navigation are dropped (``parse_html`` then ``tree_to_rows``).
- ``pdf_to_rows``: pdfplumber's tables and the page text, up to the page limit.
- ``docx_to_rows``: python-docx paragraphs and tables in document order, once the zip's
  directory shows that opening it is bounded (zipcheck).

Every file is untrusted: the work each reader does is bounded (limits.py), and what it could
not read is said in notes (中文), never dropped in silence.
"""
from __future__ import annotations

import io
import re

from lxml import html as lxml_html

from giodq.extract.decode import NotAReport
from giodq.extract.limits import Limits, pdf_pages_note
from giodq.extract.numbers import is_value_cell
from giodq.extract.zipcheck import docx_reason

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
    return tree_to_rows(parse_html(text)[0])


# Tags a page may nest deeply that carry no structure giodq reads, and may be taken out: any tag
# but the table's own, the skipped ones and the document's frame.
_KEEP_TAGS = _SKIP_TAGS | {"html", "body", "title", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
                           "caption", "colgroup", "col"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
              "track", "wbr"}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*>")
_DEPTH_ERROR = re.compile(r"Excessive depth in document: (\d+)")
_DEEP = 32  # a tag nested this deep in itself is a generator's or an attacker's, not structure


def parse_html(text: str) -> tuple[lxml_html.HtmlElement, list[str]]:
    """An HTML page -> (its tree, notes on what the parser could not read).

    libxml2 gives up at a fatal error (nesting past its depth limit, 2048 with huge_tree) and
    drops the rest of the page, saying so only in the parser's log. A page nested too deep is
    parsed again without its over-deep container tags; any other fatal error is noted."""
    root, error = _parse(text)
    if error is None:
        return root, []
    depth = _DEPTH_ERROR.search(error.message)
    if depth is None:
        where = f"第 {error.line} 行第 {error.column} 列"
        return root, [f"HTML 在{where}无法继续解析（{error.message.strip()}），之后的内容未读取"]
    limit = f"HTML 嵌套超过解析器上限 {depth.group(1)} 层"
    deep = deep_tags(text)
    if not deep:
        where = f"第 {error.line} 行第 {error.column} 列"
        return root, [f"{limit}（嵌套的是表格等不能去掉的标签）：{where}之后的内容未读取"]
    flat, flat_error = _parse(drop_tags(text, deep))
    names = "、".join(f"<{name}>（最深 {n} 层）" for name, n in sorted(deep.items()))
    done = f"{limit}：已去掉嵌套过深的标签 {names}后重新读取"
    return flat, [f"{done}，文字未丢失" if flat_error is None else f"{done}，仍有嵌套过深之处，其后的内容未读取"]


def _parse(text: str):
    """Text -> (tree, the first fatal parser error or None)."""
    # huge_tree lifts libxml2's own limits (10 MB text nodes, depth 256), which drop the rest of a
    # page in silence; the text itself is bounded before parsing (max_text_chars).
    parser = lxml_html.HTMLParser(huge_tree=True)
    root = lxml_html.fromstring(text, parser=parser)
    fatal = [e for e in parser.error_log if e.level_name == "FATAL"]
    return root, (fatal[0] if fatal else None)


def deep_tags(text: str, deeper_than: int = _DEEP) -> dict[str, int]:
    """Container tags nested in themselves deeper than ``deeper_than`` in the source -> the deepest
    nesting of each (tags the reader needs, see _KEEP_TAGS, are never listed)."""
    depth: dict[str, int] = {}
    deepest: dict[str, int] = {}
    for m in _TAG.finditer(text):
        name = m.group(2).lower()
        if name in _KEEP_TAGS or name in _VOID_TAGS or m.group(0).endswith("/>"):
            continue
        if m.group(1):
            depth[name] = max(0, depth.get(name, 0) - 1)
        else:
            depth[name] = depth.get(name, 0) + 1
            deepest[name] = max(deepest.get(name, 0), depth[name])
    return {name: n for name, n in deepest.items() if n > deeper_than}


def drop_tags(text: str, names) -> str:
    """The source without the given tags: a block tag becomes a line break, so that its text
    still ends a line; an inline one goes."""
    pattern = re.compile(rf"<\s*/?\s*(?:{'|'.join(map(re.escape, names))})\b[^>]*>", re.IGNORECASE)
    return pattern.sub(lambda m: "<br>" if _tag_name(m.group(0)) in _BLOCK_TAGS else "", text)


def _tag_name(tag: str) -> str:
    return re.match(r"<\s*/?\s*([A-Za-z0-9]+)", tag).group(1).lower()


def tree_to_rows(root) -> tuple[list[Row], str | None]:
    """A parsed page -> (rows, the page <title>). The walk keeps its own stack, so that no page is
    too deep for it (a tree built with huge_tree may nest thousands of levels)."""
    title_el = root.find(".//title")
    title = _clean(title_el.text_content()) if title_el is not None else None
    rows: list[Row] = []
    buf: list[str] = []

    def flush() -> None:
        line = _clean("".join(buf))
        buf.clear()
        if line:
            rows.append([line])

    body = root.find(".//body")
    # work items, last first: ("el", element), ("text", str), ("row", cells), ("flush", None)
    stack: list[tuple[str, object]] = [("flush", None), ("el", body if body is not None else root)]
    while stack:
        kind, item = stack.pop()
        if kind == "text":
            buf.append(item)
        elif kind == "row":
            rows.append(item)
        elif kind == "flush":
            flush()
        else:
            stack.extend(reversed(_element_items(item, flush, buf)))
    return rows, title


def _element_items(el, flush, buf: list[str]) -> list[tuple[str, object]]:
    """One element -> the work items it stands for, in reading order; its own text is taken now."""
    tag = el.tag.lower() if isinstance(el.tag, str) else None
    if tag in _SKIP_TAGS:
        return []
    if tag == "table":
        flush()
        return _table_items(el)
    block = tag in _BLOCK_TAGS
    if block:
        flush()
    if tag is not None and el.text:
        buf.append(el.text)
    items: list[tuple[str, object]] = []
    for child in el:
        items.append(("el", child))
        if child.tail:
            items.append(("text", child.tail))
    if block:
        items.append(("flush", None))
    return items


def _table_items(table) -> list[tuple[str, object]]:
    """A <table> -> its rows as work items; a row holding tables (a layout table) -> its cells, read as blocks."""
    carried: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    items: list[tuple[str, object]] = []
    for tr in table.iter("tr"):
        if _nearest_table(tr) is not table:
            continue
        cells = [td for td in tr if isinstance(td.tag, str) and td.tag.lower() in ("td", "th")]
        if any(td.find(".//table") is not None for td in cells):
            for td in cells:
                items += [("el", td), ("flush", None)]
            continue
        row = _expand(cells, carried)
        if any(row):
            items.append(("row", row))
    return items


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


def pdf_to_rows(data: bytes, limits: Limits | None = None, scans=None) -> tuple[list[Row], list[str]]:
    """A text PDF -> (rows in reading order, notes). On each page, the lines of prose outside the
    tables and the rows of pdfplumber's tables, interleaved by their position on the page (a table
    continued from the page before comes before the next section's heading). Only the first
    ``limits.pdf_pages`` pages are read, and a note says so. With ``scans`` (ocr.PdfScans), a page
    with no text is read by OCR, and so are the tables in large pictures on the other pages.
    Raises NotAReport for an encrypted PDF."""
    import pdfplumber  # imported here: only PDFs pay for it
    from pdfminer.pdfpage import PDFPage
    from pdfplumber.page import Page
    from pdfplumber.utils.exceptions import PdfminerException

    limits = limits or Limits.resolve()
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PdfminerException as e:
        reason = _encryption_reason(e)
        if reason:
            raise NotAReport(reason) from e
        raise
    rows: list[Row] = []
    notes: list[str] = []
    doctop = 0.0
    # Pages are taken from the page tree one at a time: pdf.pages (and pdf.close, which reads it)
    # would walk the whole tree and keep every page, however many the file has.
    for number, obj in enumerate(PDFPage.create_pages(pdf.doc), start=1):
        if number > limits.pdf_pages:
            notes.append(pdf_pages_note(_declared_pages(pdf), limits))
            break
        page = Page(pdf, obj, page_number=number, initial_doctop=doctop)
        doctop += page.height
        if scans is not None and not page.chars and page.images:
            rows.extend(scans.page(number))
        else:
            rows.extend(_page_rows(page, scans))
        page.close()  # its objects and layout: memory is one page's, not the file's
    pdf.flush_cache()
    return rows, notes


_PICTURE = (0.3, 0.08)   # of the page's width and height: a picture this large may be a table
_TEXT_OVER = 5           # characters of the text layer over a picture: more, and it is a background


def _picture_tables(page, scans) -> list[tuple[float, Row]]:
    """The rows OCR finds in the large pictures of a page that has a text layer (tables pasted as images)."""
    pictures = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in page.images
                if i["x1"] - i["x0"] >= _PICTURE[0] * page.width and i["bottom"] - i["top"] >= _PICTURE[1] * page.height]
    # a picture with text over it is a background or a watermark, and its page's tables are text
    pictures = [b for b in pictures if sum(_inside(c, b) for c in page.chars) < _TEXT_OVER]
    return scans.tables_in(page.page_number, pictures, page.height) if pictures else []


def _page_rows(page, scans=None) -> list[Row]:
    """One pdfplumber page -> its rows: prose lines outside the tables and table rows, top to bottom;
    with ``scans``, the rows of the tables OCR finds in its large pictures too."""
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]
    outside = page.filter(lambda obj, boxes=boxes: not any(_inside(obj, b) for b in boxes)) if boxes else page
    items: list[tuple[float, Row]] = [(line["top"], [_clean(line["text"])])
                                      for line in outside.extract_text_lines() if line["text"].strip()]
    for t in tables:
        for bbox_row, cells in zip(t.rows, t.extract()):
            items.append((bbox_row.bbox[1], [_clean(c or "") for c in cells]))
    if scans is not None:
        items.extend(_picture_tables(page, scans))
    return [row for _, row in sorted(items, key=lambda item: item[0])]


def _encryption_reason(e: Exception) -> str | None:
    """The failed input's reason when pdfminer could not open the PDF because it is encrypted."""
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    inner = e.args[0] if e.args else e.__cause__ or e.__context__
    if isinstance(inner, PDFPasswordIncorrect):  # pdfminer tried the empty password: a password is needed
        return "encrypted: PDF 已加密（需要密码），无法读取"
    if isinstance(inner, PDFEncryptionError):
        return f"encrypted: PDF 已加密，加密方式无法处理（{inner}），无法读取"
    return None


def _declared_pages(pdf) -> int | None:
    """The page count the PDF's page tree declares (/Count), or None when it has none."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.psexceptions import PSException

    try:
        count = resolve1(resolve1(pdf.doc.catalog.get("Pages")).get("Count"))
    except (PSException, AttributeError, TypeError, ValueError):  # a damaged tree: the count is only for the note
        return None
    return count if isinstance(count, int) and count >= 0 else None


def _inside(obj, bbox) -> bool:
    x0, top, x1, bottom = bbox
    return obj.get("x0", 0) >= x0 - 1 and obj.get("x1", 0) <= x1 + 1 and obj.get("top", 0) >= top - 1 \
        and obj.get("bottom", 0) <= bottom + 1


def docx_to_rows(data: bytes, limits: Limits | None = None, read_image=None) -> list[Row]:
    """A Word document -> rows: paragraphs and table rows in document order. Merged cells are
    blank after their first grid column, as in html_to_rows. With ``read_image`` (image bytes ->
    rows), a picture in a paragraph (a table pasted as an image) is read where it stands. Raises
    NotAReport when the zip's directory shows members past the limits, or that it cannot be opened
    (zipcheck)."""
    reason = docx_reason(data, limits or Limits.resolve())  # before python-docx inflates anything
    if reason:
        raise NotAReport(reason)
    from docx import Document  # imported here: only DOCX files pay for it
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(io.BytesIO(data))
    rows: list[Row] = []
    for block in doc.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text.strip():
                rows.append([_clean(block.text)])
            if read_image is not None:
                for image in _pictures(doc, block):
                    rows.extend(read_image(image))
        elif isinstance(block, Table):
            rows.extend(_docx_table_rows(block))
    return rows


def docx_pictures(data: bytes) -> list[bytes]:
    """The pictures of a Word document's paragraphs, in the order docx_to_rows meets them."""
    out: list[bytes] = []
    docx_to_rows(data, read_image=lambda blob: out.append(blob) or [])
    return out


def _pictures(doc, paragraph) -> list[bytes]:
    """The pictures of a paragraph (DrawingML blips), as the bytes of their image parts."""
    from docx.oxml.ns import qn

    out = []
    for blip in paragraph._p.iter(qn("a:blip")):
        part = doc.part.related_parts.get(blip.get(qn("r:embed")))
        blob = getattr(part, "blob", None)
        if blob:
            out.append(blob)
    return out


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
