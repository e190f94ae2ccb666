"""``pampax publish`` and ``pampax rollback`` against S3 on moto, through the CLI."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from pampax_local.cli import app

runner = CliRunner()


@pytest.fixture
def bucket(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("PAMPAX_AWS_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="artifacts")
        yield "artifacts"


def test_publish_then_rollback(bucket, shop_repo):
    # GIVEN two builds of a repository
    first_index = shop_repo / "first.db"
    assert runner.invoke(app, ["index", str(shop_repo), "--index", str(first_index)]).exit_code == 0
    (shop_repo / "shop" / "release.py").write_text("RELEASE = 2\n")
    assert runner.invoke(app, ["index", str(shop_repo)]).exit_code == 0
    # WHEN both are published (the second from the default index location)
    first = runner.invoke(app, ["publish", "--bucket", bucket, "--index", str(first_index), "--prefix", "team"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["publish", "--bucket", bucket, "--prefix", "team",
                                 "--index", str(shop_repo / ".pampax" / "index.db")])
    # THEN each prints its manifest and the pointer follows the last one
    old, new = json.loads(first.stdout), json.loads(second.stdout)
    assert old["location"] == "s3://artifacts/team"
    assert new["current"]["generation"] == new["manifest"]["generation"] != old["manifest"]["generation"]
    assert new["current"]["previous"] == old["manifest"]["generation"]
    # WHEN rolled back without --to, THEN the previous generation is current again
    back = runner.invoke(app, ["rollback", "--bucket", bucket, "--prefix", "team"])
    assert back.exit_code == 0 and json.loads(back.stdout)["current"]["generation"] == old["manifest"]["generation"]
    # AND --to an unknown generation is refused with the invalid_argument exit code and JSON body
    bad = runner.invoke(app, ["rollback", "--to", "0000000000000000", "--bucket", bucket, "--prefix", "team"])
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"]["kind"] == "invalid_argument"


def test_publish_needs_a_bucket_and_an_index(bucket, tmp_path, monkeypatch):
    monkeypatch.delenv("PAMPAX_AWS_BUCKET", raising=False)
    no_bucket = runner.invoke(app, ["publish", "--index", str(tmp_path / "x.db")])
    assert no_bucket.exit_code == 6 and "aws.bucket" in no_bucket.stderr
    no_index = runner.invoke(app, ["publish", "--bucket", bucket, "--index", str(tmp_path / "x.db")])
    assert no_index.exit_code == 4 and json.loads(no_index.stdout)["error"]["kind"] == "index_missing"
