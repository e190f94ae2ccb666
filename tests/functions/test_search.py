"""The search function through API Gateway events: cold start from S3, refresh, corrupt artifacts, bad requests."""

from __future__ import annotations

import json

import pytest

from pampax.config import SearchSettings
from pampax.index import open_index
from pampax.models import SearchRequest
from pampax.search import search
from pampax.stores.base import compress

from tests.conftest import damage_pages

from .support import EVENTS, api_event, call, load_handler, load_module


def test_cold_start_fetches_verifies_and_serves_the_published_generation(aws, generations):
    # GIVEN a published generation and a cold search function
    manifest = aws.store.publish(generations[0])
    handler = load_handler("search")
    # WHEN a search arrives
    status, body = call(handler, api_event("POST", "/search", {"query": "get_user_by_id", "limit": 3}))
    # THEN it is answered from that generation, exactly as the core answers on the same file
    assert status == 200
    assert body["generation"] == manifest.generation
    with open_index(generations[0]) as index:
        expected = search(index, SearchRequest(query="get_user_by_id", limit=3), SearchSettings())
    assert body == expected.model_dump(mode="json")
    assert body["results"][0]["path"] == "shop/users.py"
    # AND the artifact sits verified in the work directory
    assert (aws.work_dir / "generations" / f"{manifest.generation}.db").read_bytes() == generations[0].read_bytes()


def test_the_generated_sam_event_works_as_is(aws, generations):
    # GIVEN the unmodified `sam local generate-event apigateway aws-proxy` output (base64 body)
    aws.store.publish(generations[0])
    event = json.loads((EVENTS / "aws-proxy-search.json").read_text())
    # WHEN handled, THEN the base64 body is decoded and searched
    status, body = call(load_handler("search"), event)
    assert status == 200 and body["query"] == "get_user_by_id"


def test_a_flipped_pointer_is_picked_up_and_the_old_file_removed(aws, generations):
    # GIVEN a warm function serving the first generation
    first = aws.store.publish(generations[0]).generation
    handler = load_handler("search")
    assert call(handler, api_event("POST", "/search", {"query": "place_order"}))[1]["generation"] == first
    # WHEN a new generation is published
    second = aws.store.publish(generations[1]).generation
    # THEN the next request is served from it, and the previous file is gone from /tmp
    assert call(handler, api_event("POST", "/search", {"query": "place_order"}))[1]["generation"] == second
    assert not (aws.work_dir / "generations" / f"{first}.db").exists()
    # AND a rollback is picked up the same way
    aws.store.rollback()
    assert call(handler, api_event("POST", "/search", {"query": "place_order"}))[1]["generation"] == first


def _corrupt_object(aws, generation: str) -> None:
    key = f"generations/{generation}/index.db.zst"
    data = bytearray(aws.s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read())
    data[len(data) // 2] ^= 0xFF
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=bytes(data))


def test_a_corrupt_new_generation_is_refused_and_the_old_one_keeps_serving(aws, generations, capsys):
    # GIVEN a warm function serving a generation
    good = aws.store.publish(generations[0]).generation
    handler = load_handler("search")
    call(handler, api_event("POST", "/search", {"query": "count_users"}))
    # WHEN the pointer moves to a generation whose stored bytes were damaged
    bad = aws.store.publish(generations[1]).generation
    _corrupt_object(aws, bad)
    capsys.readouterr()
    status, body = call(handler, api_event("POST", "/search", {"query": "count_users"}))
    # THEN the old generation still answers, and the refusal is logged with its kind
    assert (status, body["generation"]) == (200, good)
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{\"time\"")]
    assert any(line["err_kind"] == "index_corrupt" and good in line["msg"] for line in logs)


@pytest.mark.parametrize("damage", ["corrupt", "missing", "unpublished"])
def test_a_cold_function_without_a_usable_artifact_answers_503(aws, generations, damage):
    # GIVEN a store whose current artifact is damaged, deleted, or never published
    if damage != "unpublished":
        generation = aws.store.publish(generations[0]).generation
        if damage == "corrupt":
            _corrupt_object(aws, generation)
        else:
            aws.s3.delete_object(Bucket=aws.bucket, Key=f"generations/{generation}/index.db.zst")
    # WHEN a cold function gets a search
    status, body = call(load_handler("search"), api_event("POST", "/search", {"query": "x_y_z"}))
    # THEN it answers 503 with the error body naming what is wrong
    kind = {"corrupt": "index_corrupt", "missing": "store_unavailable", "unpublished": "store_unavailable"}[damage]
    assert status == 503
    assert body["error"]["kind"] == kind
    assert {"corrupt": "corrupt", "missing": "no index file", "unpublished": "no current generation"}[damage] in body["error"]["message"]


def test_damaged_pages_behind_a_rewritten_manifest_answer_index_corrupt(aws, generations, tmp_path):
    # GIVEN a generation whose b-tree pages were damaged and whose manifest was rewritten by hand to match
    # (publish runs quick_check, so only a hand-made artifact gets here)
    damaged = damage_pages(generations[0], tmp_path / "damaged.db")
    manifest = aws.store.publish(generations[0], flip=False)
    raw, packed = compress(damaged, tmp_path / "damaged.db.zst")
    aws.store._upload(f"generations/{manifest.generation}/index.db.zst", tmp_path / "damaged.db.zst")
    aws.store._write(f"generations/{manifest.generation}/manifest.json", manifest.model_copy(update={
        "sha256": raw.digest.hexdigest(), "size": raw.size, "compressed_sha256": packed.digest.hexdigest(),
        "compressed_size": packed.size}).model_dump_json().encode())
    aws.store.flip(manifest.generation)
    # WHEN a cold function loads it and searches, THEN the damaged page it reads is an index_corrupt answer
    status, body = call(load_handler("search"), api_event("POST", "/search", {"query": "count_users"}))
    assert (status, body["error"]["kind"]) == (503, "index_corrupt")
    assert "unreadable" in body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ("{not json", 400, "invalid_argument"),
        ("[1, 2]", 422, "invalid_request"),
        ({}, 422, "invalid_request"),
        ({"query": "x", "limit": "ten"}, 422, "invalid_request"),
        ({"query": "x", "colour": "blue"}, 422, "invalid_request"),
        ({"query": "x", "limit": 0}, 422, "invalid_request"),
        ({"query": "   "}, 400, "invalid_argument"),
        ({"query": "y" * 3000}, 413, "payload_too_large"),
    ],
)
def test_bad_requests_get_the_documented_4xx_and_no_traceback(aws, generations, monkeypatch, body, status, kind):
    # GIVEN a small body limit and a published index
    monkeypatch.setenv("PAMPAX_RUNTIME_MAX_BODY_BYTES", "2048")
    aws.store.publish(generations[0])
    # WHEN a bad request arrives
    got_status, got = call(load_handler("search"), api_event("POST", "/search", body))
    # THEN the status and kind are the documented ones, and the body is only the error
    assert (got_status, got["error"]["kind"]) == (status, kind)
    assert set(got) == {"error"} and set(got["error"]) == {"code", "kind", "message"}
    assert "Traceback" not in got["error"]["message"] and "pydantic" not in got["error"]["message"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/search"), ("POST", "/nope")])
def test_unknown_routes_are_404(aws, method, path):
    status, body = call(load_handler("search"), api_event(method, path, {"query": "x"}))
    assert (status, body["error"]["kind"]) == (404, "route_not_found")
    assert path in body["error"]["message"]


def test_an_unexpected_failure_is_a_bare_500(aws, generations, monkeypatch):
    # GIVEN a search that crashes inside the core
    aws.store.publish(generations[0])
    module = load_module("search")
    monkeypatch.setattr(module.service, "search", lambda request: 1 / 0)
    # WHEN called, THEN the body says internal and names the failure, without a traceback
    status, body = call(module.lambda_handler, api_event("POST", "/search", {"query": "x"}))
    assert (status, body["error"]["kind"]) == (500, "internal")
    assert "ZeroDivisionError" in body["error"]["message"] and "Traceback" not in json.dumps(body)


@pytest.mark.parametrize("header", ["x-correlation-id", "X-Correlation-Id"])
def test_the_correlation_id_reaches_every_log_line(aws, generations, capsys, header):
    # GIVEN a published index and a cold function
    aws.store.publish(generations[0])
    handler = load_handler("search")
    capsys.readouterr()
    # WHEN a request carries a correlation id header
    call(handler, api_event("POST", "/search", {"query": "get_user_by_id"}, headers={header: "corr-42"}))
    # THEN every log line of the request (cold fetch, serve, search) carries it
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{\"time\"")]
    assert len(lines) >= 3
    assert {line["corr_id"] for line in lines} == {"corr-42"}


def test_without_a_header_the_request_id_is_the_correlation_id(aws, generations, capsys):
    aws.store.publish(generations[0])
    handler = load_handler("search")
    event = api_event("POST", "/search", {"query": "get_user_by_id"})
    capsys.readouterr()
    call(handler, event)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{\"time\"")]
    assert lines and {line["corr_id"] for line in lines} == {event["requestContext"]["requestId"]}


def test_file_grouped_search_over_http_matches_the_core(aws, generations):
    aws.store.publish(generations[0])
    request = {"query": "get_user_by_id place_order", "limit": 5, "group": "file"}
    status, body = call(load_handler("search"), api_event("POST", "/search", request))
    assert status == 200
    with open_index(generations[0]) as index:
        expected = search(index, SearchRequest(**request), SearchSettings())
    assert body == expected.model_dump(mode="json")
    paths = [hit["path"] for hit in body["results"]]
    assert len(paths) == len(set(paths)) and "signals" in body["results"][0]["explain"]
