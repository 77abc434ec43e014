"""A screenshot of the Prefect UI's page of giodq's run artifact, for the README.

    uv run python docs/make_prefect_screenshot.py

Starts a Prefect server on 127.0.0.1 with a temporary home, runs the district flow on samples/
against it, and photographs the artifact's page in Debian's headless Chromium (CJK glyphs need
fonts-noto-cjk).
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from prefect_server import prefect_server  # noqa: E402  (the tests' real server)

with tempfile.TemporaryDirectory() as home, prefect_server(home) as env:
    subprocess.run([sys.executable, "-m", "giodq.cli", "run", "samples", "--out", f"{home}/out", "--quiet"],
                   cwd=ROOT, env=env | {"GIODQ_SITE_TITLE": "示例区政务公开办"}, check=True,
                   stdout=subprocess.DEVNULL)
    ui = env["PREFECT_API_URL"].removesuffix("/api")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        page.goto(f"{ui}/artifacts/key/giodq-run")   # the key's history; the newest version's page:
        page.locator(".artifact-timeline-item-content a, a[href*='/artifacts/artifact/']").first.click()
        page.wait_for_selector("text=错误最多的报告", timeout=60_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ROOT / "docs" / "prefect-artifact.png"))
        browser.close()
print("wrote docs/prefect-artifact.png")
