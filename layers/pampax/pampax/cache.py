"""A read-through cache for search results and bundles, built on Powertools idempotency.

The key is the hash Powertools takes of ``{format, version, generation, scope, request, settings}``: a new
index generation or a new pampax release never reads an old entry, and ``CACHE_FORMAT`` orphans
entries when the cached shape changes. A failing store never fails a request: the call runs
uncached and the failure is logged and counted as ``cache_unavailable``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from . import __version__
from .config import CacheSettings
from .observability import Telemetry
from .stores.cache_base import CacheStore

# Bump when a cached response's shape changes meaning.
CACHE_FORMAT = 3  # 2: tokens.used counts the Markdown header too; 3: responses explain the intent

R = TypeVar("R", bound=BaseModel)
# How long an in-progress entry blocks identical requests outside Lambda: a crashed computation's
# entry becomes replaceable after this, instead of after the whole TTL.
COMPUTE_LEASE_MS = 60_000


class _Lease:
    """Stands in for a Lambda context outside Lambda: Powertools asks it how long a computation may take."""

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return COMPUTE_LEASE_MS


def scope_prefix(scope: str) -> str:
    """Return the key prefix of a scope's entries: ``pampax-<format>:<scope>``."""
    return f"pampax-{CACHE_FORMAT}:{scope}"


class ReadThroughCache:
    """Serves repeated requests from a ``CacheStore``; ``fetch`` tells whether it was a hit."""

    def __init__(self, store: CacheStore, settings: CacheSettings, telemetry: Telemetry):
        self.store = store
        self.settings = settings
        self.telemetry = telemetry
        self._config = None
        self._context = _Lease()

    @property
    def config(self):
        """Powertools' idempotency config, made on first use (see ``fetch`` for why imports wait)."""
        if self._config is None:
            from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

            # Local LRU too: a warm Lambda answers its own repeats without a DynamoDB round trip.
            self._config = IdempotencyConfig(expires_after_seconds=self.settings.ttl_seconds, use_local_cache=True,
                                             local_cache_max_items=1024)
            self._config.register_lambda_context(self._context)
        return self._config

    def register_lambda_context(self, context) -> None:
        """Bound in-progress entries by the invocation's remaining time (call once per Lambda invocation)."""
        self._context = context
        if self._config is not None:
            self._config.register_lambda_context(context)

    def fetch(self, scope: str, generation: str, request: BaseModel, compute: Callable[[], R],
              model: type[R], settings: BaseModel | None = None) -> tuple[R, bool]:
        """Return ``(response, hit)``; ``compute`` runs only on a miss or when the store fails.

        ``settings`` are the configuration values that shape the response (e.g. ``search.max_terms``):
        part of the key, so a config change never serves answers computed under the old one.
        """
        if not self.settings.enabled:
            return compute(), False
        # Imported here: Powertools' idempotency package imports boto3 (~350 ms), which a CLI run
        # with the cache disabled should not pay for.
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
        from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

        computed: list[R] = []
        failure: list[BaseException] = []

        def uncached(key: dict):  # noqa: ARG001 - the key is what Powertools hashes
            try:
                computed.append(compute())
            except BaseException as exc:  # remembered so a compute error is not mistaken for a store error
                failure.append(exc)
                raise
            return computed[0]

        wrapped = idempotent_function(
            uncached, data_keyword_argument="key", persistence_store=self.store.persistence(), config=self.config,
            output_serializer=PydanticSerializer(model=model), key_prefix=scope_prefix(scope),
        )
        key = {"format": CACHE_FORMAT, "version": __version__, "generation": generation, "scope": scope,
               "request": request.model_dump(mode="json"),
               "settings": settings.model_dump(mode="json") if settings is not None else None}
        try:
            response = wrapped(key=key)
        except IdempotencyAlreadyInProgressError:
            return compute(), False  # an identical request is being computed right now: don't wait for it
        except Exception as exc:
            if failure:
                raise failure[0] from None
            self.telemetry.count_error("cache_unavailable", f"cache bypassed: {type(exc).__name__}: {exc}", op=scope)
            return (computed[0] if computed else compute()), False
        return response, not computed

    def clear(self, scope: str | None = None) -> int:
        """Delete the entries of ``scope`` (all pampax entries when None); return how many."""
        prefix = scope_prefix(scope) if scope else f"pampax-{CACHE_FORMAT}:"
        return self.store.clear(prefix)
