"""``pampax analytics export`` on a metrics file recorded from real CLI runs against the shop fixture.

The recording (tests/fixtures/metrics/metrics.jsonl): an index, six searches (two repeats served
from the cache, one query matching nothing asked twice), then 1.2 s later an empty query and an
unknown --lang (both invalid_argument), two identical bundles and a file-grouped search.
"""

import csv
import gzip
import hashlib
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pampax.analytics import CSV_COLUMNS, parse_since, usage_report
from pampax.dashboard import percentile, read_documents
from pampax.errors import InvalidArgument
from pampax_local.cli import app

RECORDING = Path(__file__).parent / "fixtures" / "metrics" / "metrics.jsonl"
runner = CliRunner()


def _export(*args):
    result = runner.invoke(app, ["analytics", "export", "--from", str(RECORDING), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _recorded():
    return [json.loads(line) for line in RECORDING.read_text().splitlines()]


def test_csv_is_one_tidy_table():
    rows = list(csv.reader(io.StringIO(_export())))
    # THEN the header is the documented columns and every row fills exactly them
    assert tuple(rows[0]) == CSV_COLUMNS and all(len(r) == len(CSV_COLUMNS) for r in rows)
    body = [dict(zip(CSV_COLUMNS, r)) for r in rows[1:]]
    assert {r["section"] for r in body} == {"requests", "latency", "cache", "zero_result_queries", "errors", "top_terms"}
    requests = {(r["op"], r["status"], r["intent"]): int(r["value"]) for r in body if r["section"] == "requests"}
    assert requests == {("index", "ok", "unknown"): 1, ("search", "ok", "unknown"): 7,
                        ("search", "error", "unknown"): 2, ("assemble", "ok", "unknown"): 2}
    p95 = next(r for r in body if r["section"] == "latency" and r["subject"] == "search_latency_ms" and r["metric"] == "p95")
    searches = [d["search_latency_ms"][0] for d in _recorded() if "search_latency_ms" in d]
    assert float(p95["value"]) == round(percentile(searches, 0.95), 3)


def test_json_report_shape_and_figures():
    report = json.loads(_export("--format", "json"))
    assert set(report) == {"documents", "skipped_lines", "since", "window_start", "window_end", "bucket_seconds",
                           "queries_included", "requests", "latency", "cache", "zero_result_queries", "errors", "top_terms"}
    assert report["documents"] == len(_recorded()) and report["skipped_lines"] == 0
    # Nine cached requests in one hour bucket, three of them hits (two searches and a bundle repeated)
    assert report["cache"] == [{"start": "2026-12-02T12:00:00Z", "requests": 9, "hits": 3, "hit_ratio": 33.33}]
    assert report["errors"] == [{"kind": "invalid_argument", "op": "search", "count": 2}]
    assert report["top_terms"][0] == {"term": "get_user_by_id", "count": 3}
    assert {(x["op"], x["metric"]) for x in report["latency"]} >= {("search", "search_latency_ms"),
                                                                   ("assemble", "assemble_latency_ms")}


def test_queries_are_hashed_unless_included():
    digest = hashlib.sha256(b"zzqqxx nothing").hexdigest()[:16]
    for text in (_export(), _export("--format", "json")):
        assert "zzqqxx" not in text and "place an order" not in text and f"sha256:{digest}" in text
    report = json.loads(_export("--format", "json", "--include-queries"))
    assert report["zero_result_queries"] == [{"op": "search", "query": "zzqqxx nothing", "count": 2}]
    assert report["queries_included"] is True


def test_since_keeps_the_later_documents():
    # GIVEN a time between the first six searches and the rest
    report = json.loads(_export("--format", "json", "--since", "2026-12-02T12:47:47Z"))
    assert report["since"] == "2026-12-02T12:47:47Z"
    assert {(r["op"], r["status"]): r["count"] for r in report["requests"]} == {
        ("search", "error"): 2, ("assemble", "ok"): 2, ("search", "ok"): 1}
    assert report["zero_result_queries"] == [] and report["errors"][0]["count"] == 2
    # AND a duration counts back from now: this recording is older than a second
    assert json.loads(_export("--format", "json", "--since", "1s"))["documents"] == 0


def test_since_parses_durations_and_refuses_nonsense():
    now = 1_000_000_000
    assert [parse_since(t, now) for t in ("90", "30m", "2h", "1d", "1w")] == [
        now - 90_000, now - 1_800_000, now - 7_200_000, now - 86_400_000, now - 604_800_000]
    assert parse_since("1970-01-01T00:00:10", now) == 10_000  # no zone: UTC
    with pytest.raises(InvalidArgument):
        parse_since("yesterday", now)
    result = runner.invoke(app, ["analytics", "export", "--from", str(RECORDING), "--since", "yesterday"])
    assert result.exit_code == 2 and "pampax: invalid_argument: --since" in result.stderr


def test_a_cloudwatch_logs_export_reads_like_the_local_file(tmp_path):
    # GIVEN the same documents as a CloudWatch Logs export to S3: a timestamp before each message, gzipped,
    # between the Lambda runtime's own lines
    lines = [f"2026-12-02T12:47:37.000Z {line}" for line in RECORDING.read_text().splitlines()]
    lines.insert(1, "2026-12-02T12:47:37.000Z START RequestId: 1 Version: $LATEST")
    exported = tmp_path / "000000.gz"
    exported.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    runner_out = runner.invoke(app, ["analytics", "export", "--from", str(exported), "--format", "json"])
    assert runner_out.exit_code == 0, runner_out.output
    ours, theirs = json.loads(_export("--format", "json")), json.loads(runner_out.stdout)
    assert theirs.pop("skipped_lines") == 1 and {**ours, "skipped_lines": None} == {**theirs, "skipped_lines": None}


def test_out_writes_the_file_and_nothing_else(tmp_path):
    target = tmp_path / "usage.csv"
    assert _export("--out", str(target)) == ""
    assert target.read_text().splitlines()[0] == ",".join(CSV_COLUMNS)


def test_missing_metrics_file_is_path_not_found(tmp_path):
    result = runner.invoke(app, ["analytics", "export", "--from", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 3


def test_the_service_records_what_the_export_reads(shop_repo, monkeypatch):
    # GIVEN real searches through the CLI, the first two with the default config, the last recording queries
    assert runner.invoke(app, ["index", str(shop_repo)]).exit_code == 0
    monkeypatch.chdir(shop_repo)
    for query in ("get_user_by_id", "zzqqxx nothing"):
        assert runner.invoke(app, ["search", query]).exit_code == 0
    assert runner.invoke(app, ["search", "zzqqxx again"], env={"PAMPAX_OBSERVABILITY_RECORD_QUERIES": "true"}).exit_code == 0
    # THEN each search's metric document names its status, query digest, result count and terms; the
    # query's text only where recording was asked for
    documents, _ = read_documents((shop_repo / ".pampax" / "metrics.jsonl").read_text().splitlines())
    found, empty, recorded = [d.body for d in documents if d.body.get("op") == "search"]
    assert found["outcome"] == "ok" and "status" not in found and found["results"] > 0 and "get_user_by_id" in found["terms"]
    assert found["query_sha256"] == hashlib.sha256(b"get_user_by_id").hexdigest()[:16]
    assert (empty["results"], "query" in empty, "query" in found) == (0, False, False)
    assert (recorded["results"], recorded["query"]) == (0, "zzqqxx again")
    assert (found["intent"], empty["intent"]) == ("identifier", "question")  # as auto read them
    documents = [d for d in documents if d.body.get("query_sha256") != recorded["query_sha256"]]
    report = usage_report(documents)
    assert [q.count for q in report.zero_result_queries] == [1]
    assert {(r.op, r.intent) for r in report.requests if r.op == "search"} == {("search", "identifier"), ("search", "question")}
