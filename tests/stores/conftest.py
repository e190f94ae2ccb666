"""Fixtures for the store contract suite: two index generations, and moto for the S3 store."""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from pampax import db
from pampax.build import build_index

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "shop"


@pytest.fixture(scope="module")
def generations(tmp_path_factory):
    """Two self-contained index files of the shop fixture with different generations (one file edited between builds)."""
    workdir = tmp_path_factory.mktemp("generations")
    repo = Path(shutil.copytree(SHOP, workdir / "shop"))
    paths = []
    for n in range(2):
        (repo / "shop" / "release.py").write_text(f'RELEASE = "r{n}"\n')
        with db.self_contained(Path(build_index(repo, workdir / "build.db").index)) as built:
            paths.append(Path(shutil.copyfile(built, workdir / f"gen{n}.db")))
    return paths


@pytest.fixture(scope="module")
def s3():
    """An S3 client on moto with dummy credentials (nothing can reach a real account)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            yield boto3.client("s3", region_name="us-east-1")
