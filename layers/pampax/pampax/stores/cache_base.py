"""The cache store port: where cached responses live (a local SQLite file or a DynamoDB table).

The read-through logic itself is Powertools idempotency (``pampax.cache``); a store only supplies
its persistence layer and the two operations idempotency has no word for: clearing a scope and
answering a health ping.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer


class CacheStore(ABC):
    """A place for cached responses, keyed ``<prefix>#<hash>`` by Powertools idempotency."""

    @abstractmethod
    def persistence(self) -> BasePersistenceLayer:
        """Return the idempotency persistence layer backed by this store."""

    @abstractmethod
    def clear(self, prefix: str) -> int:
        """Delete every entry whose key starts with ``prefix``; return how many. Raises ``CacheUnavailable``."""

    @abstractmethod
    def count(self, prefix: str) -> int:
        """Return how many entries' keys start with ``prefix``. Raises ``CacheUnavailable``."""

    @abstractmethod
    def ping(self) -> str:
        """Return where the store is, after checking it answers. Raises ``CacheUnavailable``."""
