"""The index's SQLite schema, created through sqlite-utils; one place says what every table holds.

Edges and test imports store *names*, not symbol ids: they are resolved against ``symbols`` when a
bundle is assembled. That keeps an incremental refresh local to the files that changed (no other
file's rows point at a row that is replaced) at the price of name ambiguity, which the resolver
ranks (same file, then imported files, then anywhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

# Bump when a table or column changes meaning; an index with another version is rebuilt from scratch.
# 2: chunk text zstd-compressed (``chunk_codec``), reference edges no longer stored.
# 3: FTS5 without contentless_delete, whose deletes left BM25's row count and column totals as they were.
# 4: edges split into ``calls`` and ``imports``, callee text stored without the name it ends in.
# 5: ``test_links`` replaced by ``test_imports``: tests named after a name are read from ``symbols``.
# 6: a file's calls found by their id range (``files.first_call``, ``call_count``), not by an index.
# 7: ``symbols.parent`` null when the qualname says it (``parent_stored``).
# 8: call names stored once (``call_names``); ``calls`` is a view of ``call_edges`` with the names.
SCHEMA_VERSION = 8

# FTS5 column weights for bm25(): a hit in a symbol name outranks one in a path, which outranks the body.
FTS_COLUMNS = ("names", "path", "body", "parts")
FTS_WEIGHTS = (8.0, 3.0, 1.0, 0.6)


def create(database: sqlite_utils.Database) -> None:
    """Create every table of an empty index database; ``create_indexes`` adds the indexes once it is filled.

    An index built over its rows in one pass packs its pages full; one grown row by row left an
    eighth of them empty (Django's edge indexes) and cost more per insert.
    """
    database["meta"].create({"key": str, "value": str}, pk="key")
    # A file's calls are the ``calls`` rows first_call .. first_call + call_count - 1: the writer inserts
    # them together, so no index on ``calls.file_id`` is needed (it was 2.45 MiB of Django's index).
    database["files"].create(
        {"id": int, "path": str, "lang": str, "sha256": str, "size": int, "mtime_ns": int, "lines": int, "is_test": int,
         "first_call": int, "call_count": int},
        pk="id", not_null={"path", "lang", "sha256", "first_call", "call_count"},
    )
    # ``parent`` as ``parent_stored`` encodes it: null when the qualname says it.
    database["symbols"].create(
        {"id": int, "file_id": int, "name": str, "lname": str, "qualname": str, "kind": str, "start_line": int,
         "end_line": int, "signature": str, "docstring": str, "parent": str},
        pk="id", foreign_keys=[("file_id", "files", "id")],
    )
    # ``text`` holds ``chunk_codec`` bytes; read it as ``chunk_text(text)``.
    database["chunks"].create(
        {"id": int, "file_id": int, "symbol_id": int, "start_line": int, "end_line": int, "kind": str,
         "names": str, "text": bytes},
        pk="id", foreign_keys=[("file_id", "files", "id"), ("symbol_id", "symbols", "id")],
    )
    # The zstd dictionary of the chunk text: no row when the repository was too small to train one.
    database["text_dictionary"].create({"data": bytes})
    # The parser's edges, one table per kind (a kind column and its index were 13 % of the edge bytes).
    # It also finds references (type uses), but no query reads them: they are not stored.
    # A call stores its name's id: Django's 183 k calls have 8.6 k distinct names, and the names as text
    # were 2.9 MiB of the table and its index. The writer looks names up as it goes, hence the index now.
    database["call_names"].create({"id": int, "name": str}, pk="id", not_null={"name"})
    database["call_names"].create_index(["name"], unique=True)
    # ``callee`` is the call as written, encoded by ``callee_stored`` (most calls are bare or ``receiver.name``).
    database["call_edges"].create(
        {"id": int, "file_id": int, "symbol_id": int, "name_id": int, "callee": str, "line": int},
        pk="id",
        foreign_keys=[("file_id", "files", "id"), ("symbol_id", "symbols", "id"), ("name_id", "call_names", "id")],
    )
    # What queries read: the calls with their names. SQLite flattens the view into the query, so
    # ``WHERE name = ?`` finds the name's id first, then its calls by ``idx_call_edges_name_id``.
    database.create_view("calls", """SELECT call_edges.id, file_id, symbol_id, name, callee, line
                                     FROM call_edges JOIN call_names ON call_names.id = call_edges.name_id""")
    # ``module``: what the statement imports from, null when it is the imported name itself (``import os``).
    database["imports"].create(
        {"id": int, "file_id": int, "symbol_id": int, "name": str, "module": str, "line": int},
        pk="id", foreign_keys=[("file_id", "files", "id"), ("symbol_id", "symbols", "id")],
    )
    # The names a test file imports, lowercase (``symbols.lname``): a test import links a test to a name.
    # Tests named after a name (``test_get_user``) are found in ``symbols`` (``testnames``), not stored.
    database["test_imports"].create({"file_id": int, "name": str}, foreign_keys=[("file_id", "files", "id")])
    # Contentless: the chunk text already lives in ``chunks``; the FTS table keeps only its inverted
    # index. A refresh deletes a row with FTS5's 'delete' command and the values the row was indexed
    # with (``analyze.fts_parts``). Not contentless_delete=1: its DELETE never takes the row out of
    # the averages bm25() divides by, so a refreshed index ranked unlike a fresh build of the same tree.
    database.execute(
        f"CREATE VIRTUAL TABLE chunks_fts USING fts5({', '.join(FTS_COLUMNS)}, tokenize=\"unicode61 tokenchars '_'\","
        " content='')"
    )
    # Document frequencies, used to pick the informative terms of a long query.
    database.execute("CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row')")
    database.execute(SKIPPED_FILES)


# Binary files a build read and left out, so that a refresh does not read them again while their size
# and mtime stay the same (Django: 1,384 files, most of a 1-file refresh's reads). Added
# after schema 2 shipped: a schema 2 index without it gets it on its next refresh (``IF NOT EXISTS``).
SKIPPED_FILES = """CREATE TABLE IF NOT EXISTS skipped_files
                   (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL)"""


def create_indexes(database: sqlite_utils.Database) -> None:
    """Create the b-tree indexes of ``create``'s tables (after the first bulk insert)."""
    database["files"].create_index(["path"], unique=True)
    database["symbols"].create_index(["lname"])
    database["symbols"].create_index(["file_id", "start_line"])
    database["chunks"].create_index(["file_id", "start_line"])
    database["call_edges"].create_index(["name_id"])
    database["imports"].create_index(["file_id"])
    database["test_imports"].create_index(["name"])
    database["test_imports"].create_index(["file_id"])


# The calls of the file ``f``, for a join ``files f JOIN calls e ON <this>`` (SQLite reads the id range).
FILE_CALLS = "e.id BETWEEN f.first_call AND f.first_call + f.call_count - 1"


def parent_stored(qualname: str, parent: str | None) -> str | None:
    """Return how ``symbols.parent`` stores a symbol's parent: null when it is what the qualname says
    (``Cart`` for ``Cart.total``, none for ``total``; most symbols), else the parent itself, or "" for
    none although the qualname is dotted (a Go method ``Recv.method`` at top level)."""
    if parent == (qualname.rpartition(".")[0] or None):
        return None
    return parent or ""


def parent_of(qualname: str, stored: str | None) -> str | None:
    """Return a symbol's parent from its ``symbols`` row: the inverse of ``parent_stored``."""
    if stored is None:
        return qualname.rpartition(".")[0] or None
    return stored or None


def callee_stored(name: str, callee: str) -> str | None:
    """Return how ``calls.callee`` stores a call of ``name`` written ``callee``: null for a bare call,
    the receiver with its dot for ``receiver.name`` (``grunt.``), else the text itself (a clipped one,
    which ends in "…": only a receiver ends in a dot, so ``callee_text`` can tell them apart)."""
    if callee == name:
        return None
    return callee[: -len(name)] if callee.endswith("." + name) else callee


def callee_text(name: str, stored: str | None) -> str:
    """Return the call as written from its ``calls`` row: the inverse of ``callee_stored``."""
    if stored is None:
        return name
    return stored + name if stored.endswith(".") else stored
