"""Reports read from object storage: moto's server on 127.0.0.1 as the S3 endpoint (real HTTP,
real boto3), the same pipeline as for a folder."""
import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES
from giodq.ingest import S3Source, open_source
from giodq.s3 import s3_client
from giodq.pipeline import extract_batch, run
from s3_server import moto_server


@pytest.fixture(scope="module")
def bucket():
    with moto_server():
        s3 = s3_client()
        s3.create_bucket(Bucket="district")
        for p in SAMPLES.iterdir():
            s3.put_object(Bucket="district", Key=f"2024/reports/{p.name}", Body=p.read_bytes())
        s3.put_object(Bucket="district", Key="2024/reports/empty.txt", Body=b"")
        s3.put_object(Bucket="district", Key="2024/reports/", Body=b"")  # a "folder" marker, no input
        for i in range(1005):  # more than one listing page (1,000 keys)
            s3.put_object(Bucket="district", Key=f"many/{i:04d}.txt", Body=b"x")
        yield "district"


def test_listing_is_paginated_and_relative_to_the_prefix(bucket):
    refs = open_source("s3://district/many").list_inputs()
    assert len(refs) == 1005 and refs[0].key == "0000.txt"
    # the version tag is the object's ETag and size: it changes when the object is replaced
    s3 = s3_client()
    s3.put_object(Bucket="district", Key="many/0000.txt", Body=b"y2")
    assert open_source("s3://district/many").ref("0000.txt").version != refs[0].version
    assert open_source("s3://district/2024/reports/") == S3Source("district", "2024/reports/")


def test_run_from_a_bucket(bucket, tmp_path, seeds_expected):
    record = run("s3://district/2024/reports", tmp_path)
    assert record["inputs"] == 6 and [f["report"] for f in record["failed"]] == ["empty.txt"]
    cells = pq.read_table(tmp_path / "dataset" / "cells.parquet").to_pandas().set_index(["report", "key"])["value"]
    for name, want in seeds_expected.items():
        for key, value in want.get("cells", {}).items():
            assert cells[(name, key)] == value
    assert (tmp_path / "data_docs" / "sources").is_dir()  # sources copied from the bucket into the site


def test_an_object_that_cannot_be_read_is_a_failed_input(bucket):
    [r] = extract_batch("s3://district/2024/reports", ["gone.txt"])
    assert r.status == "failed" and r.error.startswith("read:") and "NoSuchKey" in r.error
