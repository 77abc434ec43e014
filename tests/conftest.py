import json
import os
import sys
from pathlib import Path

import pytest

# The tests and the processes they start cache their bytecode, as the giodq command does (cli.py):
# the environment is not byte-compiled on install, and this machine sets PYTHONDONTWRITEBYTECODE.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
# The giodq commands the tests start stop their Prefect server as they end, rather than keep it for
# the next command (prefect_server.py): a test leaves no process behind (test_kept_server.py keeps one)
os.environ["GIODQ_SERVER_KEEP_S"] = "0"

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "reports"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def seeds_expected() -> dict:
    return json.loads((FIXTURES / "seeds-expected.json").read_text(encoding="utf-8"))


def read_fixture(name: str) -> bytes:
    path = SAMPLES / name if (SAMPLES / name).exists() else FIXTURES / name
    return path.read_bytes()


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """Flows run in this process against a temporary Prefect server and database; persisted task
    results (the extraction cache) go to a temporary folder."""
    from giodq.settings import apply_prefect_defaults

    apply_prefect_defaults()
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: str(tmp_path_factory.mktemp("prefect-results"))}), \
            prefect_test_harness(server_startup_timeout=None):
        yield


CHROMIUM = os.environ.get("GIODQ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright (no browser download). Per module: while
    Playwright's sync API runs, the thread has an event loop, and Prefect's sync calls made on it
    would return coroutines."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page whose requests outside file:// are refused and recorded in ``page.outside``."""
    page = browser.new_page()
    page.outside = []  # every request that would leave the folder: the site must make none
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
               else (page.outside.append(route.request.url), route.abort()))
    yield page
    page.close()
