"""Bounds on the work one input file may cost, and the reasons (中文) a file past one gets.

Reports come from hundreds of units and from crawlers, so every file is untrusted: a file past
a bound is a failed input (``too_large: …``) or, for a long PDF, read in part with a note. Each
reason names the setting, so that whoever runs giodq knows what to raise.
"""
from __future__ import annotations

from dataclasses import dataclass

MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """The per-file bounds in bytes, characters and pages (from giodq.settings, read once per file)."""
    input_bytes: int
    member_bytes: int
    members_bytes: int
    text_chars: int
    pdf_pages: int
    ocr_pages: int = 30

    @classmethod
    def resolve(cls, s=None) -> Limits:
        """Limits from a Settings object, or from the environment when None."""
        if s is None:
            from giodq.settings import settings
            s = settings()
        return cls(input_bytes=int(s.max_input_mb * MB), member_bytes=int(s.max_member_mb * MB),
                   members_bytes=int(s.max_members_mb * MB), text_chars=s.max_text_chars,
                   pdf_pages=s.max_pdf_pages, ocr_pages=s.max_ocr_pages)


def sizes(size: int, limit: int) -> tuple[str, str]:
    """Two byte counts as a reviewer reads them, in MB, or in bytes when MB would show them equal."""
    a, b = size_text(size), size_text(limit)
    return (a, b) if a != b else (f"{size} 字节", f"{limit} 字节")


def size_text(n: int) -> str:
    """A byte count in MB (two decimals below 10 MB), or in bytes below 0.1 MB."""
    value = n / MB
    if value < 0.1:
        return f"{n} 字节"
    return f"{value:.0f} MB" if value >= 10 else f"{value:.2f}".rstrip("0").rstrip(".") + " MB"


def input_reason(size: int, limits: Limits) -> str | None:
    """Why a file of ``size`` bytes is not read, or None."""
    if size <= limits.input_bytes:
        return None
    got, limit = sizes(size, limits.input_bytes)
    return f"too_large: 文件 {got}，超过上限 {limit}（GIODQ_MAX_INPUT_MB）"


def text_reason(chars: int, limits: Limits, at_least: bool = False) -> str | None:
    """Why a decoded text of ``chars`` characters (``at_least`` that many) is not read, or None."""
    if chars <= limits.text_chars:
        return None
    count = f"至少 {chars}" if at_least else f"共 {chars}"
    return f"too_large: 文本{count} 个字符，超过上限 {limits.text_chars} 个字符（GIODQ_MAX_TEXT_CHARS）"


def pdf_pages_note(total: int | None, limits: Limits) -> str:
    """The note on a PDF read in part: ``total`` pages (None when the file does not say how many)."""
    read = limits.pdf_pages
    if total is None or total <= read:  # the page tree's count is missing or wrong: more, but how many?
        return f"PDF 超过 {read} 页，只读取了前 {read} 页，之后的页未读取（上限 GIODQ_MAX_PDF_PAGES）"
    return f"PDF 共 {total} 页，只读取了前 {read} 页，其余 {total - read} 页未读取（上限 GIODQ_MAX_PDF_PAGES）"


def ocr_pages_note(skipped: int, limits: Limits) -> str:
    """The note on a file with more scanned pages or pictures of tables than OCR reads."""
    return (f"扫描页和表格图片超过 {limits.ocr_pages} 页（张），只识别了前 {limits.ocr_pages} 页（张），"
            f"其余 {skipped} 页（张）未识别（上限 GIODQ_MAX_OCR_PAGES）")
