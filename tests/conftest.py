"""Shared fixtures: real small repositories on disk and indexes built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pampax.build import build_index
from pampax.index import open_index

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def shop_repo(tmp_path: Path) -> Path:
    """A private copy of the ``shop`` fixture repository, free to modify."""
    return Path(shutil.copytree(FIXTURES / "shop", tmp_path / "shop"))


@pytest.fixture(scope="session")
def shop_index_path(tmp_path_factory) -> Path:
    """An index of the ``shop`` fixture, built once per session; tests must only read it."""
    repo = Path(shutil.copytree(FIXTURES / "shop", tmp_path_factory.mktemp("shop") / "shop"))
    return Path(build_index(repo).index)


@pytest.fixture
def shop_index(shop_index_path: Path):
    with open_index(shop_index_path) as index:
        yield index


@pytest.fixture(scope="session")
def reports_index_path(tmp_path_factory) -> Path:
    """An index of the ``reports`` fixture (a package, tests in their own folder, examples, docs)."""
    repo = Path(shutil.copytree(FIXTURES / "reports", tmp_path_factory.mktemp("reports") / "reports"))
    return Path(build_index(repo).index)


@pytest.fixture
def reports_index(reports_index_path: Path):
    with open_index(reports_index_path) as index:
        yield index
