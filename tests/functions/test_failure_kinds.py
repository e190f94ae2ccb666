"""Issue 10's handler defects, one regression test each: every failure keeps its kind, recovery recovers, all is logged."""

from __future__ import annotations

import base64
import json

import pytest

from pampax.stores.base import POINTER_KEY
from pampax_local.harness import LocalContext

from .support import api_event, call, load_handler


def _log_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"time"')]


def _errors_total(capsys_out: str) -> list[str]:
    return [doc["kind"] for doc in map(json.loads, capsys_out.splitlines())
            if doc.get("_aws") and "errors_total" in doc]


def test_a_body_that_is_not_utf8_is_400_invalid_argument(aws, generations):
    aws.store.publish(generations[0])
    event = api_event("POST", "/search")
    event.update(body=base64.b64encode(b'{"query": "caf\xe9"}').decode(), isBase64Encoded=True)
    status, body = call(load_handler("search"), event)
    assert (status, body["error"]["kind"]) == (400, "invalid_argument")
    assert "not UTF-8" in body["error"]["message"]


@pytest.mark.parametrize(("route", "body"), [("/cache/warm", '{"queries": ["\\ud800"]}'),
                                             ("/search", '{"query": "\\ud800"}')])
def test_a_lone_surrogate_is_422_on_warm_as_on_search(aws, generations, route, body):
    aws.store.publish(generations[0])
    status, answer = call(load_handler(route.split("/")[1]), api_event("POST", route, body))
    assert (status, answer["error"]["kind"]) == (422, "invalid_request")


def test_json_nested_100k_deep_is_400_invalid_argument(aws, generations):
    aws.store.publish(generations[0])
    status, body = call(load_handler("search"), api_event("POST", "/search", "[" * 100_000 + "]" * 100_000))
    assert (status, body["error"]["kind"]) == (400, "invalid_argument")


@pytest.mark.parametrize("paths", [["*" * 60_000], [f"p{i}*" for i in range(1001)]], ids=["60000-chars", "1001-fold"])
def test_a_huge_or_1001_fold_paths_glob_is_422_not_500(aws, generations, paths, capsys):
    aws.store.publish(generations[0])
    status, body = call(load_handler("search"), api_event("POST", "/search", {"query": "order", "paths": paths}))
    assert (status, body["error"]["kind"]) == (422, "invalid_request")
    # AND it counts as the caller's error, not a server error the error-rate alarm would see
    assert _errors_total(capsys.readouterr().out) == ["invalid_request"]


@pytest.mark.parametrize("function", ["search", "index"])
@pytest.mark.parametrize("event", [{}, "x", []], ids=["empty-object", "string", "list"])
def test_an_event_that_is_not_an_api_request_is_400_not_a_keyerror(aws, function, event):
    response = load_handler(function)(event, LocalContext("test"))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["kind"] == "invalid_argument"


def test_a_non_json_sqs_message_fails_at_once(aws, capsys):
    event = {"Records": [{"messageId": "m1", "receiptHandle": "r", "body": "not json", "attributes": {},
                          "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}
    response = load_handler("index")(event, LocalContext("IndexFunction"))
    assert response == {"batchItemFailures": []}  # consumed: no retry, no dead-letter queue
    assert [(line["err_kind"], line["level"]) for line in _log_lines(capsys) if line["status"] == "error"] == [
        ("invalid_argument", "WARNING")]


def test_a_pointer_naming_generation_dotdot_is_503_store_unavailable(aws):
    aws.s3.put_object(Bucket=aws.bucket, Key=POINTER_KEY,
                      Body=json.dumps({"generation": "../../x", "previous": None, "updated_at": "now"}))
    status, body = call(load_handler("search"), api_event("POST", "/search", {"query": "order"}))
    assert (status, body["error"]["kind"]) == (503, "store_unavailable")


def test_publish_repairs_a_generation_whose_index_object_was_deleted(aws, generations):
    # GIVEN a published generation whose index object was deleted: cold handlers answer 503
    generation = aws.store.publish(generations[0]).generation
    aws.s3.delete_object(Bucket=aws.bucket, Key=f"generations/{generation}/index.db.zst")
    handler = load_handler("search")
    assert call(handler, api_event("POST", "/search", {"query": "order"}))[0] == 503
    # WHEN it is published again, THEN the object is back and the same handler answers
    aws.store.publish(generations[0])
    assert aws.s3.head_object(Bucket=aws.bucket, Key=f"generations/{generation}/index.db.zst")["ContentLength"] > 0
    status, body = call(handler, api_event("POST", "/search", {"query": "order"}))
    assert (status, body["generation"]) == (200, generation)


def test_warm_health_reports_a_broken_current_pointer_as_degraded(aws, generations):
    # GIVEN a warm health function serving a generation
    good = aws.store.publish(generations[0]).generation
    handler = load_handler("health")
    assert call(handler, api_event("GET", "/health"))[0] == 200
    # WHEN the pointer moves to a generation whose object is damaged
    bad = aws.store.publish(generations[1]).generation
    aws.s3.upload_file(str(generations[2]), aws.bucket, f"generations/{bad}/index.db.zst")
    status, body = call(handler, api_event("GET", "/health"))
    # THEN it still answers (the old generation serves) but says degraded, naming the broken generation
    assert (status, body["status"], body["generation"]) == (200, "degraded", good)
    artifacts = next(c for c in body["checks"] if c["name"] == "artifacts")
    assert (artifacts["ok"], artifacts["err_kind"]) == (False, "index_corrupt") and bad in artifacts["detail"]


def test_a_cold_health_with_nothing_valid_loaded_is_503(aws, generations):
    bad = aws.store.publish(generations[0]).generation
    aws.s3.upload_file(str(generations[1]), aws.bucket, f"generations/{bad}/index.db.zst")
    status, body = call(load_handler("health"), api_event("GET", "/health"))
    assert (status, body["status"]) == (503, "unhealthy")


def test_a_generation_that_keeps_failing_to_load_counts_every_time(aws, generations, capsys):
    aws.store.publish(generations[0])
    handler = load_handler("search")
    call(handler, api_event("POST", "/search", {"query": "order"}))
    bad = aws.store.publish(generations[1]).generation
    aws.s3.upload_file(str(generations[2]), aws.bucket, f"generations/{bad}/index.db.zst")
    capsys.readouterr()
    for _ in range(3):  # refresh_seconds is 0: every request re-reads the pointer
        assert call(handler, api_event("POST", "/search", {"query": "order"}))[0] == 200
    assert _errors_total(capsys.readouterr().out) == ["index_corrupt"] * 3


def test_4xx_rejections_and_every_health_call_are_logged_and_counted(aws, generations, capsys):
    aws.store.publish(generations[0])
    call(load_handler("search"), api_event("POST", "/search", "{not json"))
    call(load_handler("search"), api_event("GET", "/nowhere"))
    call(load_handler("health"), api_event("GET", "/health"))
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"time"')]
    outcomes = [(line["status"], line["err_kind"], line["level"]) for line in lines if line["op"] != "index"]
    assert outcomes == [("error", "invalid_argument", "WARNING"), ("error", "route_not_found", "WARNING"),
                        ("ok", None, "INFO")]
    assert _errors_total(out) == ["invalid_argument", "route_not_found"]


def test_index_corrupt_and_store_unavailable_are_logged_at_error(aws, generations, capsys):
    handler = load_handler("search")
    call(handler, api_event("POST", "/search", {"query": "order"}))  # nothing published: store_unavailable
    bad = aws.store.publish(generations[0]).generation
    aws.s3.upload_file(str(generations[1]), aws.bucket, f"generations/{bad}/index.db.zst")
    call(handler, api_event("POST", "/search", {"query": "order"}))  # a damaged artifact: index_corrupt
    out = capsys.readouterr().out
    failures = [(line["err_kind"], line["level"]) for line in map(json.loads, out.splitlines())
                if line.get("op") == "search" and line.get("status") == "error"]
    assert failures == [("store_unavailable", "ERROR"), ("index_corrupt", "ERROR")]
    # AND each failure is counted once, though both the load and the search logged it
    assert _errors_total(out) == ["store_unavailable", "index_corrupt"]


def test_post_index_without_a_correlation_header_or_request_id_logs_a_generated_corr_id(aws, capsys):
    event = api_event("POST", "/index", {"source": "sources/x.tar.gz"})
    del event["requestContext"]["requestId"]
    assert call(load_handler("index"), event)[0] == 202
    assert all(line["corr_id"] for line in _log_lines(capsys))
