"""The offline cache store: one table in a SQLite file (WAL, so CLI processes can share it).

The store owns the file; Powertools reads and writes it through ``SqlitePersistenceLayer``
(``sqlite_idempotency.py``), loaded on first use: Powertools' idempotency package imports boto3,
which pinging or clearing the cache should not pay for.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import db
from ..errors import CacheUnavailable
from .cache_base import CacheStore


class SqliteCacheStore(CacheStore):
    """The local cache file, created by the first write: clearing, counting and pinging never create it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._conn = None
        self._layer = None

    @property
    def conn(self):
        """The file's connection, opened (and the file and table created) on first use."""
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CacheUnavailable(f"cache file {self.path}: {exc.strerror or exc}") from exc
            conn = db.connect(self.path)
            conn.execute("PRAGMA busy_timeout = 2000")
            conn.execute("PRAGMA journal_mode = WAL")
            # Plain DDL rather than sqlite-utils: importing it would cost every cold CLI call ~70 ms.
            conn.execute(
                "CREATE TABLE IF NOT EXISTS cache (id TEXT PRIMARY KEY, status TEXT, expiry INTEGER,"
                " in_progress_expiry INTEGER, data TEXT, validation TEXT)"
            )
            self._conn = conn
        return self._conn

    def persistence(self):
        if self._layer is None:
            from .sqlite_idempotency import SqlitePersistenceLayer

            self._layer = SqlitePersistenceLayer(self)
        return self._layer

    def clear(self, prefix: str) -> int:
        if not self.path.exists():
            return 0
        try:
            with self.conn as conn:
                return conn.execute("DELETE FROM cache WHERE substr(id, 1, ?) = ?", (len(prefix), prefix)).rowcount
        except db.Error as exc:
            raise CacheUnavailable(f"cache file {self.path}: {exc}") from exc

    def count(self, prefix: str) -> int:
        if not self.path.exists():
            return 0
        try:
            return self.conn.execute(
                "SELECT count(*) FROM cache WHERE substr(id, 1, ?) = ?", (len(prefix), prefix)
            ).fetchone()[0]
        except db.Error as exc:
            raise CacheUnavailable(f"cache file {self.path}: {exc}") from exc

    def ping(self) -> str:
        path = self.path
        if path.exists():
            self.count("")
            return str(path)
        # Not created yet: check that the first write could create it (the nearest existing directory is writable).
        parent = next(p for p in path.parents if p.exists())
        if not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
            raise CacheUnavailable(f"cache file {path}: cannot be created under {parent}")
        return f"{path} (created on first write)"
