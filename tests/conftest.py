import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
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
