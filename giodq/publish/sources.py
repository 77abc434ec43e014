"""What a report's source file becomes in the reviewers' site: a copy that cannot run.

A source was written by someone else (a unit, a crawled page), so the site never sends what it
wrote as markup of its own origin:

- an HTML page is re-written as its text and tables only (nh3, the Ammonia sanitiser: no
  scripts, handlers, styles, images or frames), in UTF-8, behind a Content-Security-Policy that
  forbids scripts and every request, under a name giodq chooses;
- a text file is a ``.txt`` in UTF-8 (a browser shows it as plain text, whatever it contains);
- a PDF or DOCX is offered as a download (``download`` on the link, ``Content-Disposition:
  attachment`` in a bucket).

The copy's name comes from what the bytes are (extraction's ``media``), never from the file
name: ``x.html`` holding text is a ``.txt``, ``x.txt`` holding a page is sanitised.
"""
from __future__ import annotations

import hashlib

import nh3

from giodq.extract.decode import decode

# what a sanitised copy may keep: text, structure and tables (colspan/rowspan), no img/area/map
_TAGS = nh3.ALLOWED_TAGS - {"img", "area", "map", "a"}
_ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}, "col": {"span"}, "colgroup": {"span"}}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'"
_PAGE = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="UTF-8">'
         f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
         '<meta name="referrer" content="no-referrer"><title>原网页副本（已去除脚本和外部资源）</title>'
         '<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}'
         'td,th{border:1px solid #999;padding:2px 6px}.giodq-copy{color:#555;border-bottom:1px solid #ccc}</style>'
         '</head><body><p class="giodq-copy">此为原网页的文字和表格副本，已去除脚本、样式、图片和链接；'
         '以报告单位发布的原网页为准。</p>\n{body}\n</body></html>')
_SUFFIX = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt"}
DOWNLOADS = {"pdf", "docx"}
LINK_LABEL = {"pdf": "下载原文件（PDF）", "docx": "下载原文件（Word）", "html": "查看原网页副本（已去除脚本）",
              "text": "查看原文本"}


def report_id(report: str) -> str:
    """A file-system- and URL-safe name for a report's page (report keys can hold anything)."""
    return hashlib.sha1(report.encode("utf-8")).hexdigest()[:16]


def copy_name(report: str, media: str | None) -> str:
    """Where a report's source is copied in the site: sources/<id><suffix of what it is>."""
    return report_id(report) + _SUFFIX.get(media or "", ".bin")


def site_copy(data: bytes, media: str | None) -> bytes:
    """The bytes of the site's copy of a source (see the module's docstring)."""
    if media == "html":
        body = nh3.clean(decode(data, "html"), tags=_TAGS, attributes=_ATTRIBUTES, strip_comments=True,
                         url_schemes=set())
        return _PAGE.replace("{body}", body).encode("utf-8")
    if media == "text":
        return "\ufeff".encode() + decode(data, "text").encode("utf-8")   # the BOM tells a browser it is UTF-8
    return data


def is_download(media: str | None) -> bool:
    return media not in ("html", "text")


def is_download_name(name: str) -> bool:
    """Whether a copy in sources/ (by its name) is offered as a download."""
    return not name.endswith((".html", ".txt"))
