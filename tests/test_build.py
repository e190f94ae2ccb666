import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pampax import build as indexing
from pampax import graph
from pampax.config import IndexSettings
from pampax.errors import IndexCorrupt, IndexMissing, NotADirectory, PathNotFound
from pampax.build import build_index
from pampax.index import open_index
from pampax.models import EdgesRequest, SearchRequest
from pampax.schema import FILE_CALLS
from pampax.search import search


def _rows(index_path, sql, *params):
    with open_index(index_path) as index:
        return index.conn.execute(sql, params).fetchall()


def test_build_reports_what_it_indexed(shop_repo):
    # WHEN the shop fixture is indexed
    report = build_index(shop_repo)
    # THEN every text file is in, with symbols, chunks, edges and test links
    paths = [r[0] for r in _rows(report.index, "SELECT path FROM files ORDER BY path")]
    assert paths == [".gitignore", "docs/guide.md", "shop/__init__.py", "shop/orders.py", "shop/query.py",
                     "shop/users.py", "tests/test_orders.py", "tests/test_users.py", "web/api.js", "web/cart.ts"]
    assert report.files == 10 and report.parsed_files == 10 and report.reused_files == 0
    assert report.symbols > 10 and report.chunks >= 10 and report.edges > 10 and report.test_links > 0
    assert report.engine.split()[1] >= "3.43"
    assert report.index == str(shop_repo / ".pampax" / "index.db")


def test_symbols_chunks_and_edges_are_stored(shop_repo):
    report = build_index(shop_repo)
    symbols = _rows(report.index, "SELECT qualname, kind, start_line, end_line FROM symbols s JOIN files f ON f.id = s.file_id WHERE f.path = 'shop/query.py' ORDER BY start_line")
    assert symbols[0] == ("QuerySet", "class", 4, 18)
    assert ("QuerySet.filter", "method", 10, 12) in symbols
    calls = _rows(report.index, "SELECT s.qualname, e.name FROM calls e JOIN symbols s ON s.id = e.symbol_id WHERE e.name = 'get_user_by_id' ORDER BY 1")
    assert ("place_order", "get_user_by_id") in calls
    imports = _rows(report.index, "SELECT i.name, i.module FROM imports i JOIN files f ON f.id = i.file_id WHERE f.path = 'shop/orders.py' ORDER BY 1")
    assert ("get_user_by_id", "shop.users") in imports
    test_imports = _rows(report.index, "SELECT t.name FROM test_imports t JOIN files f ON f.id = t.file_id WHERE f.path = 'tests/test_users.py'")
    assert ("get_user_by_id",) in test_imports


def test_files_it_cannot_use_are_skipped_with_a_reason(shop_repo):
    # GIVEN a binary file, an oversize file, a minified file and files in odd encodings
    (shop_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    (shop_repo / "big.txt").write_text("x" * 5000)
    (shop_repo / "app.min.js").write_text("var a=1;" * 400)
    (shop_repo / "latin.py").write_bytes("NAME = 'caf\xe9'\n".encode("latin-1"))
    (shop_repo / "wide.txt").write_bytes("hello wide world\n".encode("utf-16"))
    # WHEN indexed with a 4 KB size limit
    report = build_index(shop_repo, settings=IndexSettings(max_file_bytes=4096))
    # THEN each is skipped for its reason, and the decodable ones are indexed
    assert report.skipped == {"binary": 1, "minified": 1, "too_large": 1}
    paths = {r[0] for r in _rows(report.index, "SELECT path FROM files")}
    assert {"latin.py", "wide.txt"} <= paths
    text = _rows(report.index, "SELECT chunk_text(c.text) FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = 'latin.py'")
    assert text == [("NAME = 'café'",)]


def test_refresh_parses_only_what_changed(shop_repo):
    first = build_index(shop_repo)
    # WHEN nothing changed
    again = build_index(shop_repo)
    # THEN nothing is parsed and the generation is stable
    assert (again.parsed_files, again.reused_files, again.generation) == (0, 10, first.generation)
    # WHEN one file changes and one disappears
    (shop_repo / "shop" / "orders.py").write_text("def refund(order):\n    return order\n")
    (shop_repo / "docs" / "guide.md").unlink()
    changed = build_index(shop_repo)
    # THEN only that file is parsed, the other's rows are gone, and the generation moves
    assert (changed.parsed_files, changed.removed_files, changed.files) == (1, 1, 9)
    assert changed.generation != first.generation
    assert _rows(changed.index, "SELECT count(*) FROM symbols WHERE name = 'place_order'") == [(0,)]
    assert _rows(changed.index, "SELECT count(*) FROM symbols WHERE name = 'refund'") == [(1,)]
    with open_index(changed.index) as index:  # the FTS rows of the old file went with it
        assert index.conn.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'total_with_tax'").fetchone() == (0,)
    # AND a full rebuild of the same tree gives the same generation as the refresh
    assert build_index(shop_repo, full=True).generation == changed.generation


def test_a_refreshed_index_ranks_like_a_fresh_build_of_the_same_tree(shop_repo, tmp_path):
    # GIVEN an index refreshed in place after edits and deletions
    build_index(shop_repo)
    (shop_repo / "shop" / "orders.py").write_text("def refund(order):\n    return order.total\n")
    (shop_repo / "docs" / "guide.md").unlink()
    (shop_repo / "web" / "api.js").unlink()
    refreshed = build_index(shop_repo)
    # WHEN the same tree is also built from nothing
    fresh = build_index(shop_repo, tmp_path / "fresh.db")
    # THEN both score every query alike: BM25's row count and column lengths forgot the deleted rows
    # (FTS5's contentless_delete=1 DELETE left them in, so every score of a refreshed index drifted)
    request = SearchRequest(query="order total user query filter refund", limit=20)
    with open_index(refreshed.index) as a, open_index(fresh.index) as b:
        ranked = [[(h.path, h.start_line, round(h.score, 9)) for h in search(index, request).results] for index in (a, b)]
    assert ranked[0] and ranked[0] == ranked[1]


def test_a_refreshed_index_holds_the_code_graph_of_a_fresh_build(shop_repo, tmp_path):
    # GIVEN an index refreshed in place: one file's calls rewritten (its rows move to the end), one file gone
    build_index(shop_repo)
    users = shop_repo / "shop" / "users.py"
    users.write_text(users.read_text() + "\n\ndef audit():\n    count_users()\n    get_user_by_id(1)\n")
    (shop_repo / "web" / "api.js").unlink()
    refreshed = build_index(shop_repo)
    fresh = build_index(shop_repo, tmp_path / "fresh.db")
    with open_index(refreshed.index) as a, open_index(fresh.index) as b:
        # THEN every file's calls are exactly the rows of its id range (``schema.FILE_CALLS``), none orphaned
        for index in (a, b):
            assert index.query("SELECT count(*) FROM calls")[0][0] == index.query("SELECT sum(call_count) FROM files")[0][0]
            assert index.query(f"SELECT count(*) FROM files f JOIN calls e ON {FILE_CALLS} WHERE e.file_id != f.id") == [(0,)]
        # AND every symbol has the same callers, callees and tests in both
        names = [n for (n,) in b.query("SELECT DISTINCT qualname FROM symbols ORDER BY 1")]
        for relation in (graph.callers, graph.callees, graph.tests_for):
            answers = [[relation(index, EdgesRequest(name=n)).edges for n in names] for index in (a, b)]
            assert answers[0] == answers[1], relation.__name__
        assert {e.name for e in graph.callees(a, EdgesRequest(name="audit")).edges} == {"count_users", "get_user_by_id"}


def test_capped_candidate_lists_do_not_depend_on_the_order_rows_were_written(tmp_path):
    from pampax.query import plan_query
    from pampax.search import _symbol_chunks

    # GIVEN more definitions of one name than search enters by name (200), in an index refreshed
    # after the first files changed (their rows are rewritten last) and in a fresh build of that tree
    repo = tmp_path / "repo"
    repo.mkdir()
    for n in range(240):
        (repo / f"m{n:03}.py").write_text(f"def handler():\n    return {n}\n")
    build_index(repo)
    for n in range(40):
        (repo / f"m{n:03}.py").write_text(f"def handler():\n    return -{n}\n")
    refreshed, fresh = build_index(repo), build_index(repo, tmp_path / "fresh.db")
    # THEN both enter the same definitions
    plan = plan_query("handler")
    entered = []
    for report in (refreshed, fresh):
        with open_index(report.index) as index:
            ids = _symbol_chunks(index, plan, "", [])
            entered.append(sorted(index.query(
                f"SELECT f.path FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({','.join('?' * len(ids))})",
                sorted(ids))))
    assert len(entered[0]) == 200 and entered[0] == entered[1]


def test_binary_files_are_not_read_again_until_they_change(shop_repo, monkeypatch):
    # GIVEN an index of a tree holding a binary and a minified file
    (shop_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    (shop_repo / "app.min.js").write_text("var a=1;" * 400)
    first = build_index(shop_repo)
    read = []
    real_sniff, real_job = indexing._sniff, indexing._analyze_job
    monkeypatch.setattr(indexing, "_sniff", lambda path: read.append(path.name) or real_sniff(path))
    monkeypatch.setattr(indexing, "_analyze_job", lambda job: read.append(job[1]) or real_job(job))
    # WHEN nothing changed THEN a refresh reads only the minified file again (its verdict depends on a
    # setting), still counts both, and the binary file is not pending
    assert indexing.pending_changes(shop_repo, Path(first.index)).added == ["app.min.js"]
    again = build_index(shop_repo)
    assert (set(read), again.skipped, again.generation) == ({"app.min.js"}, first.skipped, first.generation)
    assert first.skipped == {"binary": 1, "minified": 1}
    # WHEN the binary file changes THEN it is read again, and is still skipped
    read.clear()
    (shop_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0other binary")
    assert build_index(shop_repo).skipped == first.skipped and set(read) == {"app.min.js", "logo.png"}
    # AND an index from before the skipped_files table is refreshed as before, and gains it
    with sqlite3.connect(first.index) as conn:
        conn.execute("DROP TABLE skipped_files")
    read.clear()
    assert build_index(shop_repo).skipped == first.skipped and "logo.png" in read
    read.clear()
    assert build_index(shop_repo).skipped == first.skipped and "logo.png" not in read
    # AND a minified verdict follows its setting on the next refresh
    assert build_index(shop_repo, settings=IndexSettings(minified_line_chars=10_000)).skipped == {"binary": 1}


def test_touched_but_unchanged_file_is_not_reparsed(shop_repo):
    build_index(shop_repo)
    path = shop_repo / "shop" / "users.py"
    path.write_bytes(path.read_bytes())  # new mtime, same content
    assert build_index(shop_repo).parsed_files == 0


def test_failed_build_leaves_previous_index_intact(shop_repo, monkeypatch):
    # GIVEN a good index
    report = build_index(shop_repo)
    before = (shop_repo / ".pampax" / "index.db").read_bytes()
    (shop_repo / "shop" / "new.py").write_text("def fresh():\n    pass\n")

    # WHEN the next build fails half-way through writing
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(indexing._Writer, "add", explode)
    with pytest.raises(RuntimeError):
        build_index(shop_repo)
    # THEN the live index is byte-identical, still opens, and no temporary file is left behind
    assert (shop_repo / ".pampax" / "index.db").read_bytes() == before
    assert open_index(report.index).generation == report.generation
    assert sorted(p.name for p in (shop_repo / ".pampax").iterdir()) == ["index.db"]


def test_corrupt_previous_index_is_rebuilt(shop_repo):
    target = shop_repo / ".pampax" / "index.db"
    target.parent.mkdir()
    target.write_bytes(b"this is not sqlite" * 100)
    report = build_index(shop_repo)
    assert report.parsed_files == 10
    assert open_index(target).generation == report.generation


def test_bad_roots_are_rejected(tmp_path):
    with pytest.raises(PathNotFound):
        build_index(tmp_path / "missing")
    (tmp_path / "file.py").write_text("x = 1\n")
    with pytest.raises(NotADirectory):
        build_index(tmp_path / "file.py")


def test_open_index_errors(tmp_path):
    with pytest.raises(IndexMissing):
        open_index(tmp_path / "none.db")
    (tmp_path / "junk.db").write_bytes(b"garbage" * 1000)
    with pytest.raises(IndexCorrupt):
        open_index(tmp_path / "junk.db")
    sqlite3.connect(tmp_path / "empty.db").execute("CREATE TABLE t(x)")
    with pytest.raises(IndexCorrupt, match="not a pampax index"):
        open_index(tmp_path / "empty.db")
    # a meta table naming no schema version (another tool's, or its pages damaged) is not "schema None"
    sqlite3.connect(tmp_path / "meta.db").execute("CREATE TABLE meta(key TEXT, value TEXT)")
    with pytest.raises(IndexCorrupt, match=r"not a pampax index \(its meta table names no schema version\)"):
        open_index(tmp_path / "meta.db")


def test_refresh_writes_in_place_while_readers_keep_their_snapshot(shop_repo, monkeypatch):
    # GIVEN a built index (a WAL file) and a reader holding it open
    report = build_index(shop_repo)
    target = shop_repo / ".pampax" / "index.db"
    inode = target.stat().st_ino
    reader = open_index(target)
    (shop_repo / "shop" / "new.py").write_text("def fresh():\n    pass\n")
    seen_during = []
    real_add = indexing._Writer.add

    def add_then_look(self, record):
        real_add(self, record)
        with reader.snapshot():  # the refresh's rows are written but not committed
            seen_during.append((reader.generation, reader.query("SELECT count(*) FROM symbols WHERE name = 'fresh'")))

    monkeypatch.setattr(indexing._Writer, "add", add_then_look)
    # WHEN the tree is refreshed
    refreshed = build_index(shop_repo)
    # THEN the reader saw the previous snapshot while the refresh wrote, and sees the new one after it committed
    assert seen_during == [(report.generation, [(0,)])]
    with reader.snapshot():
        assert reader.generation == refreshed.generation != report.generation
        assert reader.query("SELECT count(*) FROM symbols WHERE name = 'fresh'") == [(1,)]
    # AND the file was updated in place, not swapped, and its WAL files go with the last connection
    assert target.stat().st_ino == inode and (refreshed.parsed_files, refreshed.reused_files) == (1, 10)
    reader.close()
    assert sorted(p.name for p in target.parent.iterdir()) == ["index.db"]


def test_killed_refresh_leaves_previous_index_intact(shop_repo, tmp_path):
    # GIVEN a good index, and a refresh that is killed (SIGKILL) in the middle of its transaction
    report = build_index(shop_repo)
    (shop_repo / "shop" / "new.py").write_text("def fresh():\n    pass\n")
    started = tmp_path / "started"
    child = subprocess.Popen([sys.executable, "-c", f"""
import time
from pathlib import Path
from pampax import build
real_add = build._Writer.add
def add_and_hang(self, record):
    real_add(self, record)
    self.conn.execute("DELETE FROM symbols")  # a write the kill must not let through
    open({str(started)!r}, "w").close()
    time.sleep(60)
build._Writer.add = add_and_hang
build.build_index({str(shop_repo)!r})
"""])
    try:
        for _ in range(600):
            if started.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert started.exists(), "the refresh never reached its transaction"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # THEN the previous generation opens whole, without the killed refresh's rows
    with open_index(report.index) as index:
        assert index.generation == report.generation
        assert index.query("PRAGMA quick_check") == [("ok",)]
        assert index.query("SELECT count(*) FROM symbols") == [(report.symbols,)]
        assert index.query("SELECT count(*) FROM symbols WHERE name = 'fresh'") == [(0,)]
    # AND the next refresh completes normally
    assert build_index(shop_repo).parsed_files == 1
