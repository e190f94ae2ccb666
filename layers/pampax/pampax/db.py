"""The one way pampax opens SQLite: the same engine (pysqlite3's bundled SQLite) locally and in Lambda.

AWS's python3.11 runtime ships SQLite 3.7.17 without FTS5, so the core prefers the ``pysqlite3``
module (pysqlite3-binary wheels carry SQLite 3.5x with FTS5 and trigram); sqlite-utils makes the
same choice on its own. The stdlib module is used only where the wheel is missing and FTS5 works.
"""

from __future__ import annotations

import functools
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


def supports_contentless_delete() -> bool:
    """Return whether FTS5 ``contentless_delete`` exists (SQLite >= 3.43), which keeps the FTS table lean."""
    return sqlite3.sqlite_version_info >= (3, 43, 0)


@functools.cache
def _check_fts5() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(x)")
    except sqlite3.OperationalError as exc:
        raise EngineUnsupported(f"SQLite {sqlite3.sqlite_version} has no FTS5; install pysqlite3-binary") from exc
    finally:
        conn.close()


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Return a connection to ``path``; read-only connections use ``immutable`` URIs.

    Raises ``IndexMissing`` when a read-only open finds no file, ``IndexCorrupt`` when the file is
    not a SQLite database, ``EngineUnsupported`` when the engine has no FTS5.
    """
    _check_fts5()
    path = Path(path)
    if readonly:
        if not path.is_file():
            raise IndexMissing(f"no index at {path}: run `pampax index` first")
        # immutable=1: the index is never written in place (builds are swapped in atomically), so
        # SQLite may skip locking and change detection on every read.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        conn.execute("PRAGMA mmap_size = 268435456")
        if readonly:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except DatabaseError as exc:
        conn.close()
        raise IndexCorrupt(f"{path} is not a readable SQLite database: {exc}") from exc
    return conn
