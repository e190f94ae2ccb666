"""The health function: 200 with the served generation once an artifact is published, 503 naming the failed check."""

from __future__ import annotations

from .support import api_event, call, load_handler


def test_health_is_503_until_an_artifact_is_published(aws, generations):
    handler = load_handler("health")
    # GIVEN nothing published, WHEN health is asked, THEN 503 with the failing checks named
    status, body = call(handler, api_event("GET", "/health"))
    assert (status, body["status"]) == (503, "unhealthy")
    failed = {c["name"]: c["err_kind"] for c in body["checks"] if not c["ok"]}
    assert failed == {"index": "store_unavailable", "artifacts": "store_unavailable"}
    # WHEN a generation is published, THEN the same warm function reports it healthy
    generation = aws.store.publish(generations[0]).generation
    status, body = call(handler, api_event("GET", "/health"))
    assert (status, body["status"], body["generation"]) == (200, "healthy", generation)
    artifacts = next(c for c in body["checks"] if c["name"] == "artifacts")
    assert aws.bucket in artifacts["detail"] and generation in artifacts["detail"]


def test_health_has_only_its_route(aws):
    status, body = call(load_handler("health"), api_event("POST", "/health", {}))
    assert (status, body["error"]["kind"]) == (404, "route_not_found")
