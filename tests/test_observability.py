"""Log lines carry exactly the schema; each metric is emitted with its unit and dimension."""

import io
import json
import uuid

import pytest

from pampax.config import ObservabilitySettings
from pampax.errors import IndexMissing
from pampax.observability import LOG_FIELDS, MetricsSink, Telemetry, make_logger


@pytest.fixture
def telemetry():
    logs, metrics = io.StringIO(), io.StringIO()
    settings = ObservabilitySettings(log_level="INFO", service=f"svc-{uuid.uuid4().hex[:8]}", namespace="Test")
    return Telemetry(settings, make_logger(settings, "unit", logs), MetricsSink(stream=metrics)), logs, metrics


def _lines(buffer):
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _metrics(buffer):
    """Return {metric name: (unit, dimensions, values)} from captured EMF documents."""
    found = {}
    for document in _lines(buffer):
        directive = document["_aws"]["CloudWatchMetrics"][0]
        for metric in directive["Metrics"]:
            dims = {d: document[d] for d in directive["Dimensions"][0]}
            found.setdefault(metric["Name"], []).append((metric["Unit"], dims, document[metric["Name"]]))
    return found


def test_every_log_line_has_exactly_the_schema(telemetry):
    # GIVEN a success, a failure and a degraded event
    tele, logs, _ = telemetry
    with tele.operation("search"):
        pass
    with pytest.raises(IndexMissing), tele.operation("assemble"):
        raise IndexMissing("no index at x")
    tele.count_error("cache_unavailable", "cache bypassed", op="search")
    # THEN every line is JSON with exactly the schema's keys, absent values null
    lines = _lines(logs)
    assert len(lines) == 3
    for line in lines:
        assert tuple(line) == LOG_FIELDS
        assert line["component"] == "unit" and line["time"].endswith("+00:00")
    ok, failed, degraded = lines
    assert (ok["op"], ok["status"], ok["err_kind"], ok["err_code"]) == ("search", "ok", None, None)
    assert isinstance(ok["duration_ms"], float)
    assert (failed["status"], failed["err_kind"], failed["err_code"], failed["msg"]) == ("error", "index_missing", 4, "no index at x")
    assert (degraded["status"], degraded["err_kind"], degraded["duration_ms"]) == ("degraded", "cache_unavailable", None)


def test_correlation_id_is_on_every_line(telemetry):
    tele, logs, _ = telemetry
    tele.logger.set_correlation_id("req-42")
    with tele.operation("search"):
        pass
    assert _lines(logs)[0]["corr_id"] == "req-42"


def test_text_format_is_one_line_of_key_values():
    buffer = io.StringIO()
    settings = ObservabilitySettings(log_level="INFO", log_format="text", service=f"svc-{uuid.uuid4().hex[:8]}")
    make_logger(settings, "cli", buffer).info("hello", extra={"op": "search"})
    line = buffer.getvalue()
    assert line.count("\n") == 1 and "level=INFO" in line and "op=search" in line and "msg=hello" in line


def test_text_values_with_spaces_are_quoted_so_the_line_still_splits():
    import shlex

    buffer = io.StringIO()
    settings = ObservabilitySettings(log_level="INFO", log_format="text", service=f"svc-{uuid.uuid4().hex[:8]}")
    make_logger(settings, "cli", buffer).info('search ok: "cache key" = hit\nnext', extra={"op": "GET /health"})
    line = buffer.getvalue()
    assert line.count("\n") == 1
    pairs = dict(pair.split("=", 1) for pair in shlex.split(line))
    assert pairs["op"] == "GET /health" and pairs["level"] == "INFO"
    assert json.loads(line.split(" msg=", 1)[1].split(" err_", 1)[0].strip()) == 'search ok: "cache key" = hit\nnext'


def test_operations_emit_latency_sqlite_and_cache_metrics(telemetry):
    tele, _, metrics = telemetry
    with tele.operation("search") as op:
        op.sqlite_ms = 2.5
        op.cache_hit = True
    with tele.operation("assemble") as op:
        op.cache_hit = False
    with tele.operation("index"):
        pass
    found = _metrics(metrics)
    assert found["search_latency_ms"][0][:2] == ("Milliseconds", {"op": "search", "service": tele.settings.service})
    assert found["assemble_latency_ms"][0][0] == "Milliseconds"
    assert found["index_refresh_ms"][0][0] == "Milliseconds"
    assert found["sqlite_read_ms"] == [("Milliseconds", {"op": "search", "service": tele.settings.service}, [2.5])]
    assert [v for _, _, v in found["cache_hit_ratio"]] == [[100.0], [0.0]]
    assert {u for u, _, _ in found["cache_hit_ratio"]} == {"Percent"}


def test_errors_total_has_a_kind_dimension(telemetry):
    tele, _, metrics = telemetry
    with pytest.raises(IndexMissing), tele.operation("search"):
        raise IndexMissing("x")
    with pytest.raises(ZeroDivisionError), tele.operation("search"):
        1 / 0
    errors = _metrics(metrics)["errors_total"]
    assert [(u, d["kind"], v) for u, d, v in errors] == [("Count", "index_missing", [1.0]), ("Count", "internal", [1.0])]


def test_unwritable_metrics_file_does_not_fail_the_operation(tmp_path, telemetry):
    tele, _, _ = telemetry
    (tmp_path / "blocker").write_text("a file where a directory should be")
    tele.sink = MetricsSink(path=tmp_path / "blocker" / "metrics.jsonl")
    with tele.operation("search"):
        pass


def test_metrics_file_rotates_by_size_keeping_one_older_part(tmp_path, telemetry):
    tele, _, _ = telemetry
    path = tmp_path / "metrics.jsonl"
    tele.sink = MetricsSink(path=path, max_bytes=4096)
    # WHEN operations keep writing well past the limit
    for _ in range(60):
        with tele.operation("search"):
            pass
    # THEN neither part grew much past the limit, and every document is in one of them, whole
    rotated = tmp_path / "metrics.jsonl.1"
    assert rotated.is_file() and path.is_file()
    one_document = max(len(line) + 1 for line in path.read_text().splitlines())
    assert rotated.stat().st_size <= 4096 + one_document and path.stat().st_size <= 4096 + one_document
    for part in (rotated, path):
        assert all(json.loads(line)["_aws"] for line in part.read_text().splitlines())
