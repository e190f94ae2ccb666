"""Shared fixtures: real small repositories on disk and indexes built from them."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from pampax.build import build_index
from pampax.index import open_index

FIXTURES = Path(__file__).parent / "fixtures"


def damage_pages(index_file: Path, out: Path) -> Path:
    """Write ``index_file`` to ``out`` with every b-tree page's cells overwritten but the schema's pages
    (page 1 and any the schema grew into), ``meta``'s (page 2) and the last intact: it opens, and
    ``PRAGMA quick_check`` or the first query reaching a page finds the damage."""
    data = bytearray(index_file.read_bytes())
    page = 4096
    with closing(sqlite3.connect(index_file)) as conn:  # the stdlib module's build has dbstat
        schema = {n for (n,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'sqlite_schema'")}
    for number in range(3, len(data) // page):
        if number not in schema:
            offset = (number - 1) * page
            data[offset + 8: offset + 64] = b"\xff" * 56
    out.write_bytes(bytes(data))
    return out


@pytest.fixture
def shop_repo(tmp_path: Path) -> Path:
    """A private copy of the ``shop`` fixture repository, free to modify."""
    return Path(shutil.copytree(FIXTURES / "shop", tmp_path / "shop"))


def _built_once(tmp_path_factory, name: str) -> Path:
    repo = Path(shutil.copytree(FIXTURES / name, tmp_path_factory.mktemp(name) / name))
    return Path(build_index(repo).index)


@pytest.fixture(scope="session")
def shop_index_path(tmp_path_factory) -> Path:
    """An index of the ``shop`` fixture, built once per session; tests must only read it."""
    return _built_once(tmp_path_factory, "shop")


@pytest.fixture
def shop_index(shop_index_path: Path):
    with open_index(shop_index_path) as index:
        yield index


@pytest.fixture(scope="session")
def reports_index_path(tmp_path_factory) -> Path:
    """An index of the ``reports`` fixture (a package, tests in their own folder, examples, docs)."""
    return _built_once(tmp_path_factory, "reports")


@pytest.fixture
def reports_index(reports_index_path: Path):
    with open_index(reports_index_path) as index:
        yield index
