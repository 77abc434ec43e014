"""Bytes -> what kind of document it is, and its text for the text kinds.

A file that is not a report at all (empty, an archive, bytes that are no Chinese
text) raises NotAReport with a reason a reviewer can read; the pipeline records
it as a failed input and goes on.
"""
from __future__ import annotations

import re

from giodq.extract.limits import Limits, text_reason

# Magic numbers of images: a scanned page or a table published as a picture, read by OCR.
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
# Magic numbers of binary files that are never a report.
_BINARY_MAGIC = {
    b"GIF8": "GIF 图像",
    b"BM": "BMP 图像",
    b"RIFF": "RIFF 媒体文件",
    b"\x1f\x8b": "gzip 压缩包",
    b"Rar!": "RAR 压缩包",
    b"7z\xbc\xaf": "7z 压缩包",
    b"\xd0\xcf\x11\xe0": "旧版 Office 文件（.doc/.xls）",
}
# Encodings tried in order; GB18030 is a superset of GBK and GB2312.
_ENCODINGS = ("utf-8", "gb18030", "big5")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HTML_HINT = re.compile(rb"<(?:!doctype\s+html|html|body|table|head)\b", re.I)


class NotAReport(ValueError):
    """The input cannot be read as a report; the message says why (中文, with a code)."""


def sniff(data: bytes) -> str:
    """Kind of document: 'pdf', 'docx', 'image' (PNG, JPEG, TIFF), 'html' or 'text'. Raises NotAReport."""
    if not data.strip():
        raise NotAReport("empty: 文件为空" if not data else "empty: 文件只有空白字符")
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        if b"word/" in data[:4096] or b"[Content_Types].xml" in data[:4096]:
            return "docx"
        raise NotAReport("binary: ZIP 压缩包，不是报告文件")
    if data.startswith(_IMAGE_MAGIC):
        return "image"
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise NotAReport(f"binary: {what}，不是报告文件")
    return "html" if _HTML_HINT.search(data[:4096]) else "text"


def decode(data: bytes, kind: str = "text", limits: Limits | None = None) -> str:
    """Bytes of a text or HTML file -> str, trying the declared charset, then UTF-8, GB18030, Big5.
    With ``limits``, a text longer than ``limits.text_chars`` raises NotAReport (too_large)."""
    # UTF-8, GB18030, Big5 and UTF-16 spend at most 4 bytes on a character: a file of more than
    # 4 bytes per allowed character is too long, and is not decoded to find out by how much
    reason = text_reason(len(data) // 4, limits, at_least=True) if limits else None
    if reason:
        raise NotAReport(reason)
    candidates = list(_ENCODINGS)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates.insert(0, "utf-16")
    elif data.startswith(b"\xef\xbb\xbf"):
        candidates.insert(0, "utf-8-sig")
    if kind == "html":
        m = _META_CHARSET.search(data[:4096])
        if m:
            declared = m.group(1).decode("ascii").lower()
            declared = "gb18030" if declared in ("gbk", "gb2312", "gb_2312-80", "x-gbk") else declared
            candidates.insert(0, declared)
    for enc in candidates:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        # checked before _looks_like_text, which reads every character
        reason = text_reason(len(text), limits) if limits else None
        if reason:
            raise NotAReport(reason)
        if _looks_like_text(text):
            return text
    raise NotAReport("undecodable: 字节无法按 UTF-8、GBK/GB18030 或 Big5 解码为文本")


# the C0 control characters a text does not hold (tab, line feed, form feed and carriage return it does)
CONTROLS = tuple(chr(i) for i in range(32) if chr(i) not in "\t\n\r\f")


def _looks_like_text(text: str) -> bool:
    """Reject decodings full of control characters (a binary file that happens to decode)."""
    if "\x00" in text:
        return False
    # str.count per control character runs in C; a loop over the characters took ~0.5 ms per report
    controls = sum(text.count(c) for c in CONTROLS)
    return controls <= max(2, len(text) // 200)
