"""Scans read by OCR (extract/ocr.py), with the identities as the checksum (#16).

Scans are made here, as an office makes them: pages of a real text PDF through pdftoppm, and the
seeds' tables printed in the national format; both with grey noise, specks and a slight turn
(bench/make_scan.py). The hand-read values are the text layer's (tests/test_extract_forms.py holds those
against the hand-read answers)."""
from __future__ import annotations

import io
import struct
import sys
import zlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import FIXTURES, ROOT, SAMPLES, read_fixture
from giodq.extract import extract_report
from giodq.pipeline import run, validate_reports

sys.path.insert(0, str(ROOT / "bench"))
from make_scan import print_report, scan_of_pdf, scan_of_report, scanned  # noqa: E402  (bench/make_scan.py)

IDENTITIES = {"t3.flow", "t3.results", "t3.row_total", "t4.total"}
BALANCED_SEEDS = ["000_11add77ccab5606b.txt", "003_72b5106183aba5ae.txt"]


def _seed(name: str):
    return extract_report(name, (SAMPLES / name).read_bytes())


def _agreement(truth: dict, read: dict, keys) -> tuple[int, list, list]:
    """(cells read right, cells read wrong, cells not read); a blank and a 0 are the same none."""
    same = lambda a, b: (a or "0") == (b or "0")  # noqa: E731
    right = [k for k in keys if read.get(k) is not None and same(read[k], truth[k])]
    wrong = [(k, truth[k], read[k]) for k in keys if read.get(k) is not None and not same(read[k], truth[k])]
    return len(right), wrong, [k for k in keys if read.get(k) is None]


def test_pages_of_a_real_pdf_scanned_at_300_dpi(tmp_path):
    text = extract_report("huaian.pdf", read_fixture("huaian-city-2024.pdf"))
    scan = extract_report("scan.pdf", scan_of_pdf(FIXTURES / "huaian-city-2024.pdf", tmp_path / "s.pdf", 300, "4-5")
                          .read_bytes())
    assert scan.status == "ok" and scan.scanned and scan.media == "pdf"
    keys = [k for k in text.raw if k.startswith(("t3.", "t4.")) and text.raw[k] is not None]
    right, wrong, _ = _agreement(text.raw, scan.raw, keys)
    assert right >= 0.98 * len(keys) and wrong == [], (right, len(keys), wrong)
    assert set(scan.ocr) >= {k for k in keys if scan.raw[k] is not None}
    where = scan.ocr["t3.new_received.total"]
    assert where.page == 1 and 0 < where.confidence <= 1 and where.box[2] > where.box[0]


@pytest.mark.parametrize("name", BALANCED_SEEDS)
def test_a_scan_of_a_seed_whose_tables_balance_is_accepted(tmp_path, name):
    seed = _seed(name)
    scan = extract_report("scan.pdf", scan_of_report(tmp_path / "s.pdf", seed.body, seed.year, seed.raw).read_bytes())
    assert scan.scanned and scan.body == seed.body and scan.year == seed.year and scan.format == "2021"
    right, wrong, missing = _agreement(seed.raw, scan.raw, [k for k, v in seed.raw.items() if v is not None])
    assert wrong == [] and missing == [] and right == len(seed.raw)
    findings = validate_reports([scan]).findings
    assert not (set(findings["rule"]) & IDENTITIES), findings[["rule", "where"]]
    assert (findings["severity"] == "warning").all(), findings[["rule", "severity"]]


def test_an_altered_seed_gets_a_warning_with_the_crop_never_an_error(tmp_path):
    seed = _seed(BALANCED_SEEDS[0])
    altered = {**seed.raw, "t3.new_received.natural_person": str(int(seed.raw["t3.new_received.natural_person"]) + 5)}
    src = tmp_path / "src"
    src.mkdir()
    scan_of_report(src / "altered.pdf", seed.body, seed.year, altered)
    out = tmp_path / "out"
    run(str(src), str(out))
    reports = pd.read_parquet(out / "dataset" / "reports.parquet").set_index("report")
    assert bool(reports.loc["altered.pdf", "ocr"]) and reports.loc["altered.pdf", "errors"] == 0
    findings = pd.read_parquet(out / "dataset" / "findings.parquet")
    row_total = findings[findings["rule"] == "t3.row_total"]
    assert len(row_total) == 1 and row_total["severity"].iloc[0] == "warning"
    assert "t3.new_received.natural_person" in list(row_total["cells"].iloc[0])
    assert "对照原件" in row_total["message"].iloc[0]
    cells = pd.read_parquet(out / "dataset" / "cells.parquet").set_index("key")
    assert cells.loc["t3.new_received.natural_person", "raw"] == altered["t3.new_received.natural_person"]
    assert 0 < cells.loc["t3.new_received.natural_person", "ocr_confidence"] <= 1
    pages = list((out / "data_docs" / "reports").glob("*.html"))
    html = pages[0].read_text("utf-8")
    crop = html.split('<figure class="giodq-crop"><img src="', 1)[1].split('"', 1)[0]
    image = Image.open(out / "data_docs" / "reports" / crop)
    assert image.format == "PNG" and 100 < image.width <= 1200 and image.height > 50


def test_a_table_published_as_an_image_file(tmp_path):
    seed = _seed(BALANCED_SEEDS[1])
    page = scanned(print_report(seed.body, seed.year, seed.raw)[1], 8, -0.4, np.random.default_rng(3))
    png = io.BytesIO()
    page.crop((0, 0, page.width, 2700)).save(png, format="PNG")
    e = extract_report("table3.png", png.getvalue())
    assert e.status == "ok" and e.media == "image" and e.scanned
    keys = [k for k in seed.raw if k.startswith("t3.")]
    right, wrong, missing = _agreement(seed.raw, e.raw, keys)
    assert wrong == [] and right >= 0.98 * len(keys)


def test_a_png_that_claims_a_huge_size_is_not_decoded():
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    e = extract_report("huge.png", png)
    assert e.status == "failed" and e.error.startswith("too_large:") and "超过上限" in e.error


def test_a_word_file_with_its_table_pasted_as_a_picture(tmp_path):
    from docx import Document
    from docx.shared import Cm

    seed = _seed(BALANCED_SEEDS[0])
    page = scanned(print_report(seed.body, seed.year, seed.raw)[1], 6, 0.3, np.random.default_rng(5))
    png = tmp_path / "t3.png"
    page.crop((0, 0, page.width, 2700)).save(png)
    doc = Document()
    doc.add_paragraph(f"{seed.body}{seed.year}年政府信息公开工作年度报告")
    doc.add_paragraph("三、收到和处理政府信息公开申请情况")
    doc.add_picture(str(png), width=Cm(16))
    doc.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    out = io.BytesIO()
    doc.save(out)
    e = extract_report("report.docx", out.getvalue())
    assert e.status == "ok" and e.media == "docx" and e.scanned
    assert any("表格图片" in p for p in e.problems)
    keys = [k for k in seed.raw if k.startswith("t3.")]
    right, wrong, _ = _agreement(seed.raw, e.raw, keys)
    assert wrong == [] and right >= 0.98 * len(keys)
    assert {e.ocr[k].page for k in keys if k in e.ocr} == {1}   # the first picture


def test_last_years_report_a_scan_makes_the_carry_a_warning(tmp_path):
    """cross_year.carry rests on last year's 结转下年度 too: when that report is a scan, in the same run
    or in the dataset at OUT, the carry is a warning that names the doubt."""
    from test_cross_year import S004, predecessor

    from giodq.publish.dataset import read_dataset

    last = extract_report("2023.txt", predecessor(2, 3))
    src = tmp_path / "src"
    src.mkdir()
    scan_of_report(src / "2023-scan.pdf", last.body, 2023, last.raw)
    this = extract_report("2024.txt", S004.encode())
    scan = extract_report("2023-scan.pdf", (src / "2023-scan.pdf").read_bytes())
    assert scan.raw["t3.carried_forward.total"] == "2"
    run(str(src), str(tmp_path / "out"))
    for v in (validate_reports([scan, this]), validate_reports([this], previous=read_dataset(tmp_path / "out"))):
        carry = v.findings[(v.findings["report"] == "2024.txt") & (v.findings["rule"] == "cross_year.carry")]
        assert len(carry) and (carry["severity"] == "warning").all(), carry[["where", "severity"]]
        assert carry["where"].str.contains("扫描件").all()


def test_a_text_pdf_with_its_table_pasted_as_a_picture(tmp_path):
    """A PDF with a text layer whose table 3 is a picture (matplotlib writes the text in WenQuanYi
    and embeds the printed table as an image): the text is read from the layer, the table by OCR."""
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    seed = _seed(BALANCED_SEEDS[0])
    table = print_report(seed.body, seed.year, seed.raw)[1].crop((0, 250, 2480, 2700))
    font_manager.fontManager.addfont("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    with matplotlib.rc_context({"font.family": "WenQuanYi Micro Hei"}), PdfPages(tmp_path / "mixed.pdf") as pdf:
        fig = Figure(figsize=(8.27, 11.69))
        fig.text(0.1, 0.95, f"{seed.body}{seed.year}年政府信息公开工作年度报告", fontsize=12)
        fig.text(0.1, 0.92, "三、收到和处理政府信息公开申请情况", fontsize=11)
        ax = fig.add_axes([0.05, 0.2, 0.9, 0.7])
        ax.imshow(np.asarray(table), cmap="gray", interpolation="nearest")
        ax.axis("off")
        fig.text(0.1, 0.15, "四、政府信息公开行政复议、行政诉讼情况", fontsize=11)
        pdf.savefig(fig, dpi=300)
    e = extract_report("mixed.pdf", (tmp_path / "mixed.pdf").read_bytes())
    assert e.status == "ok" and e.scanned and e.body == seed.body
    assert e.problems[0] == "第 1 页的表格是图片，经文字识别（OCR）读取，未经人工核对"
    keys = [k for k in seed.raw if k.startswith("t3.")]
    right, wrong, _ = _agreement(seed.raw, e.raw, keys)
    assert wrong == [] and right >= 0.98 * len(keys)


def test_ocr_reads_at_most_max_ocr_pages_of_a_file(tmp_path, monkeypatch):
    """OCR costs seconds a page: a file of many scanned pages reads GIODQ_MAX_OCR_PAGES of them, and
    says so; the same picture placed a thousand times in a Word file is read once."""
    from docx import Document

    monkeypatch.setenv("GIODQ_MAX_OCR_PAGES", "2")
    pages = [Image.new("L", (1240, 1754), 255) for _ in range(4)]
    pages[0].save(tmp_path / "blank.pdf", save_all=True, append_images=pages[1:], resolution=150)
    e = extract_report("blank.pdf", (tmp_path / "blank.pdf").read_bytes())
    assert e.problems[-1].startswith("扫描页和表格图片超过 2 页（张），只识别了前 2 页（张），其余 2 页（张）未识别")
    picture = tmp_path / "grid.png"
    pages[0].save(picture)
    doc = Document()
    for _ in range(1000):
        doc.add_picture(str(picture))
    out = io.BytesIO()
    doc.save(out)
    e = extract_report("many.docx", out.getvalue())
    assert e.status == "ok" and not any("GIODQ_MAX_OCR_PAGES" in p for p in e.problems)   # one picture, read once


def test_a_scan_too_coarse_to_read_is_not_assessed_and_asks_for_the_eye():
    e = extract_report("scan.pdf", read_fixture("huaian-city-2024-p4-scan.pdf"))
    assert e.scanned and "60 dpi" in e.problems[0] and all(v is None for v in e.raw.values())
    findings = validate_reports([e]).findings
    assert "form.tables" in set(findings["rule"]) and (findings["severity"] == "warning").all()


def test_a_page_that_places_a_picture_a_thousand_times_is_not_rendered(tmp_path):
    """pdfium draws a picture as often as the page places it: minutes for a few KB (the probe's case)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(595, 842)
    for i in range(100):
        image = pdfium.PdfImage.new(pdf)
        image.set_bitmap(pdfium.PdfBitmap.from_pil(Image.new("L", (200, 200), i)))
        image.set_matrix(pdfium.PdfMatrix().scale(20, 20).translate(i * 5, i * 5))
        page.insert_obj(image)
    page.gen_content()
    pdf.save(tmp_path / "many.pdf")
    e = extract_report("many.pdf", (tmp_path / "many.pdf").read_bytes())
    assert e.status == "ok" and e.scanned and "页面放置图片超过 64 次" in e.problems[0]


def test_an_unsure_number_at_a_rows_end_is_never_dropped_as_padding():
    """A number OCR could not read stands in its row as a blank; dropped like a merged cell's padding,
    it would move the row's numbers a column (1…6 under 商业企业…总计)."""
    from giodq.extract.ocr import OcrText, Where
    from giodq.extract.tables import fit_values

    where = Where(1, (0, 0, 10, 10), 0.3)
    spanned, unsure = OcrText("", where, spanned=True), OcrText("", where, unsure=True)
    assert fit_values([spanned, "1", "2", "3", "4", "5", "6", unsure], 7) == ["1", "2", "3", "4", "5", "6", ""]
    assert fit_values(["", "1", "2", "3", "4", "5", "6", "7", ""], 7) == ["1", "2", "3", "4", "5", "6", "7"]


def test_without_tesseract_a_scan_is_not_read_and_asks_for_the_eye(tmp_path, monkeypatch):
    from giodq.extract import ocr

    def missing():
        raise ocr.Unreadable("未安装 Tesseract 中文模型（Debian 软件包 tesseract-ocr-chi-sim），扫描件无法识别")

    monkeypatch.setattr(ocr, "_apis", missing)
    seed = _seed(BALANCED_SEEDS[0])
    scan = extract_report("scan.pdf", scan_of_report(tmp_path / "s.pdf", seed.body, seed.year, seed.raw).read_bytes())
    assert scan.status == "ok" and scan.scanned and "未安装 Tesseract" in scan.problems[0]
    assert all(v is None for v in scan.raw.values())
    findings = validate_reports([scan]).findings
    assert "form.tables" in set(findings["rule"]) and (findings["severity"] == "warning").all()
