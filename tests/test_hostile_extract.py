"""Hostile inputs: the work one report file can cost is bounded, and what could not be read is said.

Every hostile file is built here, small: the limits are lowered through the environment
(GIODQ_MAX_*), so that a file just past them is enough.
"""
import hashlib
import io
import struct
import sys
import tracemalloc
import zipfile
import zlib
from html import escape

import pytest
from conftest import SAMPLES

from giodq.extract import extract_report, layout

# ---------------------------------------------------------------- DOCX (a zip)

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '</Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    '</Relationships>')


def _document_xml(paragraphs: list[str], padding: int = 0) -> bytes:
    """word/document.xml with the paragraphs, and ``padding`` blanks inside the body (a big member)."""
    ps = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            f'{ps}{" " * padding}</w:body></w:document>').encode()


def _docx(document: bytes, extra: dict[str, bytes] | None = None, method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def _no_python_docx(monkeypatch):
    """Fail the test if python-docx is asked to open the file: the directory alone must decide."""
    def refuse(*args, **kwargs):
        raise AssertionError("python-docx opened a file the zip's directory should have refused")
    monkeypatch.setattr("docx.Document", refuse)


PARAGRAPHS = ["发布机构：某某镇人民政府", "某某镇人民政府2024年政府信息公开工作年度报告"]


def test_small_docx_built_here_is_read():
    e = extract_report("ok.docx", _docx(_document_xml(PARAGRAPHS)))
    assert e.status == "ok" and e.body == "某某镇人民政府" and e.problems == []


def test_docx_member_past_the_limit_is_refused_from_the_directory(monkeypatch):
    monkeypatch.setenv("GIODQ_MAX_MEMBER_MB", "1")
    data = _docx(_document_xml(PARAGRAPHS, padding=(1 << 20) + (1 << 17)))  # 1.13 MB inflated, 4 kB on disk
    _no_python_docx(monkeypatch)
    e = extract_report("big-member.docx", data)
    assert e.status == "failed"
    assert e.error == "too_large: DOCX 内的 word/document.xml 解压后 1.13 MB，超过上限 1 MB（GIODQ_MAX_MEMBER_MB）"


def test_docx_members_together_past_the_limit_are_refused(monkeypatch):
    monkeypatch.setenv("GIODQ_MAX_MEMBERS_MB", "1")
    data = _docx(_document_xml(PARAGRAPHS, padding=600_000), {"word/media/image1.emf": b"\0" * 600_000})
    _no_python_docx(monkeypatch)
    e = extract_report("big-members.docx", data)
    assert e.status == "failed" and e.error.startswith("too_large: DOCX 内 4 个文件解压后共 1.15 MB，超过上限 1 MB")
    assert "GIODQ_MAX_MEMBERS_MB" in e.error and "word/document.xml" in e.error


def _lie_about_size(data: bytes, name: str, declared: int, payload: bytes) -> bytes:
    """The zip with ``name``'s directory entry (and local header) saying ``declared`` bytes, and a CRC
    that matches the first ``declared`` bytes: zipfile reads that much and finds nothing wrong."""
    out = bytearray(data)
    crc = zlib.crc32(payload[:declared])
    cd = out.index(b"PK\x01\x02")  # the directory's entries, until the one named
    while out[cd + 46: cd + 46 + len(name)] != name.encode():
        cd = out.index(b"PK\x01\x02", cd + 4)
    local = struct.unpack_from("<I", out, cd + 42)[0]
    struct.pack_into("<I", out, cd + 16, crc)
    struct.pack_into("<I", out, cd + 24, declared)
    struct.pack_into("<I", out, local + 14, crc)
    struct.pack_into("<I", out, local + 22, declared)
    return bytes(out)


def test_docx_member_inflating_past_its_declared_size_is_refused_in_bounded_steps():
    # The directory says 2 kB; the deflate stream inflates to 40 MB. zipfile returns 2 kB with a good
    # CRC, but its read() inflates the whole 40 MB in one call first (up to ZipExtFile.MAX_N, 1 GiB).
    payload = _document_xml(PARAGRAPHS, padding=40 << 20)
    data = _lie_about_size(_docx(payload), "word/document.xml", 2048, payload)
    del payload
    extract_report("warm-up.docx", _docx(_document_xml(PARAGRAPHS)))  # imports are not the file's cost
    tracemalloc.start()
    try:
        e = extract_report("lying.docx", data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.status == "failed"
    assert e.error.startswith("unreadable: DOCX 内的 word/document.xml 解压后大于文件目录所写的 2048 字节")
    assert peak < 8 << 20, f"{peak >> 20} MB traced: the stream was inflated in one piece"


def test_docx_member_with_a_method_docx_does_not_use_is_refused(monkeypatch):
    # bzip2 and LZMA members are inflated by zipfile with no bound at all, whatever the header says
    data = _docx(_document_xml(PARAGRAPHS), method=zipfile.ZIP_BZIP2)
    _no_python_docx(monkeypatch)
    e = extract_report("bzip2.docx", data)
    assert e.status == "failed" and e.error.startswith("unreadable: DOCX 内的 [Content_Types].xml 使用了 DOCX 不用的压缩方式")


def test_docx_with_an_encrypted_member_says_so(monkeypatch):
    out = bytearray(_docx(_document_xml(PARAGRAPHS)))
    cd = out.index(b"PK\x01\x02")
    struct.pack_into("<H", out, cd + 8, struct.unpack_from("<H", out, cd + 8)[0] | 0x1)  # the "encrypted" flag
    _no_python_docx(monkeypatch)
    e = extract_report("encrypted.docx", bytes(out))
    assert e.status == "failed" and e.error == "encrypted: DOCX 内的 [Content_Types].xml 已加密（需要密码），无法读取"


def test_docx_zipfile_cannot_open_is_a_failed_input_with_a_clear_reason():
    truncated = _docx(_document_xml(PARAGRAPHS))[:300]  # a download cut short: no central directory
    e = extract_report("truncated.docx", truncated)
    assert e.status == "failed"
    assert e.error.startswith("unreadable: DOCX 文件已损坏或不完整，无法作为 ZIP 压缩包打开（BadZipFile")


def test_docx_with_too_many_members_is_refused_before_listing_them(monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        for i in range(10_001):
            zf.writestr(f"word/{i}", b"")
    monkeypatch.setattr(zipfile.ZipFile, "infolist", lambda self: pytest.fail("the directory was listed"))
    e = extract_report("many.docx", buf.getvalue())
    assert e.status == "failed" and e.error == "too_large: DOCX 内有 10002 个文件，超过上限 10000 个"


# ---------------------------------------------------------------- input and text size

SEED = SAMPLES / "004_47717d3cd7e0ea5b.txt"


def test_input_past_the_limit_is_failed_before_any_parsing(monkeypatch):
    monkeypatch.setenv("GIODQ_MAX_INPUT_MB", "0.002")  # 2097 bytes; the seed is 6173
    monkeypatch.setattr("giodq.extract.sniff", lambda data: pytest.fail("the file was parsed"))
    data = SEED.read_bytes()
    e = extract_report("big.txt", data)
    assert e.status == "failed" and e.sha256 == hashlib.sha256(data).hexdigest()
    assert e.error == "too_large: 文件 6173 字节，超过上限 2097 字节（GIODQ_MAX_INPUT_MB）"


@pytest.mark.parametrize("data, reason", [
    # GB18030: 2 bytes a character, so only decoding tells how many there are
    (("规章" * 1000 + "\n").encode("gb18030"), "too_large: 文本共 2001 个字符，超过上限 1000 个字符（GIODQ_MAX_TEXT_CHARS）"),
    # more than 4 bytes per allowed character: too long whatever the charset, not even decoded
    (b"<html><body><p>" + b"x" * 5000 + b"</p></body></html>",
     "too_large: 文本至少 1258 个字符，超过上限 1000 个字符（GIODQ_MAX_TEXT_CHARS）"),
])
def test_text_past_the_limit_is_failed_with_the_count(monkeypatch, data, reason):
    monkeypatch.setenv("GIODQ_MAX_TEXT_CHARS", "1000")
    e = extract_report("long.txt", data)
    assert e.status == "failed" and e.error == reason


# ---------------------------------------------------------------- PDF, written by hand

_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def _rc4(key: bytes, data: bytes) -> bytes:
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _pdf(pages: list[str], password: str | None = None) -> bytes:
    """A PDF with one line of ASCII text per page; with ``password``, encrypted (standard security
    handler, revision 2, RC4 40-bit) so that the password is needed to open it."""
    n = len(pages)
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * k} 0 R' for k in range(n))}] /Count {n} >>".encode(),
            3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    file_id = hashlib.md5(b"giodq").digest()
    key = None
    if password is not None:
        user = (password.encode() + _PAD)[:32]
        owner_entry = _rc4(hashlib.md5((b"owner" + _PAD)[:32]).digest()[:5], user)
        key = hashlib.md5(user + owner_entry + struct.pack("<i", -4) + file_id).digest()[:5]
        objs[4 + 2 * n] = (b"<< /Filter /Standard /V 1 /R 2 /P -4 /O <" + owner_entry.hex().encode() + b"> /U <"
                           + _rc4(key, _PAD).hex().encode() + b"> >>")
    for k, text in enumerate(pages):
        num = 5 + 2 * k
        objs[4 + 2 * k] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] "
                           f"/Resources << /Font << /F1 3 0 R >> >> /Contents {num} 0 R >>").encode()
        stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
        if key:
            stream = _rc4(hashlib.md5(key + struct.pack("<i", num)[:3] + b"\0\0").digest()[:10], stream)
        objs[num] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out, offsets = bytearray(b"%PDF-1.4\n"), {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref, size = len(out), max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size + b"".join(b"%010d 00000 n \n" % offsets[i] for i in range(1, size))
    encrypt = b" /Encrypt %d 0 R" % (4 + 2 * n) if key else b""
    ident = file_id.hex().encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R%s /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, encrypt, ident, ident, xref)
    return bytes(out)


def test_pdf_built_here_is_read():
    rows, notes = layout.pdf_to_rows(_pdf(["Page 1", "Page 2"]))
    assert rows == [["Page 1"], ["Page 2"]] and notes == []


def test_pdf_past_the_page_limit_is_read_in_part_with_a_note(monkeypatch):
    monkeypatch.setenv("GIODQ_MAX_PDF_PAGES", "3")
    data = _pdf([f"Page {i}" for i in range(1, 8)])
    rows, _ = layout.pdf_to_rows(data)  # the limits of the environment
    assert rows == [["Page 1"], ["Page 2"], ["Page 3"]]
    e = extract_report("long.pdf", data)
    assert e.status == "ok"
    assert e.problems == ["PDF 共 7 页，只读取了前 3 页，其余 4 页未读取（上限 GIODQ_MAX_PDF_PAGES）"]


def test_encrypted_pdf_says_it_is_encrypted():
    data = _pdf(["Page 1"], password="secret")
    import pdfplumber
    with pdfplumber.open(io.BytesIO(data), password="secret") as pdf:  # a real encrypted PDF: the password opens it
        assert pdf.pages[0].extract_text() == "Page 1"
    e = extract_report("encrypted.pdf", data)
    assert e.status == "failed" and e.error == "encrypted: PDF 已加密（需要密码），无法读取"


# ---------------------------------------------------------------- HTML nested past the parser's limit

def _seed_html(lines: list[str], depth: int = 0) -> str:
    """A seed's lines as a web page: tab-separated lines as table rows, the others as paragraphs,
    all inside ``depth`` nested <div>s."""
    parts, table = [], []
    for line in lines:
        if "\t" in line:
            table.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in line.split("\t")) + "</tr>")
            continue
        if table:
            parts.append("<table>" + "".join(table) + "</table>")
            table = []
        if line.strip():
            parts.append(f"<p>{escape(line)}</p>")
    if table:
        parts.append("<table>" + "".join(table) + "</table>")
    return ('<html><head><meta charset="utf-8"></head><body>'
            + "<div>" * depth + "".join(parts) + "</div>" * depth + "</body></html>")


def test_body_survives_100000_nested_divs_and_a_note_says_what_was_done():
    lines = ["发布机构\t湛河区轻工路街道办事处"] + SEED.read_text(encoding="utf-8").splitlines()
    flat = extract_report("flat.html", _seed_html(lines).encode())
    deep = extract_report("deep.html", _seed_html(lines, depth=100_000).encode())
    assert flat.status == deep.status == "ok" and flat.problems == []
    assert deep.body == flat.body == "湛河区轻工路街道办事处"
    assert (deep.year, deep.format, deep.raw) == (flat.year, flat.format, flat.raw)
    assert deep.problems == ["HTML 嵌套超过解析器上限 2048 层：已去掉嵌套过深的标签 <div>（最深 100000 层）后重新读取，文字未丢失"]


def test_tables_nested_past_the_limit_are_noted_as_lost():
    page = "<html><body>" + "<table><tr><td>" * 3000 + "规章" + "</td></tr></table>" * 3000 + "</body></html>"
    root, notes = layout.parse_html(page)
    assert len(notes) == 1 and notes[0].startswith("HTML 嵌套超过解析器上限 2048 层（嵌套的是表格等不能去掉的标签）：第 1 行第")
    assert notes[0].endswith("列之后的内容未读取")
    layout.tree_to_rows(root)  # reads what was parsed, without a RecursionError


def test_tree_deeper_than_the_recursion_limit_is_walked():
    from lxml import etree, html

    root = html.fromstring("<html><body></body></html>")
    el = root.find("body")
    for _ in range(sys.getrecursionlimit() * 3):
        el = etree.SubElement(el, "div")
    el.text = "发布机构：某某镇人民政府"
    assert layout.tree_to_rows(root) == ([["发布机构：某某镇人民政府"]], None)


# ---------------------------------------------------------------- Han characters past the basic block

NAME = "𠀀𪚥䶮镇人民政府"   # Extension B, Extension B, Extension A, then the basic block


@pytest.mark.parametrize("seed, old, new", [
    ("004_47717d3cd7e0ea5b.txt", "湛河区轻工路街道办事处", NAME),                          # the title
    ("003_72b5106183aba5ae.txt", "铁厂镇", "𠀀𪚥䶮镇"),                                   # 结合…2024年度 + 人民政府
    ("002_40523efafb065443.txt", "发布机构: | 河东区中小企业发展服务中心 |", "发布机构：" + NAME),  # the field
])
def test_body_in_cjk_extension_characters_is_kept_whole(seed, old, new):
    text = (SAMPLES / seed).read_text(encoding="utf-8")
    assert old in text
    e = extract_report(seed, text.replace(old, new).encode())
    assert e.status == "ok" and e.body == NAME
