"""Fuzz: a few hundred hostile file names and bodies through ONE run, and report text stays data.

Every report file is untrusted input. The corpus below (random.Random(SEED), so every run builds
the same files) puts each payload of PAYLOADS -- Jinja expressions and statements, GX's
``$param`` string templates, Python format strings, HTML/JS, control characters, very long
segments, CJK extension characters, path-like segments -- into

- a file name (some in hostile sub-folders),
- the 发布机构 field and the title line of a copy of a real sample (``body``/``title`` on pages),
- the sentence of seed 004 that its narrative.count finding quotes (the number kept, so that the
  finding fires) and a table cell of seed 004 (a value.type finding showing the raw text),
- HTML reports (the payload escaped as text, and raw markup for the source copy's sanitiser),
- bodies that are just payload text, and a few files that are no report at all.

Each placement gets its own marker ``ZQX<n>-`` right before the payload, and every script payload
sets ``window.__pwned=<n>``, so whatever goes wrong names the payload and where it was put. Then:

- every input is accounted for (one row in reports.parquet, run.json's inputs);
- nothing was evaluated (``ZQX<n>-49`` for ``ZQX<n>-{{ 7*7 }}``, ``uid=`` from ``id``, a canary
  file that an evaluated ``os.popen`` would create);
- no HTML file of the site (index, report pages, GX's pages, source copies) holds an element,
  attribute or comment the payloads could have injected;
- what a page shows after each marker is the text as written (no evaluation, no substitution,
  no double escaping), and the index and report pages show the file names, bodies, titles,
  sentences and raw cells the dataset holds;
- in headless Chromium, no payload runs (``window.__pwned`` stays undefined, no dialog) and no
  page makes a request outside the site.
"""
from __future__ import annotations

import html
import json
import os
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree
from lxml import html as lxml_html

from conftest import SAMPLES
from giodq.pipeline import run
from giodq.publish.sources import report_id

SEED = 11
SEED_004 = "004_47717d3cd7e0ea5b.txt"
SENTENCE_004 = "收到申请公开政府信息 2 件"        # yields a narrative.count finding quoting its sentence
CELL_004 = "规章\t0\t0\t0"                        # a table row: its last number becomes a payload

# Each payload is a format of {n}: the marker's number, the value a script payload would give
# window.__pwned (an evaluated payload then names itself). {canary}: a folder an evaluated
# os.popen would write into.
PAYLOADS = [
    # Jinja: expressions, statements, comments, unbalanced
    "{{{{ 7*7 }}}}", "{{{{7*7}}}}", "{{%- set x = 7*7 -%}}{{{{ x }}}}", "{{% raw %}}", "{{% endraw %}}{{{{ 7*7 }}}}",
    "{{# comment", "{{%", "{{{{", "}}}}{{{{ 7*7", "{{{{ 7*'7' }}}}",
    "{{{{ cycler.__init__.__globals__.os.popen('id').read() }}}}",
    "{{{{ lipsum.__globals__['os'].popen('id').read() }}}}",
    "{{{{ self.__init__.__globals__.__builtins__.__import__('os').popen('touch {canary}/jinja-{n}').read() }}}}",
    "{{{{ '<script>window.__pwned={n}</script>'|safe }}}}",
    "{{% include 'page.j2' %}}", "{{% extends 'x.html' %}}", "{{% for i in range(7) %}}Z{{% endfor %}}",
    # GX's renderer string templates ($param), and others' ($, #, <%)
    "$PARAMETER", "$column", "$$", "${{x}}", "$value_set $min_value $max_value $mostly_pct",
    "$column_list$row_condition$", "${{7*7}}", "#{{7*7}}", "<%= 7*7 %>",
    # Python format strings and printf
    "{{0}}", "{{where}}", "{{observed!r:>10}}", "{{expected.__class__.__mro__}}", "%s%d%(x)s%%",
    # HTML / JS
    "<script>window.__pwned={n}</script>",
    "<img src=x onerror=window.__pwned={n}>",
    "<img src=x onerror=\"alert(window.__pwned={n})\">",
    "<svg onload=window.__pwned={n}>",
    "<svg><script>window.__pwned={n}</script></svg>",
    "</textarea><script>window.__pwned={n}</script>",
    "</title><script>window.__pwned={n}</script>",
    "</script><script>window.__pwned={n}</script>",
    "<!--", "--><script>window.__pwned={n}</script><!--",
    "]]><script>window.__pwned={n}</script>", "<![CDATA[x]]>",
    "\" onmouseover=\"window.__pwned={n}\" x=\"", "' onmouseover='window.__pwned={n}' x='",
    "\"><img src=x onerror=window.__pwned={n}>",
    "<a href=\"javascript:window.__pwned={n}\">x</a>",
    "<iframe srcdoc=\"&lt;script&gt;parent.__pwned={n}&lt;/script&gt;\"></iframe>",
    "<details open ontoggle=window.__pwned={n}>",
    "<input autofocus onfocus=window.__pwned={n}>",
    "<object data=\"javascript:window.__pwned={n}\"></object>",
    "<img src=\"http://zqx.invalid/{n}.png\">",
    "<style>@import 'http://zqx.invalid/{n}.css';</style>",
    "<base href=\"http://zqx.invalid/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=http://zqx.invalid/{n}\">",
    "<zqx-tag data-n={n}>x</zqx-tag>",
    "<scr<script>ipt>window.__pwned={n}</script>",
    "&lt;script&gt;window.__pwned={n}&lt;/script&gt;", "&amp;lt;b&amp;gt;", "&#60;&#x3c;",
    "`${{window.__pwned={n}}}`", "javascript:window.__pwned={n}", "\\u003cscript\\u003e",
    # control and layout characters
    "\x1b[31mred\x1b[0m", "\u202eRTL\u202dtxt.exe", "a\u2028b\u2029c", "\x00nul\x00x", "\x07\x08\x0b\x0c\x7f\x85",
    "\ufeff\u200b\u200dzw\u00ad", "e\u0301\u0327\u20dd",
    # long segments, CJK extensions, path-like and shell-like
    "A" * 3000, "长" * 1500, "<b>" * 400, "𠀀𠀁𪜀𫝀𫠠𬺰𰀀\U00031350\U0002EBF0",
    "../../../etc/passwd", "..\\..\\windows", "%2e%2e%2f%00", "'; DROP TABLE reports; --", "$(id)`id`",
]

# names that look like paths or options, with spaces and URL characters: no payload marker needed
PATH_NAMES = [
    "a..b.txt", "..a.txt", "....", "... .txt", "..txt", " leading space.txt", "trailing space.txt ",
    "with  two  spaces.txt", "-rf.txt", "--help", "-", "#frag#.txt", "q?x=1&y=2.txt", "%2e%2e%2fetc.txt",
    "%00.txt", "a%2Fb.txt", "CON", "nul.txt", "index.html", "run.json", "a\\b.txt", "~", "$HOME.txt",
    "`id`.txt", "$(id).txt", ".hidden.txt", "line\nbreak.txt", "tab\tname.txt", "cr\r.txt", "name.txt.",
    "长" * 85, "𠀀" * 62 + ".txt", "\u202etxt.exe", "😀.txt", "é.txt", "e\u0301.txt", "file:..txt",
    "http:zqx.invalid.txt", " ", "\u3000", "\u200b", "<>:\"|?*.txt", "reports", "index.html#x",
]
FOLDERS = ["sub", "a b/c d", "..a", "...", "-dash", "深/层/目/录", ".hidden", "%2e%2e", "#x?y", "{{ 7*7 }}",
           "<script>", "$column", "{where}"]

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
SENTENCE_ENDS = "。；;！？!?"
MARK = re.compile(r"ZQX(\d+)-")


@dataclass
class Placement:
    marker: str        # ZQX<n>
    key: str           # the input file (its path relative to SOURCE)
    where: str         # name, field, title, sentence, cell, html-text, html-raw, raw
    text: str          # from the marker on, as written in the input
    payload: str


class Corpus:
    def __init__(self, canary: Path) -> None:
        self.rng = random.Random(SEED)
        self.canary = canary
        self.n = 0
        self.files: dict[str, bytes] = {}
        self.placements: dict[str, Placement] = {}
        self.samples = {p.name: p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))}

    def payload(self, i: int, n: int) -> str:
        return PAYLOADS[i].format(n=n, canary=self.canary)

    def mark(self, key: str, where: str, i: int) -> str:
        """The next marker with payload i, placed at ``where`` of ``key``: the text to put there."""
        self.n += 1
        p = self.payload(i, self.n)
        marker = f"ZQX{self.n}"
        self.placements[marker] = Placement(marker, key, where, f"{marker}-{p}", p)
        return f"{marker}-{p}"

    def add(self, key: str, data: bytes | str) -> None:
        assert key not in self.files, key
        self.files[key] = data.encode("utf-8") if isinstance(data, str) else data

    # ---- names
    def name(self, i: int, folder: str | None = None) -> str:
        """A file name holding payload i (made valid on Linux: no '/', no NUL, at most 255 bytes)."""
        self.n += 1
        marker = f"ZQX{self.n}"
        p = self.payload(i, self.n).replace("/", "\u2215").replace("\0", "")
        base = f"{marker}-{p}"
        while len((base + ".txt").encode()) > 255:
            base = base[:-1]
        name = base + self.rng.choice([".txt", ".txt", ".html", ".md", ""])
        key = f"{folder}/{name}" if folder else name
        self.placements[marker] = Placement(marker, key, "name", key[key.index(marker):], p)
        return key

    # ---- bodies
    def with_field(self, text: str, key: str, i: int) -> str:
        return f"发布机构\t{self.mark(key, 'field', i)}\n" + text

    def with_title(self, text: str, key: str, i: int) -> str:
        lines = text.split("\n")
        for j, line in enumerate(lines[:30]):
            if "信息公开" in line and re.search("年度报告|年报", line) and len(line) <= 80:
                lines[j] = f"{self.mark(key, 'title', i)} {line.strip()}"
                return "\n".join(lines)
        return f"{self.mark(key, 'title', i)} 某某镇人民政府2024年政府信息公开工作年度报告\n" + text

    def with_sentence_and_cell(self, text: str, key: str, i: int, j: int, before: str = "") -> str:
        assert SENTENCE_004 in text and CELL_004 in text
        text = text.replace(SENTENCE_004, SENTENCE_004 + self.mark(key, "sentence", i), 1)
        return text.replace(CELL_004, CELL_004[:-1] + before + self.mark(key, "cell", j), 1)

    def as_html(self, text: str, key: str, i: int) -> str:
        """A text report as an HTML page, every line escaped (its payloads are text), the title of
        the page holding payload i, and payload i as raw markup too (for the source copy)."""
        out = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>",
               html.escape(
                   f"{self.mark(key, 'html-text', i)} 湛河区轻工路街道办事处2024年政府信息公开工作年度报告"),
               "</title></head><body>"]
        table = False
        for line in text.split("\n"):
            if "\t" in line:
                if not table:
                    out.append("<table>")
                    table = True
                out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in line.split("\t")) + "</tr>")
                continue
            if table:
                out.append("</table>")
                table = False
            if line.strip():
                out.append(f"<p>{html.escape(line)}</p>")
        # the markup last, so that what it opens (a comment, a script) swallows no report text
        out.append(("</table>" if table else "") + f"<div>{self.mark(key, 'html-raw', i)}</div></body></html>")
        return "".join(out)

    def other(self) -> int:
        """A payload for a second placement in a file: one that leaves the file readable text."""
        while True:
            i = self.rng.randrange(len(PAYLOADS))
            if "\0" not in PAYLOADS[i]:
                return i

    def build(self) -> None:
        seed004 = self.samples[SEED_004]
        names = list(self.samples)
        # first (the lowest markers, the first keys): GX's pages list the first unexpected values
        # only, by value or by report, so these are the ones GX shows of the sentences and cells
        for j, text in enumerate(["&lt;script&gt;window.__pwned={n}&lt;/script&gt;", "&amp;lt;b&amp;gt;", "&#60;&#x3c;",
                                  "<script>window.__pwned={n}</script>", "\" onmouseover=\"window.__pwned={n}\" x=\"",
                                  "{{{{ 7*7 }}}}"]):
            key = f"!s004/!{j}.txt"
            i = PAYLOADS.index(text)
            self.add(key, self.with_sentence_and_cell(seed004, key, i, i, before="!"))   # "!": sorted first
        # the order of seed 004's copies: GX's pages show the first unexpected rows only, so the
        # first ones alternate a payload that HTML escaping changes (&, <, quotes) with another
        escaped = [i for i, p in enumerate(PAYLOADS) if re.search("[&<>\"']", p)]
        others = [i for i in range(len(PAYLOADS)) if i not in escaped]
        self.rng.shuffle(escaped)
        self.rng.shuffle(others)
        ranked = sorted([(2 * r, i) for r, i in enumerate(escaped)] + [(2 * r + 1, i) for r, i in enumerate(others)])
        order = {i: rank for rank, (_, i) in enumerate(ranked)}
        for i in range(len(PAYLOADS)):
            # 1. the payload in a file name (a third of them in a hostile folder), and in the
            #    发布机构 field and the title of a copy of a sample
            folder = self.rng.choice(FOLDERS) if i % 3 == 0 else None
            key = self.name(i, folder)
            text = self.samples[self.rng.choice(names)]
            self.add(key, self.with_title(self.with_field(text, key, i), key, self.other()))
            # 2. seed 004 with it in the sentence its finding quotes and in a table cell
            key = f"!s004/{order[i]:03d}.txt"
            self.add(key, self.with_title(self.with_sentence_and_cell(seed004, key, i, i), key, self.other()))
            # 3. every other: a body that is just the payload
            if i % 2 == 0:
                key = f"raw/{i:03d}{self.rng.choice(['.txt', '.html', '', '.pdf'])}"
                self.add(key, "\n".join(self.mark(key, "raw", i) for _ in range(self.rng.randint(1, 3))))
            # 4. every fourth: an HTML report holding it as text and as markup
            if i % 4 == 0:
                key = f"html/{i:03d}.{self.rng.choice(['html', 'htm', 'txt'])}"
                body = self.with_sentence_and_cell(self.with_field(seed004, key, i), key, i, self.other())
                self.add(key, self.as_html(body, key, i))
        # names that look like paths or options, holding copies of the samples
        for j, name in enumerate(PATH_NAMES):
            folder = FOLDERS[j % len(FOLDERS)] if j % 2 else None
            self.add(f"{folder}/{name}" if folder else name, self.samples[names[j % len(names)]])
        # the same hostile bytes under hostile names: the index's and report pages' duplicate lists
        dup = self.samples["000_11add77ccab5606b.txt"]
        key = self.name(PAYLOADS.index("<img src=x onerror=window.__pwned={n}>"), "dup")
        dup = self.with_field(dup, key, PAYLOADS.index("<script>window.__pwned={n}</script>"))
        self.add(key, dup)
        self.add(self.name(PAYLOADS.index("{{{{ 7*7 }}}}"), "dup"), dup)
        self.add(self.name(PAYLOADS.index("\" onmouseover=\"window.__pwned={n}\" x=\""), "dup"), dup)
        # no reports at all, their bytes hostile: each a failed input with a reason
        p = self.mark("bad/zqx.pdf", "raw", PAYLOADS.index("<script>window.__pwned={n}</script>"))
        self.add("bad/zqx.pdf", b"%PDF-1.7\n" + p.encode() + b"\n%%EOF")
        p = self.mark("bad/zqx.docx", "raw", PAYLOADS.index("{{{{ 7*7 }}}}"))
        self.add("bad/zqx.docx", b"PK\x03\x04word/" + p.encode())
        p = self.mark("bad/zqx.png", "raw", PAYLOADS.index("<img src=x onerror=window.__pwned={n}>"))
        self.add("bad/zqx.png", b"\x89PNG\r\n\x1a\n" + p.encode())
        self.add("bad/empty.txt", b"")
        self.add("bad/blank.txt", b" \n\t\r\n")
        key = "bad/nul.txt"
        nul = self.mark(key, "sentence", PAYLOADS.index("\x00nul\x00x"))
        self.add(key, seed004.replace(SENTENCE_004, SENTENCE_004 + nul))
        # other encodings of a hostile seed 004
        for enc in ("utf-16", "gb18030", "utf-8-sig"):
            key = f"enc/{enc}.txt"
            self.add(key, self.with_field(seed004, key, PAYLOADS.index("<svg onload=window.__pwned={n}>")).encode(enc))
        key = "enc/broken-utf8.txt"
        self.add(key, self.with_field(seed004, key, PAYLOADS.index("$column")).encode() + b"\xed\xa0\x80\xff")
        key = "long/one-line.txt"
        self.add(key, self.mark(key, "raw", PAYLOADS.index("{{{{ 7*7 }}}}")) + "政府信息公开" * 20000)

    def write(self, root: Path) -> None:
        for key, data in self.files.items():
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


# ------------------------------------------------------------------------ text comparison

def norm(s: str) -> str:
    """Text as compared: NFKC, without whitespace, control and format characters (extraction
    collapses whitespace and pages wrap lines; how a control character shows is no concern here)."""
    s = unicodedata.normalize("NFKC", s)
    return "".join(ch for ch in s if not (ch.isspace() or ch == "|" or unicodedata.category(ch)[0] in "CZ"))


def cut(p: Placement) -> str:
    """The text of a placement as extraction may keep it: a line (a cell) at most, a sentence at
    most for sentences and for a body that is only payload text."""
    stops = {"name": "", "field": LINE_BREAKS + "\t", "title": LINE_BREAKS + "\t", "cell": LINE_BREAKS + "\t",
             }.get(p.where, LINE_BREAKS + "\t|" + SENTENCE_ENDS)
    text = p.text
    for i, ch in enumerate(text):
        if ch in stops:
            return text[:i]
    return text


def line(p: Placement) -> str:
    """The placement's text up to the end of its line."""
    return re.split(f"[{LINE_BREAKS}]", p.text, maxsplit=1)[0]


COMPARED = 40   # characters after the marker compared (long payloads are long)


def mismatches(text: str, placements: dict[str, Placement], where: str) -> list[str]:
    """Each occurrence of a marker in ``text`` whose following text is not what the input wrote."""
    out = []
    t = norm(text)
    for m in MARK.finditer(t):
        p = placements.get(f"ZQX{m.group(1)}")
        if p is None or p.where in ("html-raw",):   # a sanitised or parsed page: its text is not the payload's
            continue
        want = norm(cut(p))[:COMPARED]
        got = t[m.start(): m.start() + len(want)]
        if got != want:
            out.append(f"{where}: {p.marker} ({p.where} of {p.key!r}, payload {p.payload[:60]!r}): "
                       f"shows {t[m.start(): m.start() + len(want) + 20]!r}, wrote {want!r}")
    return out


# ------------------------------------------------------------------------ the run

@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
    canary = tmp_path_factory.mktemp("canary")
    corpus = Corpus(canary)
    corpus.build()
    src = tmp_path_factory.mktemp("src")
    corpus.write(src)
    out = tmp_path_factory.mktemp("out")
    record = run(str(src), out)
    return corpus, src, out, record


# ------------------------------------------------------------------------ reading OUT

def html_files(out: Path) -> list[Path]:
    site = out / "data_docs"
    return sorted(p for p in site.rglob("*") if p.suffix in (".html", ".htm") and p.is_file())


def kind(site: Path, page: Path) -> str:
    part = page.relative_to(site).parts[0]
    return {"index.html": "index", "reports": "report page", "validations": "GX validation page",
            "expectations": "GX suite page", "sources": "source copy"}.get(part, part)


def parse(page: Path):
    return lxml_html.document_fromstring(page.read_bytes(), parser=lxml_html.HTMLParser(encoding="utf-8"))


def page_text(doc) -> str:
    """The text a reader sees (scripts, styles and comments left out), title included."""
    parts: list[str] = []

    def walk(el) -> None:
        if not isinstance(el.tag, str) or el.tag.lower() in ("script", "style", "template"):
            return
        if el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
    walk(doc)
    return "".join(parts)


_URL_ATTRS = {"href", "src", "action", "formaction", "data", "srcdoc", "content", "background", "poster",
              "xlink:href", "srcset", "ping", "manifest", "codebase", "cite"}


# elements no page of giodq's or GX's has, and the payloads bring (a source copy keeps b and details:
# nh3 allows them, without their attributes)
_PAYLOAD_TAGS = {"iframe", "frame", "frameset", "object", "embed", "svg", "math", "base", "textarea", "form",
                 "video", "audio", "marquee", "applet", "b", "details"}
_NEVER_IN_COPIES = {"script", "img", "input", "link", "iframe", "object", "embed", "svg", "math", "base", "form"}


def injected(doc, copy: bool = False) -> list[str]:
    """Elements, attributes and comments only a payload could have made (``copy``: a source copy,
    which may hold the report's own harmless markup)."""
    found = []
    for el in doc.iter():
        if el.tag is etree.Comment:
            if re.search(r"zqx|__pwned", el.text or "", re.IGNORECASE):
                found.append(f"comment holding a payload: {(el.text or '')[:80]!r}")
            continue
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if "zqx" in tag or tag in (_NEVER_IN_COPIES if copy else _PAYLOAD_TAGS):
            found.append(f"element <{tag}> {etree.tostring(el, encoding='unicode')[:80]!r}")
        if tag == "img" and el.get("src", "").strip() in ("x", ""):
            found.append(f"element <img src={el.get('src')!r}>")
        if tag == "meta" and el.get("http-equiv", "").lower() == "refresh":
            found.append(f"<meta http-equiv=refresh content={el.get('content')!r}>")
        if tag in ("script", "style") and re.search(r"zqx|__pwned", el.text or "", re.IGNORECASE):
            found.append(f"<{tag}> holding a payload: {(el.text or '')[:80]!r}")
        for name, value in el.attrib.items():
            n = name.lower()
            if re.search(r"zqx|__pwned", n, re.IGNORECASE):
                found.append(f"attribute {name!r} on <{tag}>")
            elif n.startswith("on") and re.search(r"zqx|__pwned|alert", value, re.IGNORECASE):
                found.append(f"handler {name}={value[:80]!r} on <{tag}>")
            elif n in _URL_ATTRS and (re.search(r"zqx|__pwned", value, re.IGNORECASE)
                                      or value.strip().lower().startswith(("javascript:", "data:", "vbscript:"))):
                found.append(f"{name}={value[:80]!r} on <{tag}>")
    return found


def text_files(out: Path):
    """Every file OUT holds (links not followed: each release is walked once), with its bytes."""
    for folder, _, names in os.walk(out):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path, path.read_bytes()


@pytest.fixture(scope="module")
def dataset(fuzz):
    _, _, out, _ = fuzz
    return {name: pd.read_parquet(out / "dataset" / f"{name}.parquet") for name in ("reports", "cells", "findings")}


@pytest.fixture(scope="module")
def pages(fuzz):
    """Every HTML file of the site: path -> (kind, parsed document, text)."""
    _, _, out, _ = fuzz
    site = out / "data_docs"
    parsed = {}
    for p in html_files(out):
        doc = parse(p)
        parsed[p] = (kind(site, p), doc, page_text(doc))
    return parsed


# ------------------------------------------------------------------------ tests

def test_the_corpus_is_hostile_enough(fuzz):
    corpus, src, _, _ = fuzz
    assert 250 <= len(corpus.files) <= 330
    assert len({p.payload for p in corpus.placements.values()}) >= len(PAYLOADS)
    wheres = {p.where for p in corpus.placements.values()}
    assert {"name", "field", "title", "sentence", "cell", "html-text", "html-raw", "raw"} <= wheres
    for key in corpus.files:   # valid on Linux, and written as such
        assert "\0" not in key and all(len(part.encode()) <= 255 for part in key.split("/"))
        assert (src / key).is_file()


def test_every_input_is_accounted_for(fuzz, dataset):
    corpus, src, out, record = fuzz
    reports = dataset["reports"]
    keys = [p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()]
    assert sorted(keys) == sorted(corpus.files)
    assert len(reports) == len(keys) and reports["report"].is_unique
    assert set(reports["report"]) == set(keys)
    assert set(reports["status"]) <= {"ok", "failed"}
    failed = reports[reports["status"] == "failed"]
    assert failed["error"].map(lambda e: isinstance(e, str) and e.strip() != "").all(), failed
    assert reports.loc[reports["status"] == "ok", "error"].isna().all()
    on_disk = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert on_disk["inputs"] == record["inputs"] == len(keys)
    assert on_disk["ok"] == (reports["status"] == "ok").sum()
    assert sorted(f["report"] for f in on_disk["failed"]) == sorted(failed["report"])
    assert dict(zip(failed["report"], failed["error"])) == {f["report"]: f["error"] for f in on_disk["failed"]}
    # what is no report is failed, with why; a file of seed 004 with a payload in it is still read
    status = dict(zip(reports["report"], reports["status"]))
    for key in ("bad/zqx.pdf", "bad/zqx.docx", "bad/zqx.png", "bad/empty.txt", "bad/blank.txt"):
        assert status[key] == "failed", key
    for key, data in corpus.files.items():
        if key.startswith(("!s004/", "html/")) and b"\0" not in data:
            assert status[key] == "ok", key
    # no input met a bug of giodq's ("extract: 提取失败" is an exception caught per file)
    assert not failed["error"].str.startswith("extract:").any(), failed[failed["error"].str.startswith("extract:")]


def test_findings_quote_the_payloads(fuzz, dataset):
    """The placements in seed 004 reach the findings: narrative.count quotes the sentence, value.type
    the raw cell, so the pages below show them."""
    corpus, _, _, _ = fuzz
    f = dataset["findings"]
    ok = set(dataset["reports"].query("status == 'ok'")["report"])
    missing, checked = [], Counter()
    for p in corpus.placements.values():
        if p.key not in ok or not p.key.startswith(("!s004/", "html/")):
            continue
        if p.where == "sentence" and not re.search(r"[|\t]", line(p)):   # a line with pipes is a table row
            checked[p.where] += 1
            rows = f[(f["report"] == p.key) & (f["rule"] == "narrative.count")]
            if not rows["sentence"].fillna("").str.contains(p.marker + "-", regex=False).any():
                missing.append(f"narrative.count quoting {p.marker} in {p.key}")
        if p.where == "cell" and cut(p) == p.text:
            checked[p.where] += 1
            rows = f[(f["report"] == p.key) & (f["rule"] == "value.type")]
            if not rows["observed"].fillna("").str.contains(p.marker + "-", regex=False).any():
                missing.append(f"value.type showing {p.marker} ({p.payload[:40]!r}) in {p.key}")
    assert not missing, missing
    assert checked["sentence"] >= 80 and checked["cell"] >= 80, checked


def test_nothing_is_evaluated(fuzz, dataset):
    corpus, _, out, _ = fuzz
    evaluated = re.compile(rb"ZQX\d+-(?:49|7777777|ZZZZZZZ)(?!\d)|uid=\d+\(")
    hits = []
    for path, data in text_files(out):
        for m in evaluated.finditer(data):
            hits.append(f"{path.relative_to(out)}: {data[max(0, m.start() - 40): m.end() + 40]!r}")
    assert not hits, hits[:20]
    assert list(corpus.canary.iterdir()) == []       # os.popen('touch ...') never ran
    # the dataset holds the text as written: markers followed by their payloads
    bad = []
    for name, frame in dataset.items():
        for col in frame.columns:
            for v in frame[col]:
                if isinstance(v, str) and "ZQX" in v:
                    bad += mismatches(v, corpus.placements, f"{name}.parquet[{col}]")
    assert not bad, bad[:20]


def test_no_page_has_injected_markup(fuzz, pages):
    _, _, out, _ = fuzz
    site = out / "data_docs"
    kinds = {k for k, _, _ in pages.values()}
    assert {"index", "report page", "GX validation page", "source copy"} <= kinds
    assert sum(k == "GX validation page" for k, _, _ in pages.values()) >= 10
    found = []
    for path, (k, doc, _) in pages.items():
        found += [f"{k} {path.relative_to(site)}: {what}" for what in injected(doc, copy=k == "source copy")]
    assert not found, found[:30]


def test_pages_show_the_text_as_written(fuzz, pages):
    """After every marker a page shows, the payload as the input wrote it: not evaluated, not
    substituted, escaped once (``&lt;`` shown as ``<``, never as ``&lt;``)."""
    corpus, _, out, _ = fuzz
    site = out / "data_docs"
    bad, seen = [], Counter()
    for path, (k, _, text) in pages.items():
        if k == "source copy":   # a sanitised copy: its text is the page's, parsed
            continue
        bad += mismatches(text, corpus.placements, f"{k} {path.relative_to(site)}")
        seen.update((k, corpus.placements[f"ZQX{n}"].where) for n in MARK.findall(norm(text)))
    assert not bad, f"{len(bad)} mismatches, e.g.:\n" + "\n".join(bad[:40])
    # and the pages did show the payloads: names, fields, titles, sentences and cells, on GX's pages too
    for k, where in [("index", "name"), ("index", "field"), ("report page", "name"), ("report page", "field"),
                     ("report page", "title"), ("report page", "sentence"), ("report page", "cell"),
                     ("report page", "html-text"), ("GX validation page", "name"),
                     ("GX validation page", "sentence"), ("GX validation page", "cell")]:
        assert seen[(k, where)] >= 5, (k, where, seen)


def test_index_and_report_pages_show_what_the_dataset_holds(fuzz, dataset, pages):
    corpus, _, out, _ = fuzz
    site = out / "data_docs"
    reports, findings, cells = dataset["reports"], dataset["findings"], dataset["cells"]
    index = norm(pages[site / "index.html"][2])
    missing = []
    if norm(f"本次共读取 {len(corpus.files)} 个文件") not in index:
        missing.append("index: the count of files read")
    # every link of the index and the report pages leads to a page or file of the site
    for path, (k, doc, text) in pages.items():
        if k not in ("index", "report page"):
            continue
        if "本页未能生成" in text:
            missing.append(f"{path.relative_to(site)} is an error page: {text[-300:]!r}")
        for href in doc.xpath("//a/@href | //link/@href | //script/@src"):
            target = href.split("#")[0]
            external = re.match(r"^[a-z][a-z0-9+.-]*:", target)
            if target and not external and not (path.parent / target).resolve().is_file():
                missing.append(f"{path.relative_to(site)}: link to {href!r} leads nowhere")
    for r in reports.itertuples():
        if norm(r.report) not in index:
            missing.append(f"index: file name {r.report!r}")
        if r.status != "ok":
            if norm(r.error) not in index:
                missing.append(f"index: the error of {r.report!r}")
            continue
        if isinstance(r.body, str) and norm(r.body) not in index:
            missing.append(f"index: the body of {r.report!r}: {r.body[:60]!r}")
        page = site / "reports" / f"{report_id(r.report)}.html"
        if page not in pages:
            missing.append(f"no report page for {r.report!r}")
            continue
        text = norm(pages[page][2])
        shown = [("file name", r.report), ("body", r.body), ("title", r.title)]
        shown += [("sentence", s) for s in findings.loc[findings["report"] == r.report, "sentence"]]
        shown += [("observed", s) for s in findings.loc[findings["report"] == r.report, "observed"]]
        shown += [("raw cell", s) for s in cells.loc[(cells["report"] == r.report)
                                                     & cells["raw"].fillna("").str.contains("ZQX"), "raw"]]
        for what, value in shown:
            if isinstance(value, str) and value and norm(value) not in text:
                missing.append(f"report page of {r.report!r}: {what} {value[:60]!r}")
    assert not missing, missing[:30]


def _browser_sample(fuzz, pages) -> list[Path]:
    corpus, _, out, _ = fuzz
    site = out / "data_docs"
    html_like = re.compile(r"<|\"|'|javascript|\$\{")
    hostile_keys = sorted({p.key for p in corpus.placements.values()
                           if p.where in ("name", "title", "field", "sentence", "cell")
                           and html_like.search(p.payload)})
    picks = (random.Random(SEED).sample(hostile_keys, 8) + [k for k in corpus.files if k.startswith("html/")][:3]
             + [k for k in corpus.files if k.startswith(("dup/", "!s004/!"))][:3])
    reports = [site / "reports" / f"{report_id(k)}.html" for k in picks]
    reports = [p for p in reports if p in pages]
    gx = sorted(p for p, (k, _, _) in pages.items() if k == "GX validation page")
    copies = sorted(p for p, (k, _, _) in pages.items() if k == "source copy")[:3]
    return [site / "index.html"] + reports + gx + copies


def test_no_payload_runs_in_chromium(fuzz, pages, page):
    corpus, _, out, _ = fuzz
    site = out / "data_docs"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    reports = pd.read_parquet(out / "dataset" / "reports.parquet")
    failed = set(reports.loc[reports["status"] != "ok", "report"])
    sample = _browser_sample(fuzz, pages)
    assert len(sample) >= 20
    ran, misshown = [], []
    for path in sample:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        # handlers a payload may have added: give them their events
        page.evaluate("""() => { for (const el of document.querySelectorAll('body *')) {
            for (const t of ['mouseover', 'mouseenter', 'focus']) {
              el.dispatchEvent(new Event(t, {bubbles: false})); } } }""")
        page.wait_for_timeout(150)
        pwned = page.evaluate("typeof window.__pwned === 'undefined' ? null : String(window.__pwned)")
        if pwned is not None:
            p = corpus.placements.get(f"ZQX{pwned}")
            ran.append(f"{path.relative_to(site)}: window.__pwned={pwned} ({p})")
        if path.name == "index.html":   # bootstrap-table draws the list again when it is sorted
            page.locator("#giodq-report-list thead th .sortable").first.click()
            page.wait_for_timeout(150)
            page.locator("#giodq-report-list thead th .sortable").nth(1).click()
            page.wait_for_timeout(150)
            assert page.locator("#giodq-report-list tbody tr").count() == len(
                [k for k in corpus.files if k not in failed])
        if kind(site, path) in ("index", "report page"):   # what bootstrap-table and the browser show
            misshown += mismatches(page.inner_text("body"), corpus.placements,
                                   f"chromium {path.relative_to(site)}")
        assert page.url == path.as_uri(), f"{path}: navigated to {page.url}"
    assert not ran, ran
    assert dialogs == []
    assert page.outside == []
    assert not misshown, misshown[:20]
    assert not errors, errors[:10]   # no script of the site broke on what it shows


def test_a_file_name_not_in_utf8_is_accounted_for(tmp_path):
    """A name Linux allows but that is no UTF-8 (GBK bytes: a Windows archive unpacked here, very
    common for Chinese reports): the run goes on, and the file has its row, read or failed with why.
    Its own small run: if it breaks the run, it breaks only this test."""
    src = tmp_path / "src"
    src.mkdir()
    seed = (SAMPLES / SEED_004).read_bytes()
    (src / "ok.txt").write_bytes(seed)
    gbk = "湛河区年度报告.txt".encode("gb18030")        # b'\xd5\xbf\xba\xd3...'
    with open(os.path.join(os.fsencode(src), gbk), "wb") as f:
        f.write(seed)
    assert len(os.listdir(src)) == 2
    out = tmp_path / "out"
    record = run(str(src), out)
    reports = pd.read_parquet(out / "dataset" / "reports.parquet")
    assert record["inputs"] == len(reports) == 2
    other = reports[reports["report"] != "ok.txt"].iloc[0]
    assert other["status"] == "ok" or (other["status"] == "failed" and other["error"])
    assert (out / "data_docs" / "index.html").is_file()
