"""Fixtures for the handler tests: index generations of the shop fixture, and moto standing in for AWS."""

from __future__ import annotations

import pytest

from pampax import runtime
from pampax.config import AwsSettings
from pampax.stores.aws import client
from pampax.stores.s3 import S3ArtifactStore

from .support import REGION, build_generations, moto, provision


@pytest.fixture(scope="session")
def generations(tmp_path_factory):
    """Three index files of the shop fixture, each a different generation."""
    return build_generations(tmp_path_factory.mktemp("generations"), 3)


@pytest.fixture(scope="package")
def _moto():
    with moto():
        yield


@pytest.fixture
def aws(_moto, monkeypatch, tmp_path):
    """Fresh AWS resources, the environment the template gives the functions, and a cold process.

    ``refresh_seconds`` is 0 so that each request re-reads the pointer; the accessor's own tests
    cover the interval.
    """
    resources = provision()
    env = {
        "PAMPAX_AWS_BUCKET": resources.bucket, "PAMPAX_AWS_QUEUE_URL": resources.queue_url, "PAMPAX_AWS_REGION": REGION,
        "PAMPAX_RUNTIME_WORK_DIR": str(tmp_path / "work"), "PAMPAX_RUNTIME_REFRESH_SECONDS": "0",
        "PAMPAX_OBSERVABILITY_LOG_LEVEL": "INFO", "PAMPAX_OBSERVABILITY_LOG_FORMAT": "json",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    resources.store = S3ArtifactStore(client("s3", AwsSettings(region=REGION)), resources.bucket)
    resources.work_dir = tmp_path / "work"
    runtime.reset()
    yield resources
    runtime.reset()
