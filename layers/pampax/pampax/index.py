"""Open a built index read-only: the one type search and assemble read through.

Builds live in ``build.py``; this module stays free of the parser and writer imports, so a
process that only answers queries starts fast.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import chunk_codec, db, schema
from .errors import IndexCorrupt, IndexMissing

DEFAULT_INDEX = Path(".pampax") / "index.db"


def default_index_path(root: Path) -> Path:
    return root / DEFAULT_INDEX


class Index:
    """A read-only, open index: its connection and its meta (generation, versions).

    Chunk text is stored compressed: queries read it as ``chunk_text(c.text)`` (``chunk_codec``).
    """

    def __init__(self, path: str | Path, frozen: bool = False):
        self.path = Path(path)
        self.sqlite_ms = 0.0
        self._memo: dict[str, object] = {}
        self.conn = db.connect(self.path, readonly=True, frozen=frozen)
        try:
            self.meta = self._read_meta()
            if self.meta.get("schema_version") == str(schema.SCHEMA_VERSION):
                row = self.conn.execute("SELECT data FROM text_dictionary").fetchone()
                chunk_codec.register(self.conn, row[0] if row else None)
        except db.Error as exc:
            self.conn.close()
            raise IndexCorrupt(f"{self.path} is not a pampax index: {exc}") from exc
        version = self.meta.get("schema_version")
        if version != str(schema.SCHEMA_VERSION):
            self.conn.close()
            if version is None:  # another tool's meta table, or pages damaged under it
                raise IndexCorrupt(f"{self.path} is not a pampax index (its meta table names no schema version):"
                                   " run `pampax index` again")
            raise IndexCorrupt(f"{self.path} has schema {version}, this pampax reads {schema.SCHEMA_VERSION}:"
                               " run `pampax index` again")

    @property
    def generation(self) -> str:
        return self.meta["generation"]

    @contextmanager
    def snapshot(self) -> Iterator[Index]:
        """Hold one read transaction: every query inside sees one generation, even while a refresh commits.

        For a connection kept open across requests (``live.LiveIndex``): ``meta`` is re-read inside the
        transaction, so the generation an answer reports is the one its rows came from.
        """
        self.conn.execute("BEGIN")
        try:
            meta = self._read_meta()
            if meta.get("generation") != self.meta.get("generation"):
                self._memo.clear()  # a refresh committed: what was derived from the old rows is stale
            self.meta = meta
            yield self
        finally:
            self.conn.execute("COMMIT")

    def _read_meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """Return all rows of a read query, adding its time to ``sqlite_ms`` (the ``sqlite_read_ms`` metric).

        Raises ``IndexCorrupt`` when SQLite finds the file damaged, whichever query reached the bad page.
        """
        started = time.perf_counter()
        try:
            return self.conn.execute(sql, params).fetchall()
        except db.DatabaseError as exc:
            if db.is_unreadable(exc):
                raise IndexCorrupt(f"{self.path} is unreadable: {exc}") from exc
            if str(exc) == chunk_codec.FAILED:  # the only SQL function here decodes stored chunk bytes
                raise IndexCorrupt(f"{self.path}: a chunk's stored text cannot be decoded") from exc
            raise
        finally:
            self.sqlite_ms += (time.perf_counter() - started) * 1000

    def memo(self, key: str, compute):
        """Return ``compute()``, computed once per generation of this open index."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_index(path: str | Path, frozen: bool = False) -> Index:
    """Return the index at ``path`` opened read-only (``frozen``: see ``db.connect``). Raises ``IndexMissing`` or ``IndexCorrupt``."""
    if not Path(path).exists():
        raise IndexMissing(f"no index at {path}: run `pampax index` first")
    return Index(path, frozen)
