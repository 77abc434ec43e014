"""The reviewers' site works on an intranet: no page, GX's included, makes a request that leaves
the machine (CSS url(), inline styles, fonts, favicons, scripts), and GX's chrome is replaced by
giodq's (name and title in the header, no newsletter, runs named by kind and date, Chinese labels).
Built from the samples and the real reports of ../shared/corpus."""
import shutil

import pytest

from conftest import FIXTURES, ROOT, SAMPLES
from giodq.pipeline import run

CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for p in SAMPLES.iterdir():
        shutil.copy(p, src / p.name)
    corpus = CORPUS if CORPUS.is_dir() else FIXTURES   # the fixtures hold copies of most of the corpus
    for p in corpus.iterdir():
        if p.suffix in (".txt", ".md", ".html", ".pdf", ".docx") and p.name != "README.md":
            shutil.copy(p, src / f"corpus-{p.name}")
    out = tmp_path_factory.mktemp("out")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GIODQ_SITE_TITLE", "某某区政务公开办")
        run(str(src), out)
    return out / "data_docs"


def test_no_page_makes_a_request_off_the_machine(site, page):
    pages = sorted(site.rglob("*.html"))
    kinds = {p.relative_to(site).parts[0] for p in pages}
    assert {"index.html", "reports", "validations", "expectations", "sources"} <= kinds
    assert len(pages) > 40
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    for p in pages:
        page.goto(p.as_uri())
        page.wait_for_load_state("load")
    assert len(requests) > len(pages)          # their scripts, styles and images were loaded, from the folder
    assert page.outside == []                  # and nothing else: every request is file://
    assert all(u.startswith("file://") for u in requests)


def test_gx_pages_carry_giodq_not_gx(site, page):
    validation = next((site / "validations" / "claims").rglob("*.html"))
    assert validation.parts[-3].startswith("全区检查-")          # the run's kind and date, not __none__
    for p in (site / "index.html", validation):
        page.goto(p.as_uri())
        text = page.locator("body").inner_text()
        assert "giodq" in page.locator(".giodq-brand").inner_text()
        assert "某某区政务公开办" in page.locator(".giodq-brand").inner_text()
        assert "Subscribe" not in text and "newsletter" not in page.content()
        assert page.locator("img[alt='Great Expectations']").count() == 0
    page.goto(validation.as_uri())
    text = page.locator("body").inner_text()
    assert "概览" in text and "通过率" in text and "目录" in text and "只看未通过" in text
    assert "Overview" not in text and "Table of Contents" not in text
