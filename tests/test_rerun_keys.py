"""`giodq rerun KEY` takes the key as the user sees it: relative to SOURCE, a path to the file (from
here or absolute), the full object key or its s3:// address; never a way out of SOURCE."""
import shutil

import pytest

from conftest import SAMPLES
from giodq.ingest import key_as_given
from giodq.pipeline import run
from giodq.preflight import CommandError
from giodq.rerun import rerun

S004 = "004_47717d3cd7e0ea5b.txt"


def test_a_folders_key_as_a_path(tmp_path, monkeypatch):
    src = tmp_path / "src"
    shutil.copytree(SAMPLES, src)
    (src / "sub").mkdir()
    (src / "sub" / "a.txt").write_bytes((SAMPLES / S004).read_bytes())
    assert key_as_given(str(src), S004) == S004
    assert key_as_given(str(src), str(src / "sub" / "a.txt")) == "sub/a.txt"
    monkeypatch.chdir(tmp_path)
    assert key_as_given(str(src), f"src/{S004}") == S004
    assert key_as_given(str(src), "../etc/passwd") == "../etc/passwd"            # as given: then refused
    assert key_as_given(str(src), str(tmp_path / "elsewhere.txt")) == str(tmp_path / "elsewhere.txt")
    out = tmp_path / "out"
    run(str(src), out)
    assert rerun(str(src / S004), str(src), out)["rerun"] == S004
    with pytest.raises(CommandError):
        rerun(str(tmp_path / "elsewhere.txt"), str(src), out)


def test_a_buckets_key_as_the_full_object_key_or_address():
    from s3_server import moto_server

    from giodq.s3 import s3_client
    with moto_server():
        s3 = s3_client()
        s3.create_bucket(Bucket="district")
        s3.put_object(Bucket="district", Key=f"reports/2024/{S004}", Body=b"x")
        source = "s3://district/reports/"
        assert key_as_given(source, f"2024/{S004}") == f"2024/{S004}"
        assert key_as_given(source, f"reports/2024/{S004}") == f"2024/{S004}"
        assert key_as_given(source, f"s3://district/reports/2024/{S004}") == f"2024/{S004}"
        assert key_as_given(source, f"s3://other/reports/2024/{S004}") == f"s3://other/reports/2024/{S004}"
