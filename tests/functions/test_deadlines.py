"""Fault injection: an AWS endpoint that accepts connections and never answers must not stall a handler.

The endpoint is a real socket on loopback that accepts and then stays silent, the worst case for a
client (a refused connection fails fast). Bounds are generous: they prove a call is bounded by the
invocation's deadline, not how fast it is.
"""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest

from pampax import deadline
from pampax.cache import ReadThroughCache
from pampax.config import AwsSettings, CacheSettings, ObservabilitySettings
from pampax.models import SearchRequest, SearchResponse
from pampax.observability import MetricsSink, Telemetry, make_logger
from pampax.stores import aws
from pampax.stores.dynamodb import DynamoCacheStore
from pampax_local.harness import LocalContext

from .support import REGION, api_event, load_handler


@pytest.fixture
def silent_endpoint():
    """Yield the URL of a server that accepts every connection and never sends a byte."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def _timed(handler, event, timeout_seconds):
    started = time.monotonic()
    response = handler(event, LocalContext("SearchFunction", timeout_seconds=timeout_seconds))
    return response, time.monotonic() - started


def test_a_silent_s3_endpoint_answers_503_within_the_functions_timeout(aws, monkeypatch, silent_endpoint):
    # GIVEN the artifact bucket behind an endpoint that never answers, and a function with 8 s to live
    monkeypatch.setenv("PAMPAX_AWS_ENDPOINT_URL", silent_endpoint)
    handler = load_handler("search")
    # WHEN a cold search arrives
    response, took = _timed(handler, api_event("POST", "/search", {"query": "order"}), timeout_seconds=8)
    # THEN it answers store_unavailable before the function would have been killed
    assert response["statusCode"] == 503 and '"store_unavailable"' in response["body"]
    assert took < 8 - deadline.RESERVE_SECONDS + 0.5


def test_an_attempt_that_could_outlast_the_deadline_is_not_started(aws, monkeypatch, silent_endpoint):
    # GIVEN less time left than one attempt may take (connect 1 s + read 2 s, plus the reserve)
    monkeypatch.setenv("PAMPAX_AWS_ENDPOINT_URL", silent_endpoint)
    response, took = _timed(load_handler("search"), api_event("POST", "/search", {"query": "order"}), timeout_seconds=3)
    # THEN the handler answers at once instead of waiting on the endpoint
    assert response["statusCode"] == 503 and "deadline" in response["body"]
    assert took < 1.5


def test_a_silent_cache_table_is_skipped_like_a_failing_one(_moto, silent_endpoint, tmp_path):
    # GIVEN the DynamoDB cache behind an endpoint that never answers, inside an invocation with 20 s left
    settings = AwsSettings(region=REGION, endpoint_url=silent_endpoint)
    store = DynamoCacheStore(aws.client("dynamodb", settings, max_attempts=1), "cache")
    telemetry = Telemetry(ObservabilitySettings(), make_logger(ObservabilitySettings(), "test"),
                          MetricsSink(path=tmp_path / "metrics.jsonl"))
    cache = ReadThroughCache(store, CacheSettings(), telemetry)
    answer = SearchResponse(query="q", generation="g", terms=[], results=[])
    deadline.start(SimpleNamespace(get_remaining_time_in_millis=lambda: 20_000))
    try:
        started = time.monotonic()
        response, hit = cache.fetch("search", "g", SearchRequest(query="q"), lambda: answer, SearchResponse)
        took = time.monotonic() - started
    finally:
        deadline.clear()
    # THEN the request is answered uncached after bounded tries (one per cache call), and the bypass is counted
    assert (response, hit) == (answer, False)
    assert took < 2 * (settings.connect_timeout + settings.read_timeout) + 1.5
    assert '"kind":"cache_unavailable"' in (tmp_path / "metrics.jsonl").read_text()
