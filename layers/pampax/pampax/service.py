"""The core's one entry point for adapters: every operation timed, logged, metered and cached.

The CLI, the local HTTP harness and the Lambda handlers all hold a ``Service`` and call its
methods with request models; they differ only in how they provide the index (opened per command,
or the warm process's shared generation), where the cache lives and where telemetry goes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from contextlib import AbstractContextManager
from datetime import datetime

from . import __version__, db
from .assemble import assemble
from .cache import ReadThroughCache
from .config import Config
from .errors import IndexCorrupt, PampaxError, error_for
from .filters import check_filters
from .graph import popular_names
from .index import Index
from .models import (
    AssembleRequest,
    AssembleResponse,
    CacheClearReport,
    CacheClearRequest,
    CacheWarmReport,
    CacheWarmRequest,
    HealthCheck,
    HealthReport,
    SearchRequest,
    SearchResponse,
)
from .observability import Telemetry
from .search import search

IndexProvider = Callable[[], AbstractContextManager[Index]]
# Checks whose failure leaves requests answered: the cache is bypassed, an older generation serves.
_DEGRADING = frozenset({"cache", "artifacts"})
# Queries ``cache warm`` replays when given none: the most-called names an agent is likely to ask about.
WARM_DEFAULT_QUERIES = 50


class Service:
    def __init__(self, config: Config, index: IndexProvider, telemetry: Telemetry, cache: ReadThroughCache):
        self.config = config
        self.index = index
        self.telemetry = telemetry
        self.cache = cache

    def search(self, request: SearchRequest) -> SearchResponse:
        """Return the hits of ``request``, from the cache when an identical request was answered.

        Raises ``InvalidArgument`` for a lang or kind the index holds nowhere (``pampax.filters``).
        """
        with self.telemetry.operation("search") as op, self.index() as index:
            check_filters(index, request)
            response = self._cached(op, index, "search", request, lambda: search(index, request, self.config.search),
                                    SearchResponse)
            op.describe(request.query, len(response.results), response.terms,
                        response.explain.intent if response.explain else None)
            return response

    def assemble(self, request: AssembleRequest) -> AssembleResponse:
        """Return the bundle of ``request``, from the cache when an identical request was answered.

        Raises ``InvalidArgument`` for a lang or kind the index holds nowhere, as ``search`` does.
        """
        with self.telemetry.operation("assemble") as op, self.index() as index:
            check_filters(index, request)
            bundle = self._cached(op, index, "bundle", request, lambda: assemble(index, request, self.config.search),
                                  AssembleResponse)
            op.describe(request.query, len(bundle.items), intent=bundle.explain.intent if bundle.explain else None)
            return bundle

    def warm(self, request: CacheWarmRequest) -> CacheWarmReport:
        """Replay queries (given, or the index's most-called names) as searches and bundles."""
        with self.telemetry.operation("cache_warm"), self.index() as index:
            queries = list(request.queries) or popular_names(index, WARM_DEFAULT_QUERIES)
            written = hits = 0
            for query in queries:
                for scope, model, compute, response_type in (
                    ("search", SearchRequest(query=query, limit=self.config.search.limit),
                     lambda r: search(index, r, self.config.search), SearchResponse),
                    ("bundle", AssembleRequest(query=query, budget=request.budget, seeds=self.config.assemble.seeds,
                                               max_items=self.config.assemble.max_items),
                     lambda r: assemble(index, r, self.config.search), AssembleResponse),
                ):
                    try:
                        _, hit = self.cache.fetch(scope, index.generation, model, partial(compute, model), response_type,
                                                 self.config.search)
                    except PampaxError:
                        continue  # a query the index cannot answer (e.g. empty) warms nothing
                    hits += hit
                    written += not hit
            return CacheWarmReport(generation=index.generation, queries=len(queries), written=written, hits=hits)

    def clear(self, request: CacheClearRequest) -> CacheClearReport:
        """Delete cached entries of one scope, or all of them."""
        with self.telemetry.operation("cache_clear"):
            scope = None if request.scope == "all" else request.scope
            return CacheClearReport(scope=request.scope, removed=self.cache.clear(scope))

    def health(self, config_error: PampaxError | None = None, artifact_pointer: Callable[[], str] | None = None) -> HealthReport:
        """Return the health report: config, index, cache store and (when configured) the artifact pointer.

        Never raises: every failure becomes a failed check naming its error kind. The status is
        ``degraded`` when the index answers but another check failed (a bypassed cache, a broken
        current pointer while an older generation serves), else ``unhealthy``.
        """
        with self.telemetry.operation("health") as op:
            checks = [HealthCheck(name="config", ok=config_error is None,
                                  detail=config_error.message if config_error else "valid",
                                  err_kind=config_error.kind if config_error else None)]
            generation = age = None
            try:
                with self.index() as index:
                    generation = index.generation
                    age = _age_seconds(index.meta.get("built_at"))
                    problem = index.query("PRAGMA quick_check")[0][0]
                    if problem != "ok":
                        raise IndexCorrupt(f"{index.path}: quick_check says {problem}")
                    checks.append(HealthCheck(name="index", ok=True, detail=f"{index.path} generation {generation}"))
            except PampaxError as error:
                checks.append(HealthCheck(name="index", ok=False, detail=error.message, err_kind=error.kind))
            checks.append(_check("cache", self.cache.store.ping))
            if artifact_pointer is not None:
                checks.append(_check("artifacts", artifact_pointer))
            failed = [c for c in checks if not c.ok]
            status = "healthy" if not failed else "degraded" if all(c.name in _DEGRADING for c in failed) else "unhealthy"
            if failed:
                op.problem = error_for(failed[0].err_kind or "internal", f"{failed[0].name}: {failed[0].detail}")
                op.degraded = status == "degraded"
            return HealthReport(status=status, version=__version__, engine=db.engine(), generation=generation,
                                index_age_seconds=age, checks=checks)

    def _cached(self, op, index: Index, scope: str, request, compute, model):
        index.sqlite_ms = 0.0
        response, hit = self.cache.fetch(scope, index.generation, request, compute, model, self.config.search)
        op.cache_hit = hit if self.cache.settings.enabled else None  # an uncached answer is no miss
        if not hit:
            op.sqlite_ms = index.sqlite_ms
        return response


def _check(name: str, probe: Callable[[], str]) -> HealthCheck:
    try:
        return HealthCheck(name=name, ok=True, detail=probe())
    except PampaxError as error:
        return HealthCheck(name=name, ok=False, detail=error.message, err_kind=error.kind)


def _age_seconds(built_at: str | None) -> int | None:
    if not built_at:
        return None
    return int(time.time() - datetime.fromisoformat(built_at).timestamp())

