"""The Service facade: cache hits through it, sqlite timing, health checks and their error kinds."""

import io
import uuid

import pytest

from pampax.cache import ReadThroughCache
from pampax.config import CacheSettings, Config, ObservabilitySettings
from pampax.errors import ConfigInvalid, InvalidArgument, StoreUnavailable
from pampax.index import open_index
from pampax.models import AssembleRequest, CacheClearRequest, CacheWarmRequest, SearchRequest
from pampax.observability import MetricsSink, Telemetry, make_logger
from pampax.service import Service
from pampax.stores.sqlite_cache import SqliteCacheStore


def _service(index_path, cache_path, metrics=None):
    settings = ObservabilitySettings(service=f"svc-{uuid.uuid4().hex[:8]}")
    telemetry = Telemetry(settings, make_logger(settings, "test", io.StringIO()), MetricsSink(stream=metrics or io.StringIO()))
    cache = ReadThroughCache(SqliteCacheStore(cache_path), CacheSettings(), telemetry)
    return Service(Config(), lambda: open_index(index_path), telemetry, cache)


def test_repeated_requests_are_served_from_cache(shop_index_path, tmp_path):
    metrics = io.StringIO()
    service = _service(shop_index_path, tmp_path / "cache.db", metrics)
    request = SearchRequest(query="get_user_by_id")
    first, second = service.search(request), service.search(request)
    assert first == second
    ratios = [line for line in metrics.getvalue().splitlines() if "cache_hit_ratio" in line]
    assert '"cache_hit_ratio":[0.0]' in ratios[0] and '"cache_hit_ratio":[100.0]' in ratios[1]
    # sqlite time is reported on the miss only
    assert '"sqlite_read_ms"' in ratios[0] and '"sqlite_read_ms"' not in ratios[1]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"langs": ("pyhton",)}, "langs: no lang 'pyhton' in this index; it has: javascript, markdown, python, text, typescript"),
        ({"langs": ("python", "Python")}, "langs: no lang 'Python' in this index; it has: javascript, markdown, python, text, typescript"),
        ({"kinds": ("funtion",)}, "kinds: no kind 'funtion' in this index; it has: "),
    ],
)
def test_a_filter_value_the_index_never_holds_is_refused_naming_those_it_does(shop_index_path, tmp_path, filters,
                                                                             message):
    service = _service(shop_index_path, tmp_path / "cache.db")
    with pytest.raises(InvalidArgument) as refused:
        service.search(SearchRequest(query="get_user_by_id", **filters))
    assert refused.value.message.startswith(message)
    if "kinds" in filters:
        assert {"class", "function"} <= set(refused.value.message.split(": ")[-1].split(", "))
    # AND values the index holds filter as before
    hits = service.search(SearchRequest(query="get_user_by_id", langs=("python",), kinds=("function",))).results
    assert hits and all((h.lang, h.kind) == ("python", "function") for h in hits)


def test_warm_then_clear(shop_index_path, tmp_path):
    service = _service(shop_index_path, tmp_path / "cache.db")
    report = service.warm(CacheWarmRequest())
    assert report.queries > 0 and report.written == 2 * report.queries and report.hits == 0
    again = service.warm(CacheWarmRequest())
    assert again.hits == 2 * report.queries and again.written == 0
    assert service.clear(CacheClearRequest(scope="bundle")).removed == report.queries
    assert service.clear(CacheClearRequest()).removed == report.queries


def test_warm_with_given_queries_then_assemble_hits(shop_index_path, tmp_path):
    service = _service(shop_index_path, tmp_path / "cache.db")
    service.warm(CacheWarmRequest(queries=("QuerySet",), budget=8000))
    compute_free = service.cache.store.count("")
    service.assemble(AssembleRequest(query="QuerySet", budget=8000))
    assert service.cache.store.count("") == compute_free  # the bundle came from the cache


def test_health_is_healthy_on_a_good_index(shop_index_path, tmp_path):
    report = _service(shop_index_path, tmp_path / "cache.db").health()
    assert report.status == "healthy"
    assert [c.name for c in report.checks] == ["config", "index", "cache"]
    assert report.generation and report.index_age_seconds is not None and report.index_age_seconds >= 0


@pytest.mark.parametrize(
    ("breakage", "check", "kind"),
    [("no_index", "index", "index_missing"), ("corrupt_index", "index", "index_corrupt"),
     ("bad_cache", "cache", "cache_unavailable"), ("bad_config", "config", "config_invalid"),
     ("bad_artifacts", "artifacts", "store_unavailable")],
)
def test_health_names_the_failed_check_and_kind(shop_index_path, tmp_path, breakage, check, kind):
    index_path, cache_path = shop_index_path, tmp_path / "cache.db"
    if breakage == "no_index":
        index_path = tmp_path / "none.db"
    elif breakage == "corrupt_index":
        index_path = tmp_path / "corrupt.db"
        index_path.write_bytes(b"garbage" * 1000)
    elif breakage == "bad_cache":
        cache_path.write_bytes(b"garbage" * 1000)
    error = ConfigInvalid("search.limit: bad (from env:PAMPAX_SEARCH_LIMIT)") if breakage == "bad_config" else None

    def pointer():
        raise StoreUnavailable("s3 down")

    report = _service(index_path, cache_path).health(
        config_error=error, artifact_pointer=pointer if breakage == "bad_artifacts" else None)
    # the index still answers when only the cache or the artifact pointer fails: degraded, not unhealthy
    assert report.status == ("degraded" if check in ("cache", "artifacts") else "unhealthy")
    failed = [c for c in report.checks if not c.ok]
    assert [(c.name, c.err_kind) for c in failed] == [(check, kind)]
