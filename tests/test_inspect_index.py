"""``pampax analyze`` on real fixture indexes, its figures checked against the stdlib sqlite3 module reading the same file."""

import json
import sqlite3

import pytest

from pampax import db, inspect_index as inspection
from pampax.build import build_index
from pampax.errors import IndexMissing
from pampax.inspect_index import inspect_index


def _stdlib(path):
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


@pytest.fixture
def built(shop_repo):
    # A binary and a minified file, so the build has skips to record.
    (shop_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 64)
    (shop_repo / "web" / "vendor.min.js").write_text("var a=1;" * 400 + "\n")
    return shop_repo, build_index(shop_repo)


def test_figures_match_what_sqlite_reads(built):
    # GIVEN a fresh index WHEN it is analyzed
    repo, report = built
    path = repo / ".pampax" / "index.db"
    analysis = inspect_index(path)
    # THEN rows, pages and the freelist are what SQLite itself says
    conn = _stdlib(path)
    tables = {t.name: t for t in analysis.tables}
    for name in ("files", "symbols", "chunks", "call_edges", "call_names", "imports", "test_imports", "chunks_fts_data", "meta"):
        assert tables[name].rows == conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0], name
    assert tables["files"].rows == report.files and tables["chunks"].rows == report.chunks
    for pragma in ("page_count", "freelist_count", "page_size"):
        assert getattr(analysis.storage, pragma) == conn.execute(f"PRAGMA {pragma}").fetchone()[0]
    # AND every used page belongs to exactly one b-tree: dbstat's bytes plus the free pages are the file
    s = analysis.storage
    assert sum(t.bytes for t in analysis.tables) + s.freelist_count * s.page_size == s.page_count * s.page_size
    assert tables["idx_call_edges_name_id"].type == "index" and tables["idx_call_edges_name_id"].table == "call_edges"
    assert "calls" not in tables  # a view holds no pages
    # AND the breakdowns are the tables' own, and the build's skips were recorded
    assert analysis.languages == dict(conn.execute("SELECT lang, count(*) FROM files GROUP BY lang ORDER BY lang"))
    assert analysis.edges == {"call": tables["call_edges"].rows, "import": tables["imports"].rows} and report.edges == sum(
        analysis.edges.values())
    assert analysis.skipped == report.skipped == {"binary": 1, "minified": 1}
    assert analysis.largest_files[0].bytes == conn.execute("SELECT max(size) FROM files").fetchone()[0]
    assert analysis.largest_chunks[0].stored_bytes == conn.execute(
        "SELECT max(length(CAST(text AS BLOB))) FROM chunks").fetchone()[0]
    assert analysis.fts.segments == 1  # a first build ends with 'optimize'


def test_dbstat_is_read_through_another_engine_when_pampax_lacks_it(shop_index_path):
    # GIVEN pampax's engine, which here has no dbstat THEN the sizes still come, from the sqlite3 module
    conn = db.connect(shop_index_path, readonly=True)
    sizes, _ = inspection._dbstat(conn, "pampax")
    conn.close()
    analysis = inspect_index(shop_index_path)
    if sizes is None:
        assert analysis.storage.dbstat == f"sqlite3 {sqlite3.sqlite_version}"
    assert all(t.bytes is not None for t in analysis.tables)


def test_query_plans_are_those_of_the_code_that_runs(shop_index_path, monkeypatch):
    analysis = inspect_index(shop_index_path)
    sources = {q.source for q in analysis.queries}
    # THEN search, file ranking, assemble and the graph each ran their own statements, every one explained
    assert {"pampax.search.find_candidates", "pampax.search._load_candidates", "pampax.assemble._neighbours",
            "pampax.graph.callers", "pampax.graph.outline"} <= sources
    assert any(s.startswith("pampax.filerank.") for s in sources)
    assert all(q.plan and q.calls >= 1 for q in analysis.queries)
    assert not any("IN ()" in q.sql for q in analysis.queries)
    fts = next(q for q in analysis.queries if q.source == "pampax.search.find_candidates")
    assert "MATCH ?" in fts.sql and any("VIRTUAL TABLE" in line for line in fts.plan) and not fts.full_scans
    # AND a scan of a table counted as large is warned about, in the query and in the advice
    assert not any(q.warning for q in analysis.queries)
    monkeypatch.setattr(inspection, "LARGE_TABLE_ROWS", 1)
    warned = inspect_index(shop_index_path)
    scans = [q for q in warned.queries if q.warning]
    assert scans and all(q.full_scans for q in scans)
    assert {a.code for a in warned.advice} >= {"full_scan"}


def test_advice_follows_the_index(built):
    repo, _ = built
    path = repo / ".pampax" / "index.db"
    # GIVEN many small refreshes with FTS5's automerge off: one new segment each
    conn = db.connect(path)
    conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('automerge', 0)")
    conn.commit()
    conn.close()
    for n in range(inspection.FTS_SEGMENTS + 1):
        (repo / "shop" / "users.py").write_text(f"def refreshed_{n}():\n    return {n}\n")
        build_index(repo)
    analysis = inspect_index(path)
    assert analysis.fts.segments > inspection.FTS_SEGMENTS
    advice = {a.code: a for a in analysis.advice}
    assert "fts_optimize" in advice
    # WHEN the advised commands run THEN the analysis no longer asks for them
    conn = db.connect(path)
    conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
    conn.commit()
    conn.execute("VACUUM")
    conn.close()
    after = inspect_index(path)
    assert after.fts.segments == 1 and after.storage.freelist_count == 0
    assert not {"fts_optimize", "vacuum"} & {a.code for a in after.advice}


def test_a_fresh_build_leaves_free_pages_worth_a_vacuum_and_output_is_deterministic(built):
    repo, _ = built
    path = repo / ".pampax" / "index.db"
    first = inspect_index(path)
    assert first.model_dump_json() == inspect_index(path).model_dump_json()
    s = first.storage
    if s.freelist_count / s.page_count > inspection.FREE_SHARE:
        (vacuum,) = [a for a in first.advice if a.code == "vacuum"]
        assert vacuum.command == f"sqlite3 {path} 'VACUUM'"
    assert inspection.render_text(first) == inspection.render_text(inspect_index(path))


def test_a_missing_index_is_index_missing(tmp_path):
    with pytest.raises(IndexMissing):
        inspect_index(tmp_path / "none.db")


def test_cli_prints_json_and_text(shop_index_path):
    from typer.testing import CliRunner

    from pampax_local.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["analyze", "--index", str(shop_index_path)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) >= {"storage", "tables", "fts", "languages", "skipped", "edges", "queries", "advice"}
    text = runner.invoke(app, ["analyze", "--index", str(shop_index_path), "--format", "text"])
    assert text.exit_code == 0 and "query plans:" in text.stdout and "pampax.search.find_candidates" in text.stdout
    missing = runner.invoke(app, ["analyze", "--index", str(shop_index_path.parent / "none.db")])
    assert missing.exit_code == 4
