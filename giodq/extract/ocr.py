"""Page images -> rows, for scans: PDF pages without a text layer and image files of tables.

Tesseract (Debian's ``tesseract-ocr`` with ``tesseract-ocr-chi-sim``; the ``tesserocr`` binding,
whose engine is loaded once per process) reads the words, but a table is located the way a reader
sees it, from the ruling lines of the image, not from Tesseract's page layout, which runs the
columns of a ruled table together:

1. the page is straightened (a scan is seldom level) and made black on white (Otsu);
2. ruling lines are the long horizontal and vertical runs of ink; a table is a large connected
   set of them, and its cells are the regions the lines enclose (a merged cell is one region);
3. each cell is read alone, its strokes without the scan's specks: with the Chinese model, and,
   where that finds no Chinese, as a number with the digits-only model (as a line and as a word);
   a number is taken when the digits model is sure of it or two readings agree, else the cell is
   ``unsure`` and not located (never guessed, never 0);
4. the cells become rows as HTML tables do (layout._expand): a cell's text in its first grid
   column and row, blanks where it spans more; the prose outside the tables becomes lines.

Every cell text is an ``OcrText``: the text with Tesseract's confidence and the cell's place on
the page, so that tables.read_tables, which only sees strings, hands the place on to the cells
(``Extracted.ocr``), and a reviewer can be shown the crop. What was read here is never taken on
trust: the identities are the checksum (validate), and an identity that fails over OCR'd cells is
a warning that asks for a reading by eye, never an error.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import threading
from dataclasses import dataclass

import numpy as np

from giodq.extract.han import HAN
from giodq.extract.limits import Limits, ocr_pages_note

Row = list[str]

DPI = 300                 # pages are read at this resolution (a 60-dpi scan is upsampled to it)
MAX_PIXELS = 40_000_000   # a page image larger than this is scaled down (an A4 page at 300 dpi is 8.7 M)
MAX_DECODE = 90_000_000   # an image file larger than this is not decoded (Pillow warns of a bomb here)
_TESSDATA = ("/usr/share/tesseract-ocr/5/tessdata/", "/usr/share/tesseract-ocr/4.00/tessdata/",
             "/usr/share/tessdata/")


@dataclass(frozen=True)
class Where:
    """A cell's place: page (1-based; a Word file's picture number) and box (x0, y0, x1, y1) in pixels
    of the page as read (page_image gives the same image again): a PDF page at DPI over A4, levelled;
    an image file at its own resolution, a narrow one enlarged to a page's width."""
    page: int
    box: tuple[int, int, int, int]
    confidence: float      # Tesseract's mean word confidence, 0..1


class OcrText(str):
    """A cell's text as OCR read it, carrying where it stands and how sure Tesseract was. An
    ``unsure`` one is a number Tesseract could not read with confidence: it stands in its row as a
    blank, so that the row's other cells keep their columns, and the cell is then not located. A
    ``spanned`` one is a grid place a merged cell covers, or that no cell starts at: a blank that is
    padding (tables.fit_values may drop it), and never a value (unsure too)."""
    __slots__ = ("where", "unsure", "spanned")

    def __new__(cls, text: str, where: Where, unsure: bool = False, spanned: bool = False):
        s = super().__new__(cls, "" if unsure or spanned else text)
        s.where, s.unsure, s.spanned = where, unsure or spanned, spanned
        return s

    def __reduce__(self):
        return (OcrText, (str(self), self.where, self.unsure, self.spanned))


class Unreadable(RuntimeError):
    """The scan cannot be read here: why, in Chinese (Tesseract missing, too coarse, too large)."""


# --- the engine: one Chinese and one digits-only reader per thread (a Tesseract API is not thread-safe)

_local = threading.local()
_PSM_AUTO, _PSM_BLOCK, _PSM_LINE, _PSM_WORD = 3, 6, 7, 8   # tesserocr.PSM.AUTO, SINGLE_BLOCK, _LINE, _WORD


def _tessdata() -> str:
    for path in _TESSDATA:
        if all(os.path.exists(os.path.join(path, f"{lang}.traineddata")) for lang in ("chi_sim", "eng")):
            return path
    raise Unreadable("未安装 Tesseract 中文模型（Debian 软件包 tesseract-ocr-chi-sim），扫描件无法识别")


def _apis():
    apis = getattr(_local, "apis", None)
    if apis is None:
        # one thread per Tesseract: extraction already runs a process or a thread per core
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        try:
            import tesserocr
        except ImportError as e:  # the binding is a dependency, but its engine may fail to load
            raise Unreadable(f"无法加载 Tesseract（{e}），扫描件无法识别") from e
        path = _tessdata()
        try:
            han = tesserocr.PyTessBaseAPI(path=path, lang="chi_sim", psm=tesserocr.PSM.SINGLE_BLOCK)
            digits = tesserocr.PyTessBaseAPI(path=path, lang="eng")
        except RuntimeError as e:   # a model file missing or damaged
            raise Unreadable(f"Tesseract 无法启动（{e}），扫描件无法识别") from e
        digits.SetVariable("tessedit_char_whitelist", "0123456789.,-")
        apis = _local.apis = (han, digits)
    return apis


# --- images

def to_gray(image) -> np.ndarray:
    """A PIL image -> grayscale array (uint8), at most MAX_PIXELS."""
    from PIL import Image

    image = image.convert("L")
    w, h = image.size
    if w * h > MAX_PIXELS:
        f = (MAX_PIXELS / (w * h)) ** 0.5
        image = image.resize((max(1, int(w * f)), max(1, int(h * f))), Image.LANCZOS)
    return np.asarray(image)


def otsu(gray: np.ndarray) -> int:
    """Otsu's threshold of a grayscale image: ink is darker than it."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    levels = np.arange(256)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    w1 = total - w0
    mean0 = np.divide(m0, w0, out=np.zeros(256), where=w0 > 0)
    mean1 = np.divide(m0[-1] - m0, w1, out=np.zeros(256), where=w1 > 0)
    between = w0 * w1 * (mean0 - mean1) ** 2
    return int(np.argmax(between))


def skew(ink: np.ndarray, span: float = 3.0, step: float = 0.1) -> float:
    """The angle (degrees, as PIL's rotate takes it) that levels the page: the turn under which the
    rows of ink are sharpest (ruling lines and lines of text each fall into one row when level).
    Each turn is tried on the ink's points, projected, not on a turned copy of the page."""
    ys, xs = np.nonzero(ink)
    if len(ys) > _SKEW_POINTS:   # a fixed sample: the same page gives the same angle
        pick = np.random.default_rng(0).choice(len(ys), _SKEW_POINTS, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys, xs = ys.astype(np.float64), xs.astype(np.float64) - ink.shape[1] / 2

    def sharpness(angle: float) -> float:
        r = np.deg2rad(angle)
        rows = (ys * np.cos(r) - xs * np.sin(r)).astype(np.int64)
        return float(np.square(np.diff(np.bincount(rows - rows.min()).astype(np.float64))).sum())

    if len(ys) == 0:
        return 0.0
    angles = np.arange(-span, span + step / 2, step)
    best = max(angles, key=sharpness)
    fine = np.arange(best - step, best + step + 0.001, step / 5)
    return float(max(fine, key=sharpness))


_SKEW_POINTS = 400_000


def level(gray: np.ndarray) -> np.ndarray:
    """The page straightened (grayscale): the same page gives the same image (skew samples with a
    fixed seed), so that a crop made later falls where the cells were read."""
    from PIL import Image

    angle = round(skew(gray < otsu(gray)), 2)
    if abs(angle) < 0.05:
        return gray
    return np.asarray(Image.fromarray(gray).rotate(angle, resample=Image.BICUBIC, fillcolor=255))


# --- tables: ruling lines and the cells they enclose

@dataclass(frozen=True)
class Cell:
    box: tuple[int, int, int, int]     # x0, y0, x1, y1 (inside the lines)


def ruling_lines(ink: np.ndarray) -> np.ndarray:
    """The ink that lies in long horizontal or vertical runs (a Chinese character's strokes are
    shorter than ``_RUN`` at 300 dpi), thickened to close the gaps of a worn scan."""
    from scipy.ndimage import maximum_filter1d as grow, minimum_filter1d as shrink

    # morphology along one axis with running minima and maxima, whose cost does not grow with the run
    ink = ink.view(np.uint8)
    opened = lambda a, n, axis: grow(shrink(a, n, axis, mode="constant"), n, axis, mode="constant")  # noqa: E731
    closed = lambda a, n, axis: shrink(grow(a, n, axis, mode="constant"), n, axis, mode="constant")  # noqa: E731
    horizontal = closed(opened(ink, _RUN, 1), _GAP, 1)
    vertical = closed(opened(ink, _RUN, 0), _GAP, 0)
    thick = 2 * _THICKEN + 1
    return grow(grow(horizontal | vertical, thick, 0, mode="constant"), thick, 1, mode="constant").astype(bool)


_RUN = 71           # px at 300 dpi: longer than any stroke of a character, shorter than any cell side
_GAP = 13           # px: a break in a line shorter than this is a worn scan's, not the end of the line
_THICKEN = 3        # px each side: lines are thickened so that their cells part cleanly
_MIN_TABLE = 0.25   # of the page's width: a set of lines narrower than this is no table


def find_tables(lines: np.ndarray) -> list[tuple[tuple[int, int, int, int], list[Cell]]]:
    """Tables on a page -> (table box, cells top to bottom, left to right)."""
    from scipy import ndimage

    labels, _ = ndimage.label(lines, structure=np.ones((3, 3), bool))
    out = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        y, x = sl
        if (x.stop - x.start) < _MIN_TABLE * lines.shape[1] or (y.stop - y.start) < 40:
            continue
        grid = labels[sl] == i
        cells = _cells(grid, x.start, y.start)
        if len(cells) >= 2:
            out.append(((x.start, y.start, x.stop, y.stop), cells))
    return out


MAX_CELLS = 800   # cells of one page's tables (the format's largest, table 3, has about 270)


def _cells(grid: np.ndarray, dx: int, dy: int) -> list[Cell]:
    """The regions a table's lines enclose: each connected region of no line, away from the table's
    border (the outside of the table), larger than a character."""
    from scipy import ndimage

    regions, _ = ndimage.label(~grid)
    h, w = grid.shape
    least = 20
    cells = []
    for sl in ndimage.find_objects(regions):
        if sl is None:
            continue
        y, x = sl
        if y.start == 0 or x.start == 0 or y.stop == h or x.stop == w:
            continue
        if (y.stop - y.start) < least or (x.stop - x.start) < least:
            continue
        cells.append(Cell((x.start + dx, y.start + dy, x.stop + dx, y.stop + dy)))
    return sorted(cells, key=lambda c: (c.box[1], c.box[0]))


def _starts(values: list[int], tol: int) -> list[int]:
    """Positions clustered: the first of each run of positions within ``tol`` of each other."""
    out: list[int] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


_TOL = 12   # px: cell edges closer than this are one grid line


def _span(starts: list[int], lo: int, hi: int) -> range:
    """The grid positions (of ``starts``) an extent from lo to hi covers."""
    first = min(range(len(starts)), key=lambda i: abs(starts[i] - lo))
    last = max((i for i, s in enumerate(starts) if s < hi - _TOL), default=first)
    return range(first, max(first, last) + 1)


def read_table(gray: np.ndarray, cells: list[Cell], page: int, threshold: int) -> list[Row]:
    """A table's cells -> rows as html_to_rows gives them: one text per grid column, a cell's text
    in its first row and column, blanks where it spans further. A cell spanning columns that reads as
    no Chinese is a line between numbers the scan lost ("0 0" read as 00): it is read again, a
    column at a time, at the columns the other rows show. A blank a cell spans, or a place no cell
    starts at, is ``unsure``: it reads as a blank, but is never taken for a blank value (0)."""
    cols = _starts([c.box[0] for c in cells], _TOL)
    rows = _starts([c.box[1] for c in cells], _TOL)
    lost = OcrText("", Where(page, (0, 0, 0, 0), 0.0), spanned=True)
    table: list[list[str]] = [[lost] * len(cols) for _ in rows]
    for c in cells:
        rs, cs = _span(rows, c.box[1], c.box[3]), _span(cols, c.box[0], c.box[2])
        text = read_cell(gray, c, page, threshold)
        if len(cs) > 1 and (text.unsure or (text and not re.search(f"[{HAN}]", text))):
            edges = [max(c.box[0], cols[i]) for i in cs] + [c.box[2]]
            for i, x0, x1 in zip(cs, edges, edges[1:]):
                piece = read_cell(gray, Cell((x0 + 4, c.box[1], x1 - 4, c.box[3])), page, threshold)
                # a piece with no ink is where the split guessed wrong, not a blank cell (0)
                table[rs[0]][i] = piece if piece else OcrText("", piece.where, unsure=True)
            continue
        table[rs[0]][cs[0]] = text
    return [r for r in table if any(r)]


# --- reading

_LOW = 0.6   # a number read with less confidence than this is not taken (the cell is not located)


def _ink(gray: np.ndarray, box: tuple[int, int, int, int], threshold: int) -> np.ndarray | None:
    """A cell's strokes (grey on white), without the specks of a scan, cut to their extent (None: no
    ink; all white: faint marks only)."""
    from scipy import ndimage

    x0, y0, x1, y1 = box
    ink = gray[y0 + 2: y1 - 2, x0 + 2: x1 - 2] < threshold
    labels, n = ndimage.label(ink, structure=np.ones((3, 3), bool))
    if n == 0:
        return None
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = sizes >= _SPECK
    h, w = ink.shape
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        # what is left of a ruling line along the cell's side (a turned scan's line is not quite
        # where the cell's box ends) is no stroke of the cell's text
        tall, wide = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        at_side = sl[1].start <= _SIDE or sl[1].stop >= w - _SIDE
        at_edge = sl[0].start <= _SIDE or sl[0].stop >= h - _SIDE
        if (tall >= 0.8 * h and wide <= 0.15 * w and at_side) or (wide >= 0.8 * w and tall <= 0.15 * h and at_edge):
            keep[i] = False
    ink = keep[labels]
    ys, xs = np.nonzero(ink)
    if len(ys) < 3 * _SPECK:
        # blank, unless faint strokes are there: a blank is read as none, so it must be sure
        faint = (gray[y0 + 2: y1 - 2, x0 + 2: x1 - 2] < threshold + 40).sum() >= 3 * _SPECK
        return np.full((1, 1), 255, np.uint8) if faint else None
    cut = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    # the strokes in their grey (Tesseract binarises a stroke's edge better than one threshold does),
    # white where no stroke is kept: no specks, no remnant of a line
    near = ndimage.binary_dilation(ink, iterations=2)
    return np.where(near, gray[y0 + 2: y1 - 2, x0 + 2: x1 - 2], 255).astype(np.uint8)[cut]


_SPECK = 8   # px: ink smaller than this is a scanner's speck, not a stroke (a full stop at 300 dpi is ~40)
_SIDE = 6    # px: a line's remnant lies this close to the cell's side (a "1" in a tight cell does not)


def read_cell(gray: np.ndarray, cell: Cell, page: int, threshold: int) -> OcrText:
    """One cell's text: Chinese when it holds Han characters, else the digits model's number
    (``unsure`` when Tesseract is not sure of it)."""

    crop = _ink(gray, cell.box, threshold)
    if crop is None:
        return OcrText("", Where(page, cell.box, 1.0))   # no ink: a blank cell
    if crop.min() == 255:
        return OcrText("", Where(page, cell.box, 0.0), unsure=True)  # faint marks: not sure it is blank
    han, digits = _apis()
    image = _line_image(crop)
    han.SetPageSegMode(_PSM_BLOCK)
    han.SetImage(image)
    text = re.sub(r"\s+", "", han.GetUTF8Text())
    han_confidence = han.MeanTextConf() / 100
    han_chars = len(re.findall(f"[{HAN}]", text))
    if han_chars >= 2 or (han_chars and not re.search(r"\d", text)) or text in _NONE_MARKS:
        return OcrText(text, Where(page, cell.box, han_confidence))
    # digits, or one Han character among few signs (7 read as 了): the digits model reads it, as a line
    # and as a word; a number is taken when one reading is sure or two agree, else it is unsure
    readings = [(_as_digits(text), han_confidence)]
    for psm, img in ((_PSM_LINE, image), (_PSM_WORD, _word_image(crop))):
        digits.SetPageSegMode(psm)
        digits.SetImage(img)
        readings.append((re.sub(r"\s+", "", digits.GetUTF8Text()).strip(".,-"), digits.MeanTextConf() / 100))
        number, confidence = _taken(readings)
        if number:
            return OcrText(number, Where(page, cell.box, confidence))
    return OcrText("", Where(page, cell.box, max(c for _, c in readings)), unsure=True)


_SURE = 0.85   # the digits model's word reading alone is taken at this confidence (its line reading: _LOW)


def _taken(readings: list[tuple[str, float]]) -> tuple[str, float]:
    """The number the readings so far give ('' when none is sure): readings are the Chinese model's
    (never taken alone: it reads 26 as 20 with confidence), the digits model's line (taken at _LOW)
    and word (at _SURE); or the same number read twice."""
    alone = (None, _LOW, _SURE)
    for i, (number, confidence) in enumerate(readings):
        if number and alone[i] is not None and confidence >= alone[i]:
            return number, confidence
        twice = [c for n, c in readings[i + 1:] if n and n == number]
        if number and twice:
            return number, max(confidence, *twice)
    return "", 0.0


def _line_image(crop: np.ndarray):
    """A cell's ink as a line of text: a lone "1" cut to its ink is a bar Tesseract does not read."""
    from PIL import Image

    h = crop.shape[0]
    return Image.fromarray(np.pad(crop, ((12, 12), (12 + h, 12 + h)), constant_values=255))


def _word_image(crop: np.ndarray):
    """A cell's ink as a word, at least 40 px high (a small print's digits are read better larger)."""
    from PIL import Image

    image = Image.fromarray(crop)
    if image.height < 40:
        image = image.resize((max(1, round(image.width * 40 / image.height)), 40), Image.BICUBIC)
    return Image.fromarray(np.pad(np.asarray(image), 12, constant_values=255))


_NONE_MARKS = ("无", "—", "——", "/", "-")
_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "〇": "0", "l": "1", "I": "1", "|": "1", "，": ",", "．": "."})


def _as_digits(text: str) -> str:
    """What the Chinese model read, as the digits it may stand for ('' when it is no number)."""
    s = text.translate(_LOOKALIKE).strip(".,")
    return s if re.fullmatch(r"\d+(?:[.,]\d+)*", s) else ""


def read_prose(gray: np.ndarray, masked: list[tuple[int, int, int, int]]) -> list[tuple[int, Row]]:
    """The lines of text outside the tables -> (top, [line])."""
    import tesserocr
    from PIL import Image

    img = gray.copy()
    for x0, y0, x1, y1 in masked:
        img[y0:y1, x0:x1] = 255
    text, _ = _apis()
    text.SetPageSegMode(_PSM_AUTO)
    text.SetImage(Image.fromarray(img))
    out: list[tuple[int, Row]] = []
    it = text.GetIterator() if text.Recognize() else None
    level_ = tesserocr.RIL.TEXTLINE
    while it is not None:
        try:
            words, box = it.GetUTF8Text(level_), it.BoundingBox(level_)
        except RuntimeError:   # tesserocr's "No text returned": an empty line, or an empty page
            words = box = None
        if words and words.strip() and box:
            line = _join_han(words)
            if line:
                out.append((box[1], [line]))
        if not it.Next(level_):
            break
    return out


def _join_han(text: str) -> str:
    """Tesseract's line -> the line as written: no space between Chinese characters."""
    s = re.sub(r"\s+", " ", text).strip()
    return re.sub(rf"(?<=[{HAN}\W]) (?=[{HAN}\W])|(?<=[{HAN}]) (?=\w)|(?<=\w) (?=[{HAN}])", "", s)


def page_items(gray: np.ndarray, page: int, tables_only: bool = False,
               within: list[tuple[int, int, int, int]] | None = None) -> list[tuple[int, Row]]:
    """One page image (grayscale, at DPI) -> its rows with their tops (px), tables and prose (the
    tables' only, when ``tables_only``; only the tables inside one of the boxes ``within``)."""
    gray = level(gray) if within is None else gray   # a page with a text layer is level
    threshold = otsu(gray)
    tables = find_tables(ruling_lines(gray < threshold))
    if within is not None:
        tables = [(box, cells) for box, cells in tables if any(_inside(box, w) for w in within)]
    if tables_only and not tables:
        return []
    cells = sum(len(c) for _, c in tables)
    if cells > MAX_CELLS:   # each cell is read alone: a page of tens of thousands would take hours
        raise Unreadable(f"第 {page} 页表格共 {cells} 个单元格，超过上限 {MAX_CELLS} 个")
    items: list[tuple[int, Row]] = [] if tables_only else read_prose(gray, [box for box, _ in tables])
    for box, cells in tables:
        for i, row in enumerate(read_table(gray, cells, page, threshold)):
            items.append((box[1] + i, row))   # rows of one table keep their order, after the lines above it
    return sorted(items, key=lambda item: item[0])


def page_rows(gray: np.ndarray, page: int, tables_only: bool = False) -> list[Row]:
    """One page image (grayscale, at DPI) -> its rows, tables and prose in page order."""
    return [row for _, row in page_items(gray, page, tables_only)]


def _inside(box, outer, slack: int = 30) -> bool:
    return box[0] >= outer[0] - slack and box[1] >= outer[1] - slack and box[2] <= outer[2] + slack \
        and box[3] <= outer[3] + slack


_A4_LONG = 11.69          # inches: reports are printed on A4, so a page's long side is this
_LEAST_DPI = 100          # a scan coarser than this cannot be read: strokes of a character merge
_PAGE_LONG = int(_A4_LONG * DPI)
_PAGE_WIDTH = int(8.27 * DPI)


def _scan_dpi(page) -> float | None:
    """The resolution a page's scan was made at, over an A4 page: its largest image's pixels along
    the page's long side (None when the page holds no image)."""
    best = None
    long_side = max(page.get_size())
    for meta, (x0, y0, x1, y1) in _images(page):
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            continue
        per_point = max(meta.width / (x1 - x0), meta.height / (y1 - y0))
        dpi = per_point * long_side / _A4_LONG
        best = dpi if best is None else max(best, dpi)
    return best


def _render(page) -> np.ndarray:
    """A PDF page -> grayscale, its long side at A4's at DPI, whatever size the file gives it. Raises
    Unreadable for a page whose pictures would cost more to draw than a scan's do (pdfium decodes
    each whole, and draws each again as often as the page places it)."""
    images = _images(page)
    if len(images) > MAX_DRAWS:
        raise Unreadable(f"页面放置图片超过 {MAX_DRAWS} 次（上限）")
    for meta, _ in images:
        if meta.width * meta.height > MAX_DECODE:
            raise Unreadable(f"页面中的图片 {meta.width}×{meta.height} 像素，超过上限 {MAX_DECODE} 像素")
    return to_gray(page.render(scale=_PAGE_LONG / max(page.get_size()), grayscale=True).to_pil())


MAX_DRAWS = 64   # pictures placed on one page (a scan places one; 1,000 placements take pdfium minutes)


def _images(page) -> list[tuple[object, tuple[float, float, float, float]]]:
    """The pictures a PDF page places: (pdfium's metadata, bounds in points), however deep in forms."""
    import pypdfium2.raw as pdfium_c

    out = []
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
        out.append((obj.get_metadata(), obj.get_bounds()))
        if len(out) > MAX_DRAWS:
            break
    return out


def _image(image):
    """An image file's picture as read: a narrow one (a table pasted into a web page) at a page's width."""
    from PIL import Image

    if max(image.size) > _ASPECT * min(image.size):
        raise Unreadable(f"图像 {image.width}×{image.height} 像素，形状不是页面或表格")
    if image.width < _PAGE_WIDTH:
        # at most MAX_PIXELS once enlarged: a picture 10 px wide and 20,000 tall is no page
        f = min(_PAGE_WIDTH / image.width, (MAX_PIXELS / max(1, image.width * image.height)) ** 0.5)
        if f > 1:
            image = image.convert("L").resize((max(1, int(image.width * f)), max(1, int(image.height * f))),
                                              Image.BICUBIC)
    return to_gray(image)


def page_image(data: bytes, media: str, page: int) -> np.ndarray:
    """Page ``page`` (1-based) of a scan as OCR read it: rendered the same way, then levelled, so that
    the boxes of ``Where`` fall on it (a reviewer's crop of the cells a finding rests on)."""
    if media == "image":
        return level(_image(_open_image(data)))
    if media == "docx":   # the document's page-th picture (Pictures.read numbers them alike)
        from giodq.extract.layout import docx_pictures

        return level(_image(_open_image(docx_pictures(data)[page - 1])))
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        drawn = pdf[page - 1]
        has_text = drawn.get_textpage().count_chars() > 0   # its pictures were read as drawn (tables_in)
        return _render(drawn) if has_text else level(_render(drawn))
    finally:
        pdf.close()


def crop_png(gray: np.ndarray, box: tuple[int, int, int, int], margin: int = 60, width: int = 1200) -> bytes:
    """The region ``box`` of a page image, with a margin, as PNG (at most ``width`` pixels wide)."""
    from PIL import Image

    x0, y0, x1, y1 = box
    h, w = gray.shape
    image = Image.fromarray(gray[max(0, y0 - margin): min(h, y1 + margin), max(0, x0 - margin): min(w, x1 + margin)])
    if image.width > width:
        image = image.resize((width, max(1, image.height * width // image.width)), Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class Budget:
    """The pages and pictures of one file OCR may still read (GIODQ_MAX_OCR_PAGES): OCR costs seconds a
    page, so a file of a thousand scanned pages or pictures must not cost hours."""

    def __init__(self, limits: Limits):
        self.limits, self.left, self.skipped = limits, limits.ocr_pages, 0

    def take(self) -> bool:
        if self.left <= 0:
            self.skipped += 1
            return False
        self.left -= 1
        return True

    def notes(self) -> list[str]:
        return [ocr_pages_note(self.skipped, self.limits)] if self.skipped else []


class PdfScans:
    """The parts of a PDF that only OCR can read, as layout.pdf_to_rows meets them: pages with no
    text layer (a scan), and pictures of tables on pages that have one (tables pasted as images).
    Each call reads one page; what could not be read is kept for the notes, never raised."""

    def __init__(self, data: bytes, budget: Budget):
        self.data = data
        self.budget = budget
        self.pdf = None
        self.pages: list[int] = []          # pages read whole by OCR
        self.pictures: list[int] = []       # pages whose pictures of tables were read
        self.coarse: list[tuple[int, float]] = []
        self.failed: list[tuple[int, str]] = []   # pages OCR could not read, and why
        self.unreadable: str | None = None        # why OCR cannot run here at all (no Tesseract)
        self.met = False                          # a page with no text layer was met

    @property
    def scanned(self) -> bool:
        """A scan was met (read, or not readable): its findings ask for a reading by eye."""
        return bool(self.met or self.pictures)

    def _engine(self) -> bool:
        try:
            _apis()
        except Unreadable as e:
            self.unreadable = str(e)
        return self.unreadable is None

    def _page(self, number: int):
        import pypdfium2 as pdfium

        if self.pdf is None:
            self.pdf = pdfium.PdfDocument(self.data)
        return self.pdf[number - 1]

    def page(self, number: int) -> list[Row]:
        """Page ``number`` (1-based), which has no text, read whole."""
        self.met = True
        if not self._engine() or not self.budget.take():
            return []
        try:
            page = self._page(number)
            dpi = _scan_dpi(page)
            if dpi is not None and dpi < _LEAST_DPI:
                self.coarse.append((number, dpi))
                return []
            rows = page_rows(_render(page), number)
            page.close()   # its decoded pictures: memory is one page's
        except Exception as e:   # pdfium, Tesseract or a bound: this page is not read, the others are
            self.failed.append((number, _reason(e)))
            return []
        self.pages.append(number)
        return rows

    def tables_in(self, number: int, boxes: list[tuple[float, float, float, float]],
                  height: float) -> list[tuple[float, Row]]:
        """The tables OCR finds inside the picture boxes (x0, top, x1, bottom in points) of page
        ``number`` (``height`` points tall), with their tops in points."""
        if not self._engine() or not self.budget.take():
            return []
        try:
            page = self._page(number)
            gray = _render(page)
            page.close()
            f = gray.shape[0] / height
            within = [tuple(int(v * f) for v in box) for box in boxes]
            items = page_items(gray, number, tables_only=True, within=within)
        except Exception as e:   # as in page(): this page's pictures are not read
            self.failed.append((number, _reason(e)))
            return []
        if items:
            self.pictures.append(number)
        return [(top / f, row) for top, row in items]

    def why_nothing(self) -> str:
        """Why a PDF with no text layer gave no rows (its first note)."""
        if self.unreadable:
            return f"扫描件：{self.unreadable}，表格和正文均无法读取"
        if self.failed and not self.pages:
            return f"扫描件：{self.failed[0][1]}，表格和正文均无法读取"
        if self.coarse:
            return f"扫描件：扫描分辨率约 {self.coarse[0][1]:.0f} dpi，低于可识别的 {_LEAST_DPI} dpi，表格和正文均无法读取"
        if self.pages:
            return f"扫描件：{_pages_text(self.pages)}经文字识别（OCR）未读出表格和正文"
        return "PDF 没有文字层（扫描件），表格和正文均无法读取"

    def notes(self) -> list[str]:
        out = []
        if self.pages:
            out.append(f"扫描件：{_pages_text(self.pages)}没有文字层，表格和正文经文字识别（OCR）读取，未经人工核对")
        if self.pictures:
            out.append(f"{_pages_text(self.pictures)}的表格是图片，经文字识别（OCR）读取，未经人工核对")
        out += [f"第 {n} 页扫描分辨率约 {d:.0f} dpi，低于可识别的 {_LEAST_DPI} dpi，未识别" for n, d in self.coarse]
        out += [f"第 {n} 页无法识别：{why}" for n, why in self.failed]
        if self.unreadable:
            out.append(f"扫描件或表格图片无法识别：{self.unreadable}")
        return out + self.budget.notes()

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()


def _reason(e: Exception) -> str:
    """Why a page could not be read, for a note (Unreadable says it in Chinese already)."""
    return str(e) if isinstance(e, Unreadable) else f"渲染或识别出错（{type(e).__name__}: {e}）"


def _pages_text(pages: list[int]) -> str:
    return "第 " + "、".join(map(str, pages)) + " 页"


def _open_image(data: bytes):
    """An image file's bytes -> the decoded PIL image, bounded: its header's size is checked before
    anything is decoded. Raises Unreadable past MAX_DECODE pixels, Pillow's errors otherwise."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    w, h = image.size   # from the header: nothing is decoded yet
    if w * h > MAX_DECODE:
        raise Unreadable(f"图像 {w}×{h} 像素，超过上限 {MAX_DECODE} 像素")
    image.load()
    return image


def image_rows(data: bytes, tables_only: bool = False, page: int = 1) -> list[Row]:
    """An image file (PNG, JPEG, TIFF, ...) of a page or a table -> its rows read by OCR;
    ``tables_only``: the rows of its ruled tables, none of its other text."""
    from PIL import Image

    from giodq.extract.decode import NotAReport

    try:
        gray = _image(_open_image(data))
    except Unreadable:
        raise
    except Image.DecompressionBombError as e:   # Pillow's own bound, met before ours for a forged header
        raise NotAReport(f"too_large: 图像像素数超过上限（{e}）") from e
    except Exception as e:  # Pillow raises many kinds for a damaged file: it is no readable image
        kind = {b"\x89P": "PNG", b"\xff\xd8": "JPEG"}.get(data[:2], "TIFF")
        raise NotAReport(f"binary: {kind} 图像无法解码（{type(e).__name__}），不是可读的报告文件") from e
    try:
        return page_rows(gray, page, tables_only)
    except Unreadable:
        raise
    except RuntimeError as e:   # tesserocr's, for an image it cannot take
        raise Unreadable(f"文字识别出错（{e}）") from e


class Pictures:
    """Pictures inside a document (a Word file's tables pasted as images): the table rows OCR finds
    in each, where the picture stands; a picture with no ruled table (a seal, a logo) gives none."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.seen = 0
        self.tables = 0
        self.unread_tables = 0   # pictures large enough for a table that OCR could not read
        self.unread: list[str] = []
        self.read_before: set[str] = set()   # a picture placed again (one part, many places) is read once

    def read(self, data: bytes) -> list[Row]:
        """One picture -> its tables' rows; the picture's number in the document is its ``Where.page``."""
        from PIL import Image

        from giodq.extract.decode import NotAReport

        self.seen += 1
        digest = hashlib.sha1(data).hexdigest()
        if digest in self.read_before:
            return []
        self.read_before.add(digest)
        try:
            w, h = Image.open(io.BytesIO(data)).size
            if w < _LEAST_TABLE[0] or h < _LEAST_TABLE[1] or not self.budget.take():   # an icon, a seal
                return []
            rows = image_rows(data, tables_only=True, page=self.seen)
        except (Unreadable, NotAReport) as e:
            self.unread.append(f"第 {self.seen} 张图片：{e}")
            self.unread_tables += 1
            return []
        except Exception as e:   # a picture Pillow cannot open is no table; the document is still read
            self.unread.append(f"第 {self.seen} 张图片无法打开（{type(e).__name__}）")
            return []
        self.tables += bool(rows)
        return rows

    @property
    def scanned(self) -> bool:
        """A picture large enough for a table was read, or could not be: findings ask for the eye."""
        return bool(self.tables or self.unread_tables or self.budget.skipped)

    def notes(self) -> list[str]:
        read = [f"文中 {self.tables} 张表格图片经文字识别（OCR）读取，未经人工核对"] if self.tables else []
        return read + [f"文中图片无法识别（{why}）" for why in self.unread] + self.budget.notes()


_LEAST_TABLE = (300, 100)   # px: a picture smaller than this holds no table of the format
_ASPECT = 40                # a picture longer than this many times its width is no page and no table


def take_cells(read) -> dict[str, Where]:
    """The cells of a TableRead that OCR read -> where each stands; their texts become plain again,
    a number OCR was unsure of becomes a cell not located, with a problem, and every table row
    holding OCR'd cells is in doubt (``read.placed``), so that an identity over it is a warning."""
    where: dict[str, Where] = {}
    for key, raw in read.raw.items():
        if not isinstance(raw, OcrText):
            continue
        if raw.where.box[2] > raw.where.box[0]:   # a place no cell starts at has no box to show
            where[key] = raw.where
        if raw.unsure:
            read.raw[key] = None
            read.problems.append(f"{key}: 扫描件第 {raw.where.page} 页此单元格的数字无法可靠识别，未读取")
        else:
            read.raw[key] = str(raw)
        row = key.rsplit(".", 1)[0]
        read.placed.setdefault(row, OCR_DOUBT)
    return where


OCR_DOUBT = "扫描件经文字识别（OCR）读取，无法区分印刷错误与识别错误，请对照原件核对"
