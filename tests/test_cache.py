"""The read-through cache on both persistence layers: hit, miss, expiry, invalidation, failures."""

import io
import json
import uuid

import boto3
import pytest
from moto import mock_aws

from pampax.cache import ReadThroughCache, scope_prefix
from pampax.config import CacheSettings, ObservabilitySettings, SearchSettings
from pampax.errors import InvalidArgument
from pampax.models import SearchRequest, SearchResponse
from pampax.observability import MetricsSink, Telemetry, make_logger
from pampax.stores.dynamodb import DynamoCacheStore
from pampax.stores.sqlite_cache import SqliteCacheStore


@pytest.fixture
def telemetry_buffer():
    buffer = io.StringIO()
    # A service of its own: Powertools configures one logger per service name and process.
    settings = ObservabilitySettings(log_level="INFO", service=f"test-{uuid.uuid4().hex}")
    return Telemetry(settings, make_logger(settings, "test", buffer), MetricsSink(stream=buffer)), buffer


@pytest.fixture(params=["sqlite", "dynamodb"])
def make_store(request, tmp_path):
    """A factory of stores over the same backing data (a new instance = a new process)."""
    if request.param == "sqlite":
        yield lambda: SqliteCacheStore(tmp_path / "cache.db")
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="cache", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        yield lambda: DynamoCacheStore(client, "cache")


def _response(query="q", generation="g1"):
    return SearchResponse(query=query, generation=generation, terms=[query], results=[])


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self, query="q", generation="g1"):
        self.calls += 1
        return _response(query, generation)


def test_second_identical_request_is_a_hit(make_store, telemetry_buffer):
    # GIVEN a cache and a computation that counts its calls
    cache = ReadThroughCache(make_store(), CacheSettings(), telemetry_buffer[0])
    compute = Counter()
    request = SearchRequest(query="QuerySet")
    # WHEN the same request is fetched twice
    first = cache.fetch("search", "g1", request, compute, SearchResponse)
    second = cache.fetch("search", "g1", request, compute, SearchResponse)
    # THEN the first is a miss, the second a hit with an equal response, and compute ran once
    assert first == (_response(), False)
    assert second == (_response(), True)
    assert compute.calls == 1


def test_hit_survives_a_new_process(make_store, telemetry_buffer):
    request = SearchRequest(query="QuerySet")
    ReadThroughCache(make_store(), CacheSettings(), telemetry_buffer[0]).fetch("search", "g1", request, Counter(), SearchResponse)
    compute = Counter()
    _, hit = ReadThroughCache(make_store(), CacheSettings(), telemetry_buffer[0]).fetch("search", "g1", request, compute, SearchResponse)
    assert hit and compute.calls == 0


@pytest.mark.parametrize(
    "change",
    [
        {"generation": "g2"},
        {"request": SearchRequest(query="QuerySet", limit=3)},
        {"scope": "bundle"},
        {"settings": SearchSettings(max_terms=5)},
    ],
)
def test_key_covers_generation_request_scope_and_settings(make_store, telemetry_buffer, change):
    cache = ReadThroughCache(make_store(), CacheSettings(), telemetry_buffer[0])
    base = {"scope": "search", "generation": "g1", "request": SearchRequest(query="QuerySet"),
            "settings": SearchSettings()}
    cache.fetch(base["scope"], base["generation"], base["request"], Counter(), SearchResponse, base["settings"])
    changed = base | change
    compute = Counter()
    _, hit = cache.fetch(changed["scope"], changed["generation"], changed["request"], compute, SearchResponse,
                         changed["settings"])
    assert not hit and compute.calls == 1


def test_release_changes_the_key(make_store, telemetry_buffer, monkeypatch):
    cache = ReadThroughCache(make_store(), CacheSettings(), telemetry_buffer[0])
    request = SearchRequest(query="x")
    cache.fetch("search", "g1", request, Counter(), SearchResponse)
    monkeypatch.setattr("pampax.cache.__version__", "9.9.9")
    compute = Counter()
    assert cache.fetch("search", "g1", request, compute, SearchResponse)[1] is False


def test_expired_entries_are_recomputed(make_store, telemetry_buffer):
    store = make_store()
    request = SearchRequest(query="x")
    ReadThroughCache(store, CacheSettings(ttl_seconds=1), telemetry_buffer[0]).fetch("search", "g1", request, Counter(), SearchResponse)
    # WHEN the entry's expiry has passed (rewritten in the store, as time would)
    if isinstance(store, SqliteCacheStore):
        with store.conn as conn:
            conn.execute("UPDATE cache SET expiry = 1")
    else:
        for item in store.client.scan(TableName="cache")["Items"]:
            store.client.update_item(TableName="cache", Key={"id": item["id"]},
                                     UpdateExpression="SET expiration = :e", ExpressionAttributeValues={":e": {"N": "1"}})
    # THEN a fresh process recomputes
    compute = Counter()
    _, hit = ReadThroughCache(make_store(), CacheSettings(ttl_seconds=1), telemetry_buffer[0]).fetch(
        "search", "g1", request, compute, SearchResponse)
    assert not hit and compute.calls == 1


def test_clear_by_scope_counts_what_it_removed(make_store, telemetry_buffer):
    cache = ReadThroughCache(make_store(), CacheSettings(), telemetry_buffer[0])
    for query in ("a", "b", "c"):
        cache.fetch("search", "g1", SearchRequest(query=query), Counter(), SearchResponse)
    cache.fetch("bundle", "g1", SearchRequest(query="a"), Counter(), SearchResponse)
    assert cache.store.count(scope_prefix("search")) == 3
    assert cache.clear("search") == 3
    assert cache.clear() == 1
    assert cache.clear() == 0


def test_compute_errors_propagate_and_are_not_cache_errors(make_store, telemetry_buffer):
    telemetry, buffer = telemetry_buffer
    cache = ReadThroughCache(make_store(), CacheSettings(), telemetry)

    def fail():
        raise InvalidArgument("query is empty")

    with pytest.raises(InvalidArgument):
        cache.fetch("search", "g1", SearchRequest(query=" "), fail, SearchResponse)
    assert "cache_unavailable" not in buffer.getvalue()


def test_disabled_cache_always_computes(make_store, telemetry_buffer):
    cache = ReadThroughCache(make_store(), CacheSettings(enabled=False), telemetry_buffer[0])
    compute = Counter()
    for _ in range(2):
        assert cache.fetch("search", "g1", SearchRequest(query="x"), compute, SearchResponse)[1] is False
    assert compute.calls == 2


def _assert_bypassed(result, compute, buffer):
    assert result == (_response(), False) and compute.calls == 1
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert any(line.get("err_kind") == "cache_unavailable" and line.get("status") == "degraded" for line in lines)
    assert any(line.get("kind") == "cache_unavailable" and line.get("errors_total") == [1.0] for line in lines)


def test_corrupt_local_cache_file_bypasses(tmp_path, telemetry_buffer):
    telemetry, buffer = telemetry_buffer
    (tmp_path / "cache.db").write_bytes(b"not a database" * 500)
    cache = ReadThroughCache(SqliteCacheStore(tmp_path / "cache.db"), CacheSettings(), telemetry)
    compute = Counter()
    _assert_bypassed(cache.fetch("search", "g1", SearchRequest(query="q"), compute, SearchResponse), compute, buffer)


def test_missing_dynamodb_table_bypasses(telemetry_buffer):
    telemetry, buffer = telemetry_buffer
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        cache = ReadThroughCache(DynamoCacheStore(client, "no-such-table"), CacheSettings(), telemetry)
        compute = Counter()
        _assert_bypassed(cache.fetch("search", "g1", SearchRequest(query="q"), compute, SearchResponse), compute, buffer)
