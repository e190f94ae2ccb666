"""Powertools idempotency over the offline cache file (``SqliteCacheStore``).

Powertools ships DynamoDB and Redis layers; a local file needs this one. It follows the DynamoDB
layer's semantics exactly, so the same decorator behaves the same offline: a put succeeds when no
record exists, the old one expired, or an in-progress record's lease ran out; otherwise it raises
``IdempotencyItemAlreadyExistsError`` carrying the existing record.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer, DataRecord

if TYPE_CHECKING:
    from .sqlite_cache import SqliteCacheStore

_COLUMNS = "id, status, expiry, in_progress_expiry, data, validation"


class SqlitePersistenceLayer(BasePersistenceLayer):
    """Idempotency records in the ``cache`` table of a ``SqliteCacheStore``."""

    def __init__(self, store: SqliteCacheStore):
        super().__init__()
        self.store = store

    @property
    def conn(self):
        return self.store.conn

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
