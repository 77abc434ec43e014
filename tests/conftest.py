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
