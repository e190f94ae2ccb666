"""Issue 10's CLI and indexing defects, one regression test each: every failure keeps its documented kind.

Each test is named for the defect it pins down; the kinds, codes and bodies are ``pampax.errors``'.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pampax import db
from pampax.build import build_index
from pampax.errors import exit_code_for
from pampax.models import MAX_FILTER_CHARS, MAX_FILTERS
from pampax_local.cli import app

runner = CliRunner()
NO_CACHE = {"PAMPAX_CACHE_ENABLED": "false"}


def _run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env or {})


def _page_corrupted(index: Path, dest: Path) -> Path:
    """Return a copy of ``index`` whose every table page but ``meta``'s is overwritten: it opens, then fails to read."""
    shutil.copyfile(index, dest)
    conn = db.connect(dest)
    roots = conn.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0 AND tbl_name != 'meta'").fetchall()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with dest.open("r+b") as file:
        for _, root in roots:
            file.seek((root - 1) * page_size)
            file.write(b"\xa5" * page_size)
    return dest


def _error_body(result, kind: str) -> None:
    assert result.exit_code == exit_code_for(kind), result.output
    assert json.loads(result.stdout)["error"]["kind"] == kind
    assert result.stderr.startswith(f"pampax: {kind}: ")


def test_health_on_a_page_corrupted_index_is_index_corrupt(shop_index_path, tmp_path):
    bad = _page_corrupted(shop_index_path, tmp_path / "index.db")
    result = _run("health", "--index", bad)
    assert result.exit_code == exit_code_for("index_corrupt"), result.output
    index_check = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "index")
    assert index_check["err_kind"] == "index_corrupt"


@pytest.mark.parametrize("command", [("search", "order"), ("assemble", "order", "--budget", "500")])
def test_search_and_assemble_on_a_page_corrupted_index_are_index_corrupt(shop_index_path, tmp_path, command):
    bad = _page_corrupted(shop_index_path, tmp_path / "index.db")
    _error_body(_run(*command, "--index", bad, "--format", "json", env=NO_CACHE), "index_corrupt")


def test_health_with_a_cache_dir_that_cannot_be_created_is_cache_unavailable(shop_index_path, tmp_path):
    (tmp_path / "file").write_text("a file where the cache's directory should be")
    result = _run("health", "--index", shop_index_path, env={"PAMPAX_CACHE_PATH": str(tmp_path / "file" / "sub" / "c.db")})
    assert result.exit_code == exit_code_for("cache_unavailable"), result.output
    report = json.loads(result.stdout)
    assert report["status"] == "degraded"
    assert [(c["name"], c["err_kind"]) for c in report["checks"] if not c["ok"]] == [("cache", "cache_unavailable")]


def test_an_unreadable_directory_does_not_abort_index(shop_repo, monkeypatch):
    # GIVEN a directory the process may not read (EACCES as a non-root user gets it, emulated: tests may run as root)
    locked = shop_repo / "locked"
    locked.mkdir()
    (locked / "secret.py").write_text("def secret():\n    pass\n")
    real_scandir, real_read_text = os.scandir, Path.read_text

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    def read_text(self, *args, **kwargs):
        if self.parent == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(Path, "read_text", read_text)
    # WHEN indexed, THEN everything else is indexed and the locked directory is skipped
    result = _run("index", shop_repo)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == 10


def test_thousand_deep_nesting_is_indexed_not_a_recursion_error(tmp_path):
    deep = leaf = tmp_path / "repo"
    for _ in range(1001):  # one by one: mkdir(parents=True) itself recurses
        leaf.mkdir()
        leaf = leaf / "d"
    leaf = leaf.parent
    (leaf / "bottom.py").write_text("def bottom():\n    return 1\n")
    try:
        report = build_index(deep)
        assert (report.files, report.symbols) == (1, 1)
    finally:  # bottom up, since shutil.rmtree (pytest's cleanup) recurses as deep as the tree
        (leaf / "bottom.py").unlink()
        while leaf != deep:
            leaf.rmdir()
            leaf = leaf.parent


def test_an_empty_tree_gets_an_empty_index_not_index_missing(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _run("index", tmp_path / "empty")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"] == 0
    search = _run("search", "anything", "--index", tmp_path / "empty" / ".pampax" / "index.db")
    assert search.exit_code == 0 and json.loads(search.stdout)["results"] == []


def test_format_json_prints_the_internal_error_body_on_stdout(shop_index_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr("pampax.service.search", broken)
    result = _run("search", "x", "--index", shop_index_path, "--format", "json", env=NO_CACHE)
    assert result.exit_code == exit_code_for("internal")
    assert json.loads(result.stdout) == {"error": {"code": 1, "kind": "internal", "message": "KeyError: 'boom'"}}


def test_utf16_sources_with_a_bom_are_indexed_with_their_symbols(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "wide.py").write_bytes("def héllo_wide():\n    return 1\n\nclass Wide:\n    pass\n".encode("utf-16"))
    report = build_index(repo)
    assert report.symbols == 2
    found = json.loads(_run("search", "héllo_wide", "--index", report.index, env=NO_CACHE).stdout)["results"]
    assert found[0]["symbol"] == "héllo_wide"


@pytest.mark.parametrize("paths", [["*" * 60_000], [f"p{i}*" for i in range(1001)],
                                   ["a" * (MAX_FILTER_CHARS + 1)], [f"p{i}" for i in range(MAX_FILTERS + 1)]],
                         ids=["60000-chars", "1001-fold", "one-over-length", "one-over-count"])
def test_a_huge_or_many_fold_paths_glob_is_invalid_argument(shop_index_path, paths):
    args = [a for p in paths for a in ("--path", p)]
    _error_body(_run("search", "order", *args, "--index", shop_index_path, "--format", "json", env=NO_CACHE),
                "invalid_argument")


def test_read_only_commands_create_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "missing" / ".pampax" / "index.db"
    assert _run("health", "--index", missing).exit_code == exit_code_for("index_missing")
    assert _run("cache", "clear", "--index", missing).exit_code == 0
    assert _run("health").exit_code == exit_code_for("index_missing")
    assert list(tmp_path.rglob("*")) == []
