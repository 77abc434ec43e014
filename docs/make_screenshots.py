"""Screenshots of the reviewer site for the README: the index and seed 004's report page.

    uv run python docs/make_screenshots.py

Runs the pipeline on samples/ (without Prefect) into a temporary folder and photographs
the site in Debian's headless Chromium. CJK glyphs need a CJK font (fonts-noto-cjk).
"""
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from giodq.pipeline import run
from giodq.publish.review import report_id

ROOT = Path(__file__).resolve().parents[1]

with tempfile.TemporaryDirectory() as tmp:
    run(str(ROOT / "samples"), tmp)
    site = Path(tmp) / "data_docs"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1300, "height": 760})
        page.goto((site / "index.html").as_uri())
        page.screenshot(path=str(ROOT / "docs" / "index.png"))
        page.goto((site / "reports" / f"{report_id('004_47717d3cd7e0ea5b.txt')}.html").as_uri())
        page.screenshot(path=str(ROOT / "docs" / "report.png"))
        browser.close()
print("wrote docs/index.png, docs/report.png")
