"""The one way pampax opens SQLite: the same engine (pysqlite3's bundled SQLite) locally and in Lambda.

AWS's python3.11 runtime ships SQLite 3.7.17 without FTS5, so the core prefers the ``pysqlite3``
module (pysqlite3-binary wheels carry SQLite 3.5x with FTS5 and trigram); sqlite-utils makes the
same choice on its own. The stdlib module is used only where the wheel is missing and FTS5 works.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:  # pragma: no cover - which branch runs depends on the platform
    import pysqlite3.dbapi2 as sqlite3
except ImportError:  # pragma: no cover
    import sqlite3  # type: ignore[no-redef]

from .errors import EngineUnsupported, IndexCorrupt, IndexMissing

Error = sqlite3.Error
DatabaseError = sqlite3.DatabaseError
# Primary result codes that mean the file itself cannot be read: I/O error, corrupt page, not a database.
_UNREADABLE = {10, 11, 26}  # SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_NOTADB


def engine() -> str:
    """Return a label for the SQLite engine in use, e.g. ``pysqlite3 3.51.1``."""
    return f"{sqlite3.__name__.split('.')[0]} {sqlite3.sqlite_version}"


def is_unreadable(exc: BaseException) -> bool:
    """Return whether a SQLite error says the database file is damaged, rather than the statement wrong."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, DatabaseError) and code is not None and code & 0xFF in _UNREADABLE


def is_wal(path: Path) -> bool:
    """Return whether a database file is in WAL mode (header bytes 18-19 are 2, 2; 1, 1 for a rollback journal)."""
    with open(path, "rb") as handle:
        header = handle.read(20)
    return header.startswith(b"SQLite format 3\0") and header[18:20] == b"\x02\x02"


def sidecars(path: Path) -> tuple[Path, Path]:
    """Return the -wal and -shm files SQLite keeps beside a WAL database."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


@contextmanager
def self_contained(path: Path) -> Iterator[Path]:
    """Yield a rollback-journal file holding ``path``'s last committed snapshot: the file itself when it is not
    WAL, else a private copy beside it, deleted afterwards.

    A published artifact ships alone (its -wal would stay behind) and is opened ``immutable``, which a WAL
    database in use must never be. The copy is a ``VACUUM INTO``: what refreshes in place left behind
    (free pages, half-empty b-tree pages) does not ship (Django after ``index --full`` in place: 94 MB
    file, 67 MB copy).
    """
    if not path.is_file() or not is_wal(path):
        yield path  # nothing to export; the caller's own checks name a missing file
        return
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".export")
    os.close(handle)
    copy = Path(name)
    try:
        source = sqlite3.connect(str(path))
        try:
            source.execute("VACUUM INTO ?", (name,))  # one consistent snapshot, while writers may go on
        finally:
            source.close()
        target = sqlite3.connect(name)
        try:
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        yield copy
    finally:
        copy.unlink(missing_ok=True)


@functools.cache
def _check_fts5() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(x)")
    except sqlite3.OperationalError as exc:
        raise EngineUnsupported(f"SQLite {sqlite3.sqlite_version} has no FTS5; install pysqlite3-binary") from exc
    finally:
        conn.close()


def connect(path: str | Path, *, readonly: bool = False, frozen: bool = False) -> sqlite3.Connection:
    """Return a connection to ``path``; read-only connections use ``immutable`` URIs.

    ``frozen`` opens a WAL index immutable too, writing nothing beside it (no -wal, -shm): for an
    index another process owns and nobody writes while it is read (a benchmark's shared indexes).

    Raises ``IndexMissing`` when a read-only open finds no file, ``IndexCorrupt`` when the file is
    not a SQLite database, ``EngineUnsupported`` when the engine has no FTS5.
    """
    _check_fts5()
    path = Path(path)
    if readonly and not path.is_file():
        raise IndexMissing(f"no index at {path}: run `pampax index` first")
    if readonly and (frozen or not is_wal(path)):
        # immutable=1: a rollback-journal index is never written in place (local indexes are WAL; published
        # artifacts are exported from them), so SQLite may skip locking and change detection on every read.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    else:
        # A WAL index may be refreshed in place while it is read. A read-write connection that never writes
        # (query_only) sees each committed snapshot and, unlike mode=ro, removes the -wal and -shm files
        # when it is the last one to close.
        conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        conn.execute("PRAGMA mmap_size = 268435456")
        if readonly:
            conn.execute("PRAGMA query_only = 1")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except DatabaseError as exc:
        conn.close()
        raise IndexCorrupt(f"{path} is not a readable SQLite database: {exc}") from exc
    return conn
