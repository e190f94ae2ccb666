"""The offline cache store: a SQLite file behind a Powertools idempotency persistence layer.

Powertools ships DynamoDB and Redis layers; a local file needs this one. It follows the DynamoDB
layer's semantics exactly, so the same decorator behaves the same offline: a put succeeds when no
record exists, the old one expired, or an in-progress record's lease ran out; otherwise it raises
``IdempotencyItemAlreadyExistsError`` carrying the existing record.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer, DataRecord

from .. import db
from ..errors import CacheUnavailable
from .cache_base import CacheStore

_COLUMNS = "id, status, expiry, in_progress_expiry, data, validation"


class SqlitePersistenceLayer(BasePersistenceLayer):
    """Idempotency records in one table of a SQLite file (WAL, so CLI processes can share it)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._conn = None

    @property
    def conn(self):
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

    def _get_record(self, idempotency_key: str) -> DataRecord:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM cache WHERE id = ?", (idempotency_key,)).fetchone()
        if row is None:
            raise IdempotencyItemNotFoundError
        return _record(row)

    def _put_record(self, data_record: DataRecord) -> None:
        conn = self.conn
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(f"SELECT {_COLUMNS} FROM cache WHERE id = ?", (data_record.idempotency_key,)).fetchone()
            if row is not None and not _replaceable(row):
                raise IdempotencyItemAlreadyExistsError(old_data_record=_record(row))
            conn.execute(
                f"INSERT OR REPLACE INTO cache ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (data_record.idempotency_key, data_record.status, data_record.expiry_timestamp,
                 data_record.in_progress_expiry_timestamp, data_record.response_data, data_record.payload_hash),
            )

    def _update_record(self, data_record: DataRecord) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE cache SET status = ?, expiry = ?, data = ?, validation = ? WHERE id = ?",
                (data_record.status, data_record.expiry_timestamp, data_record.response_data,
                 data_record.payload_hash, data_record.idempotency_key),
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM cache WHERE id = ?", (data_record.idempotency_key,))


def _record(row) -> DataRecord:
    key, status, expiry, in_progress_expiry, data, validation = row
    return DataRecord(idempotency_key=key, status=status, expiry_timestamp=expiry,
                      in_progress_expiry_timestamp=in_progress_expiry, response_data=data or "",
                      payload_hash=validation or "")


def _replaceable(row) -> bool:
    _, status, expiry, in_progress_expiry, _, _ = row
    now = time.time()
    if expiry is not None and expiry < int(now):
        return True
    return status == "INPROGRESS" and in_progress_expiry is not None and in_progress_expiry < int(now * 1000)


class SqliteCacheStore(CacheStore):
    """The local cache file, created by the first write: clearing, counting and pinging never create it."""

    def __init__(self, path: str | Path):
        self.layer = SqlitePersistenceLayer(Path(path))

    def persistence(self) -> SqlitePersistenceLayer:
        return self.layer

    def clear(self, prefix: str) -> int:
        if not self.layer.path.exists():
            return 0
        try:
            with self.layer.conn as conn:
                return conn.execute("DELETE FROM cache WHERE substr(id, 1, ?) = ?", (len(prefix), prefix)).rowcount
        except db.Error as exc:
            raise CacheUnavailable(f"cache file {self.layer.path}: {exc}") from exc

    def count(self, prefix: str) -> int:
        if not self.layer.path.exists():
            return 0
        try:
            return self.layer.conn.execute(
                "SELECT count(*) FROM cache WHERE substr(id, 1, ?) = ?", (len(prefix), prefix)
            ).fetchone()[0]
        except db.Error as exc:
            raise CacheUnavailable(f"cache file {self.layer.path}: {exc}") from exc

    def ping(self) -> str:
        path = self.layer.path
        if path.exists():
            self.count("")
            return str(path)
        # Not created yet: check that the first write could create it (the nearest existing directory is writable).
        parent = next(p for p in path.parents if p.exists())
        if not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
            raise CacheUnavailable(f"cache file {path}: cannot be created under {parent}")
        return f"{path} (created on first write)"
