"""The reviewers' site: GX Data Docs for the run, with giodq's report pages next to it.

GX builds the site (its validation result pages, the expectations' Chinese descriptions,
its site builder) from this run's results; giodq's views (publish/views, loaded by GX as
custom views) make its pages load local copies of their scripts and styles and link to
the report list, which GX's index page includes. The report pages (review.py) are
written into the same site and link back to GX's validation pages.

The site is built inside the run's release, which becomes current as a whole (publish/store.py),
so a reader never sees half a site.
"""
from __future__ import annotations

import html
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
from great_expectations.core.expectation_validation_result import (
    expectationSuiteValidationResultSchema,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from giodq import memory, progress
from giodq.categorical import codes_and_strings, objects
from giodq.ingest import open_source, read_many
from giodq.publish import crops, dashboard, review, sources
from giodq.publish.store import KEPT_ON_RERUN
from giodq.settings import settings
from giodq.validate.rules import RULES
from giodq.validate.run import ephemeral_context
from giodq.validate.spool import CellSpool, cell_parts
from giodq.validate.suites import SUITE_BATCH, load_suites

SITE = "giodq"
log = logging.getLogger(__name__)
_ASSETS = files("giodq.publish") / "assets"
_VIEWS = files("giodq.publish") / "views"
_GX_CSS = files("great_expectations") / "render" / "view" / "static" / "styles" / "data_docs_default_styles.css"


def _escaped(value):
    """Report text inside a GX result (file names, sentences, raw cells), HTML-escaped: GX's page
    templates do not escape the unexpected values they show, so a report could run script there."""
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def _gx_site(results: dict[str, dict], site_dir: Path, section: Iterable[str], run_name: str,
             board: Iterable[str] = "") -> None:
    """GX's Data Docs for the results, with giodq's views, district dashboard (``board``) and report list."""
    # GX's index template includes giodq_reports_section.html as template source: it holds only a
    # marker, and the rendered (autoescaped) report list replaces the marker in GX's output, so no
    # report text or file name is ever parsed as a template.
    marker = f"<!-- giodq:reports-section:{uuid.uuid4().hex} -->"
    with tempfile.TemporaryDirectory() as plugins:
        views = Path(plugins) / "custom_data_docs" / "views"
        shutil.copytree(str(_VIEWS), views)
        (views / "giodq_reports_section.html").write_text(marker, encoding="utf-8")
        (views / "giodq_default_styles.css").write_text(offline_css(_GX_CSS.read_text(encoding="utf-8")),
                                                        encoding="utf-8")
        context = ephemeral_context()
        context.variables.plugins_directory = plugins
        context.add_data_docs_site(site_name=SITE, site_config={
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_cta_footer": False,
                                   "view": {"module_name": "giodq.publish.gx_views",
                                            "class_name": "GiodqIndexPageView"}},
            "site_section_builders": {
                section: {"view": {"module_name": "giodq.publish.gx_views", "class_name": "GiodqPageView"}}
                for section in ("expectations", "validations")},
        })
        for suite in load_suites().values():
            context.suites.add(suite)
        for name, result_json in results.items():
            shown = result_json | {"results": [r | {"result": _escaped(r.get("result") or {})}
                                               for r in result_json["results"]]}
            result = expectationSuiteValidationResultSchema.load(shown)
            run_id = RunIdentifier(run_name=run_name, run_time=result_json["meta"]["run_id"]["run_time"])
            result.meta["run_id"] = run_id
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
                run_id=run_id, batch_identifier=SUITE_BATCH[name])
            context.validation_results_store.set(key, result)
        context.build_data_docs(site_names=[SITE])
    _insert_reports_section(site_dir / "index.html", marker, section, board)
    for sheet in (site_dir / "static" / "styles").glob("*.css"):   # copied by GX, even if no page loads them
        _write_new(sheet, offline_css(sheet.read_text(encoding="utf-8")).encode("utf-8"))


_REMOTE_URL = re.compile(r"""url\(\s*['"]?(?:https?:)?//[^)]*\)""", re.I)


def offline_css(css: str) -> str:
    """A stylesheet with every url() that leaves the machine removed (GX's logo on its S3)."""
    return _REMOTE_URL.sub("none", css)


def run_name(record: dict) -> str:
    """The name GX's pages give a run: its kind and date (and a rerun's report, made safe for the
    path GX files the results under)."""
    date = str(record.get("started", ""))[:10]
    if record.get("kind") == "rerun":
        return f"重新检查-{date}-" + re.sub(r"[^\w\-]+", "_", str(record.get("rerun", "")))[:40]
    if record.get("update"):   # GX's results of this run are of the re-checked reports only
        return f"更新检查-{date}-{len(record['update']['rechecked'])}份报告"
    return f"全区检查-{date}"


# The report list in the index, between these (report text is escaped: it cannot hold "<!--"), so
# that a review can redraw it without GX; the district dashboard before it, between its own
# markers, which a review's redraw leaves as drawn (the run's coverage and charts)
_SECTION = ("<!-- giodq:reports-section:start -->", "<!-- giodq:reports-section:end -->")
_DASHBOARD = ("<!-- giodq:dashboard:start -->", "<!-- giodq:dashboard:end -->")


def _insert_reports_section(index: Path, marker: str, section: Iterable[str], board: Iterable[str] = "") -> None:
    """Put the rendered dashboard and report list (``section``: its pieces, written as they come)
    where GX's index page has the marker. GX logs a page it cannot draw and goes on, so an index
    without exactly one marker fails the build here instead of publishing an empty site."""
    page = index.read_text(encoding="utf-8") if index.is_file() else ""
    if page.count(marker) != 1:
        raise RuntimeError(f"GX did not draw the site's index page ({index}; see the log above)")
    head, tail = page.split(marker)
    _write_pieces(index, [head, _DASHBOARD[0]], board, [_DASHBOARD[1], _SECTION[0]], section, [_SECTION[1], tail])


def _draw_board(file: IO[str], coverage: pd.DataFrame | None, summary: pd.DataFrame | None,
                findings: pd.DataFrame | None) -> None:
    """The district dashboard into ``file`` (a temporary file without a name) as it is drawn: a
    province's is tens of MB, and a dashboard that fails half-way is not half on the page. One that
    cannot be drawn must not cost the run its site: the file then holds why (escaped)."""
    try:
        file.writelines(dashboard.dashboard_section(coverage, summary, findings))
    except Exception as e:
        log.exception("district dashboard")
        file.seek(0)
        file.truncate()
        file.write(dashboard.error_section(f"{type(e).__name__}: {e}"))


def _pieces(file: IO[str], size: int = 1 << 20) -> Iterator[str]:
    """A text file from its start, ``size`` characters at a time."""
    file.seek(0)
    yield from iter(lambda: file.read(size), "")


def _write_pieces(path: Path, *pieces: Iterable[str]) -> None:
    """Text written a piece at a time (UTF-8, as a new inode: see _write_new), never joined into
    one string: a province's index page is tens of MB."""
    path.unlink(missing_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        for part in pieces:
            f.writelines(part)


def _section_span(page: str) -> tuple[int, int]:
    """Where the report list of an index page drawn before starts and ends, between its markers."""
    start, end = page.find(_SECTION[0]), page.rfind(_SECTION[1])
    if start < 0 or end < start:
        raise RuntimeError("the site's index page has no giodq report list to redraw (drawn by an older giodq): "
                           "run `giodq run` once")
    return start + len(_SECTION[0]), end


def _suite_pages(site_dir: Path) -> dict[str, str]:
    """Suite -> the GX validation page drawn for it in site_dir."""
    return suite_pages_from(p.relative_to(site_dir).as_posix() for p in (site_dir / "validations").rglob("*.html"))


def suite_pages_from(paths) -> dict[str, str]:
    """Suite -> its GX validation page, from the site's paths (validations/<suite>/.../<batch>.html)."""
    return {path.split("/")[1]: path for path in sorted(paths)
            if path.startswith("validations/") and path.endswith(".html") and path.count("/") >= 2}


def build_data_docs(results: dict[str, dict], site_dir: Path, reports: pd.DataFrame | None = None,
                    findings: pd.DataFrame | None = None, cells: pd.DataFrame | CellSpool | None = None,
                    source_uri: str | None = None, changed: set[str] | None = None,
                    kept_from: Path | None = None, reviews: review.Reviews | None = None,
                    run: str = "giodq", *, district: dict | None = None) -> Path:
    """The run's site in the new folder site_dir (inside a release that is not current yet: see
    publish/store.py); returns its index.html. Results are passed as JSON so that this stage needs
    nothing from the validate stage's GX context. ``changed``: only these reports' pages and sources
    are drawn (a rerun); the other reports' pages, sources and the GX pages they link to are kept
    from the site at ``kept_from`` (the current release's), if given. ``district``: the frames
    ``coverage`` and ``summary`` (dataset/coverage.parquet, summary.parquet) the index's dashboard
    is drawn from, either or both missing: the dashboard shows what there is (publish/dashboard.py)."""
    site_dir = site_dir.resolve()  # GX's filesystem store takes absolute paths only
    site_dir.mkdir(parents=True)
    reports = reports if reports is not None else pd.DataFrame(columns=["report", "status"])
    reviews = reviews or review.Reviews()
    district = district or {}
    coverage, summary = district.get("coverage"), district.get("summary")
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as board:
        _draw_board(board, coverage, summary, findings)
        _gx_site(results, site_dir, review.reports_section_parts(reports, findings, reviews.resolved), run,
                 _pieces(board))
    suite_pages = _suite_pages(site_dir)
    if set(results) - set(suite_pages):   # GX logs a page it cannot draw and goes on: no site without it
        raise RuntimeError(f"GX did not draw the results of {sorted(set(results) - set(suite_pages))} "
                           "(see the log above)")
    if changed is not None and kept_from is not None:
        # The kept pages link to the whole district's GX results: added after GX's build, which
        # would delete result pages it has no results for (for a bucket these stay there: store.upload).
        for part in KEPT_ON_RERUN:
            if (kept_from / part).is_dir():
                # hard links: thousands of kept files cost no copying; a redrawn one is unlinked first
                shutil.copytree(kept_from / part, site_dir / part, copy_function=link_or_copy, dirs_exist_ok=True)
        # a changed report's kept page and copy go: drawn again below if it reads, else gone (a
        # file that fails now has no page), and its copy may be of another type now
        for key in changed:
            name = sources.report_id(key)
            (site_dir / "reports" / f"{name}.html").unlink(missing_ok=True)
            for copy in (site_dir / "sources").glob(f"{name}.*"):
                copy.unlink()
    shutil.copytree(str(_ASSETS / "vendor"), site_dir / "static" / "vendor")
    (site_dir / "static" / "giodq").mkdir(parents=True)
    shutil.copy(str(_ASSETS / "giodq.css"), site_dir / "static" / "giodq" / "giodq.css")
    try:
        dashboard.write_charts(site_dir, coverage, summary, findings, kept_from)
    except Exception:   # a chart that cannot be drawn must not cost the run its site (its <img> shows its alt text)
        log.exception("dashboard charts")
    if changed is not None:
        reports = reports[reports["report"].isin(changed) | (reports["status"] != "ok")]
    _report_pages(site_dir, reports, findings, cells, source_uri, rule_pages(suite_pages), reviews)
    return site_dir / "index.html"


def rule_pages(suite_pages: dict[str, str]) -> dict[str, str]:
    """Rule id -> the GX validation page of its first suite."""
    return {r.id: suite_pages[r.suites[0]] for r in RULES if r.suites and r.suites[0] in suite_pages}


def redraw(site_dir: Path, index_page: str, reports: pd.DataFrame, findings: pd.DataFrame, cells: pd.DataFrame,
           changed: set[str], suite_pages: dict[str, str], reviews: review.Reviews, kept_sources: set[str]) -> None:
    """After a review: the index (``index_page``, as drawn before, its report list redrawn) and the
    pages of the ``changed`` reports, into site_dir; GX's pages, the district dashboard and its
    charts (the run's), the other reports' pages and the source copies stay as drawn. SOURCE is not
    read: a page links to the copy its release kept (``kept_sources``: the names in the site's
    sources/), which is the file its findings were read from, even if the unit has changed or
    removed it since."""
    (site_dir / "reports").mkdir(parents=True, exist_ok=True)
    start, end = _section_span(index_page)
    _write_pieces(site_dir / "index.html", [index_page[:start]],
                  review.reports_section_parts(reports, findings, reviews.resolved), [index_page[end:]])
    drawn = reports[reports["report"].isin(changed) & (reports["status"] == "ok")]
    findings_of = _rows_by_report(findings, set(drawn["report"]))
    cells_of = _rows_by_report(cells, set(drawn["report"]), ["key", "raw"])
    pages = rule_pages(suite_pages)
    reviews = reviews.for_reports(drawn)
    for report in drawn.itertuples(index=False):
        row = review.ReportRow(report._asdict())
        has_source = sources.copy_name(report.report, row.get("media")) in kept_sources
        try:
            page = review.report_page(row, findings_of(report.report), cells_of(report.report), pages, has_source,
                                      reviews)
        except Exception as e:  # one page that cannot be drawn must not cost the review its release
            log.exception("report page for %s", report.report)
            page = review.error_page(report.report, f"{type(e).__name__}: {e}")
        _write_new(site_dir / "reports" / f"{review.report_id(report.report)}.html", page.encode("utf-8"))


def link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:   # another file system, or links not allowed
        shutil.copy2(src, dst)


def _write_new(path: Path, data: bytes) -> None:
    """Write a file as a new inode, never through a hard link shared with the live site."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def _report_pages(site: Path, reports: pd.DataFrame, findings: pd.DataFrame | None, cells: pd.DataFrame | CellSpool | None,
                  source_uri: str | None, suite_pages: dict[str, str], reviews: review.Reviews) -> None:
    """One page per readable report, and a copy of its source file, so the site stands alone."""
    ok = reports[reports["status"] == "ok"]
    if ok.empty:
        return
    (site / "reports").mkdir(exist_ok=True)
    (site / "sources").mkdir(exist_ok=True)
    drawn = set(ok["report"])   # a rerun draws one page: group only its rows, not the district's
    findings_of = _rows_by_report(findings, drawn)
    reviews = reviews.for_reports(ok)
    progress.stage("审阅页面 report pages", len(ok))
    source = open_source(source_uri) if source_uri else None
    # a province's cells a part of the spool at a time (validate/spool.py): each report's are in one
    for cells_part in cell_parts(cells):
        here = drawn.intersection(_reports_in(cells_part))
        if here:
            _draw_pages(site, ok[ok["report"].isin(here)], source, findings_of, cells_part, here, suite_pages, reviews)
            drawn -= here
        del cells_part
        memory.give_back()
    if drawn:   # the readable reports without a cell
        _draw_pages(site, ok[ok["report"].isin(drawn)], source, findings_of, None, drawn, suite_pages, reviews)


def _reports_in(cells: pd.DataFrame) -> set[str]:
    values = cells["report"].array
    if not isinstance(values, pd.Categorical):
        return set(cells["report"].dropna())
    codes = np.unique(np.asarray(values.codes))
    return set(values.categories[codes[codes >= 0]])


def _draw_pages(site: Path, ok: pd.DataFrame, source, findings_of, cells: pd.DataFrame | None, drawn: set[str],
                suite_pages: dict[str, str], reviews: review.Reviews) -> None:
    cells_of = _rows_by_report(cells, drawn, ["key", "raw"])
    scans = cells is not None and "ocr_page" in cells and cells["ocr_page"].notna().any()
    ocr_of = _rows_by_report(cells[cells["ocr_page"].notna()], drawn, ["key", "ocr_page", "ocr_box"]) if scans \
        else (lambda report: [])
    rows = list(ok.itertuples(index=False))
    chunk = 4 * settings().s3_concurrency
    for start in range(0, len(rows), chunk):   # a chunk at a time: a district's PDFs do not fit in memory
        part = rows[start:start + chunk]
        copies = read_many(source, [r.report for r in part], settings().s3_concurrency) if source else {}
        for report in part:
            _report_page(site, report, copies.get(report.report), findings_of(report.report),
                         cells_of(report.report), suite_pages, reviews, ocr_of(report.report))
        progress.advance(len(part))


def _rows_by_report(frame: pd.DataFrame | None, reports: set[str], columns: list[str] | None = None):
    """report -> its rows of frame: named tuples, or with ``columns`` tuples of just those columns.
    The rows are grouped once, by position, and a report's cells become Python objects only when
    its page is drawn: a province's cells as tuples all at once take as much memory as the rest of
    the run (a sub-frame per report would cost milliseconds each, minutes for a province)."""
    if frame is None or not len(frame):
        return lambda report: []
    drawn = frame["report"].isin(reports).to_numpy(dtype=bool)
    mine = frame if drawn.all() else frame[drawn]   # a run draws every page: no copy of its cells
    if columns is None:   # whole rows (the findings: a few per report), made at once
        groups: dict[str, list] = {}
        for key, row in zip(mine["report"].to_numpy(dtype=object), mine.itertuples(index=False)):
            groups.setdefault(key, []).append(row)
        return lambda report: groups.get(report, [])
    by_report = mine["report"].array
    code, names = ((np.asarray(by_report.codes), by_report.categories) if isinstance(by_report, pd.Categorical)
                   else pd.factorize(mine["report"]))
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]]) if len(code) else np.zeros(0, dtype=np.int64)
    if len(np.unique(code[starts])) == len(starts):   # each report's rows together, as a run writes them
        order = None
        span = {names[code[a]]: (int(a), int(b)) for a, b in zip(starts, np.r_[starts[1:], len(code)])}
    else:
        order = np.argsort(code, kind="stable")
        counts = np.bincount(code, minlength=len(names))
        span = {name: (int(end) - int(n), int(end)) for name, end, n in zip(names, np.cumsum(counts), counts)}
    # a categorical (the run's keys) as its codes and one Python string per category (pandas' to_numpy
    # makes one per cell: 250 MB for a district's keys); Arrow strings (raw) taken a report at a time
    arrays = [_column(mine[c]) for c in columns]

    def rows(report: str) -> list[tuple]:
        if report not in span:
            return []
        at = np.arange(*span[report]) if order is None else order[slice(*span[report])]
        return list(zip(*(take(at) for take in arrays)))
    return rows


def _column(column: pd.Series):
    """at (positions) -> the column's values there as Python objects, without a copy of the column."""
    values = column.array
    if isinstance(values, pd.arrays.ArrowStringArray):
        arrow = pa.chunked_array(pa.array(values)).combine_chunks()
        return lambda at: arrow.take(at).to_pylist()
    if isinstance(values, pd.Categorical):
        codes, strings = codes_and_strings(column)
        return lambda at: strings[codes[at]].tolist()
    plain = objects(column)
    return lambda at: plain[at].tolist()


def _report_page(site: Path, report, data: bytes | OSError | None, findings: list, cells: list,
                 suite_pages: dict[str, str], reviews: review.Reviews, ocr_cells: list = ()) -> None:
    # a source that cannot be read: the page says so rather than linking nowhere
    has_source = isinstance(data, bytes)
    if has_source:
        try:
            copy = sources.site_copy(data, report.media)
        except Exception:   # a copy that cannot be made safe is not offered
            log.exception("source copy of %s", report.report)
            has_source = False
        else:
            _write_new(site / "sources" / sources.copy_name(report.report, report.media), copy)
    shown, stem = {}, review.report_id(report.report)
    if ocr_cells:   # a scan's page drawn before: its crops go with it (by name: no listing of the folder per page)
        for n in range(1, crops.MAX_CROPS + 1):
            (site / "reports" / "crops" / f"{stem}-{n}.png").unlink(missing_ok=True)
    if has_source and ocr_cells and findings:
        boxes = {key: (int(page), tuple(int(v) for v in box)) for key, page, box in ocr_cells}
        (site / "reports" / "crops").mkdir(exist_ok=True)
        for i, (name, png) in crops.finding_crops(data, report.media, findings, boxes, stem).items():
            _write_new(site / "reports" / "crops" / name, png)
            shown[i] = f"crops/{name}"
    try:
        html = review.report_page(review.ReportRow(report._asdict()), findings, cells, suite_pages, has_source, reviews,
                                  crops=shown)
    except Exception as e:  # one page that cannot be drawn must not cost the run its site
        log.exception("report page for %s", report.report)
        html = review.error_page(report.report, f"{type(e).__name__}: {e}")
    _write_new(site / "reports" / f"{review.report_id(report.report)}.html", html.encode("utf-8"))
