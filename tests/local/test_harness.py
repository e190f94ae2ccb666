"""``pampax local``: the HTTP server answers what the CLI prints, and ``invoke`` runs generated events."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import threading
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from pampax import runtime
from pampax_local import harness, sam
from pampax_local.cli import app

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
SEARCH_EVENT = REPO / "tests" / "functions" / "events" / "aws-proxy-search.json"
runner = CliRunner()


@pytest.fixture
def index_file(shop_index_path, tmp_path):
    """A private copy of the shop index (the CLI writes its cache and metrics beside the file)."""
    return Path(shutil.copyfile(shop_index_path, tmp_path / "index.db"))


@pytest.fixture
def isolated():
    """Undo whatever the harness exports to the environment, and start and end with a cold process."""
    with mock.patch.dict(os.environ):
        runtime.reset()
        yield
        runtime.reset()


@pytest.fixture
def server(index_file, isolated):
    """``pampax local serve --index`` on a free port, serving from a background thread."""
    functions = sam.read_template(TEMPLATE)
    harness.apply_environment(functions)
    with harness.serving_file(index_file):
        api = harness.load_api(functions, port=0)
        thread = threading.Thread(target=api.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{api.server_port}"
        api.shutdown()
        api.server_close()


def _post(url: str, body: dict | str, method: str = "POST") -> tuple[int, dict]:
    data = body if isinstance(body, str) else json.dumps(body)
    request = urllib.request.Request(url, data=data.encode(), method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize(
    ("route", "body", "argv"),
    [
        ("/search", {"query": "get_user_by_id"}, ["search", "get_user_by_id"]),
        ("/search", {"query": "QuerySet.filter", "limit": 2, "langs": ["python"]},
         ["search", "QuerySet.filter", "--limit", "2", "--lang", "python"]),
        ("/assemble", {"query": "place_order", "budget": 1200}, ["assemble", "place_order", "--budget", "1200"]),
    ],
)
def test_serve_answers_the_same_json_as_the_cli(server, index_file, route, body, argv):
    # GIVEN the CLI's JSON for a request
    cli = runner.invoke(app, [*argv, "--index", str(index_file), "--format", "json"])
    assert cli.exit_code == 0, cli.output
    # WHEN the same request goes through the local API
    status, served = _post(server + route, body)
    # THEN the bodies are the same
    assert status == 200
    assert served == json.loads(cli.stdout)


def test_serve_errors_match_the_cli_error_body(server, index_file):
    # GIVEN an empty query: the CLI's JSON error
    cli = runner.invoke(app, ["search", "   ", "--index", str(index_file), "--format", "json"])
    # WHEN sent to the local API, THEN the error body and the documented status agree
    status, served = _post(server + "/search", {"query": "   "})
    assert (status, served) == (400, json.loads(cli.stdout))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": "x", "paths": "shop"}, 'paths: expected an array, got "shop"'),
        ({"query": "x", "langs": {"python": True}}, "langs: expected an array, got an object"),
        ({"query": "x", "limit": "ten"}, 'limit: expected an integer, got "ten"'),
        ({"query": "x", "lmit": 3}, "lmit: unknown field"),
        ({"limit": 3}, "query: required field is missing"),
        ({"query": "x", "kinds": ["function"] * 65}, "kinds: at most 64 items, got 65"),
    ],
)
def test_serve_validation_messages_speak_json(server, body, message):
    status, served = _post(server + "/search", body)
    # THEN the message names JSON's types, never pydantic's (tuple, dictionary, "Input should be")
    assert (status, served["error"]["kind"], served["error"]["message"]) == (422, "invalid_request", message)


@pytest.mark.parametrize(("flag", "field", "value"), [("--lang", "langs", "pyhton"), ("--kind", "kinds", "funtion")])
def test_unknown_filter_values_are_refused_alike_by_cli_and_api(server, index_file, flag, field, value):
    # GIVEN a misspelt filter: the CLI's exit code and error body
    cli = runner.invoke(app, ["search", "x", flag, value, "--index", str(index_file), "--format", "json"])
    assert cli.exit_code == 2 and cli.stderr.splitlines()[-1].startswith(f"pampax: invalid_argument: {field}: no ")
    # WHEN the API is asked the same, THEN the same body, 400, naming the values the index holds
    status, served = _post(server + "/search", {"query": "x", field: [value]})
    assert (status, served) == (400, json.loads(cli.stdout))
    assert "python" in served["error"]["message"] or "function" in served["error"]["message"]


def test_serve_answers_unknown_routes_and_methods_with_404(server):
    for method, route in (("POST", "/nope"), ("GET", "/search")):
        status, body = _post(server + route, {}, method=method)
        assert (status, body["error"]["kind"]) == (404, "route_not_found")


def test_serve_reports_health_of_the_served_generation(server, index_file):
    request = urllib.request.Request(server + "/health")
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "healthy"
    assert body["generation"] == json.loads(runner.invoke(app, ["search", "x_y", "--index", str(index_file)]).stdout)["generation"]


def test_invoke_runs_a_generated_event_and_prints_only_the_response(index_file, isolated):
    # GIVEN `sam local generate-event apigateway aws-proxy --method POST --path search --body ...` output
    # WHEN invoked on the search function with a local index
    result = runner.invoke(app, ["local", "invoke", "SearchFunction", "--event", str(SEARCH_EVENT),
                                 "--index", str(index_file), "--template", str(TEMPLATE)])
    # THEN stdout is exactly the Lambda response, and its body holds the search
    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["results"][0]["path"] == "shop/users.py"


def test_invoke_falls_back_to_the_nearest_index_like_serve(index_file, isolated, tmp_path, monkeypatch):
    # GIVEN no store configured and an index above the working directory
    for name in ("PAMPAX_RUNTIME_STORE_DIR", "PAMPAX_AWS_BUCKET", "PAMPAX_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "repo" / ".pampax").mkdir(parents=True)
    shutil.copyfile(index_file, tmp_path / "repo" / ".pampax" / "index.db")
    (tmp_path / "repo" / "src").mkdir()
    monkeypatch.chdir(tmp_path / "repo" / "src")
    # WHEN a function is invoked without --index
    result = runner.invoke(app, ["local", "invoke", "search", "--event", str(SEARCH_EVENT), "--template", str(TEMPLATE)])
    # THEN it answers from that index, as `local serve` would
    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["results"][0]["path"] == "shop/users.py"


def test_invoke_names_functions_by_directory_too_and_refuses_unknown_ones(index_file, isolated, tmp_path):
    event = json.loads(SEARCH_EVENT.read_text())
    event.update(httpMethod="GET", path="/health", body=None, isBase64Encoded=False)
    (tmp_path / "health.json").write_text(json.dumps(event))
    result = runner.invoke(app, ["local", "invoke", "health", "--event", str(tmp_path / "health.json"),
                                 "--index", str(index_file), "--template", str(TEMPLATE)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["statusCode"] == 200
    unknown = runner.invoke(app, ["local", "invoke", "nope", "--event", str(SEARCH_EVENT), "--template", str(TEMPLATE)])
    assert unknown.exit_code == 2 and "SearchFunction" in unknown.stderr


def test_template_environment_resolves_parameters_and_leaves_resources_to_the_caller():
    search = sam.pick_function(sam.read_template(TEMPLATE), "search")
    # a parameter's default is filled in; a resource's physical name cannot be known locally
    assert search.environment["PAMPAX_RUNTIME_REFRESH_SECONDS"] == "30"
    assert search.environment["POWERTOOLS_SERVICE_NAME"] == "pampax"
    assert "PAMPAX_AWS_BUCKET" not in search.environment
    assert search.routes == (("POST", "/search"),)


def _raw(url: str, request: bytes, read_timeout: float = 10) -> bytes:
    """Send raw bytes to the server and return everything it answers before closing."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_serve_is_not_blocked_by_a_client_that_sends_less_than_it_declared(server):
    # GIVEN a client that declares 100 bytes, sends 2 and then waits
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as stalled:
        stalled.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}")
        # WHEN another client asks meanwhile, THEN it is answered at once
        assert _post(f"{server}/search", {"query": "get_user_by_id"})[0] == 200


@pytest.mark.parametrize(("length", "status", "kind"), [("abc", 400, "invalid_argument"), ("-1", 400, "invalid_argument"),
                                                         ("99999999", 413, "payload_too_large")])
def test_serve_answers_a_bad_or_huge_content_length_per_the_table_without_reading(server, length, status, kind):
    answer = _raw(server, f"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.0 {status}".encode()) and json.loads(body)["error"]["kind"] == kind


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_serve_answers_head_and_options_with_route_not_found(server, method):
    answer = _raw(server, f"{method} /search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 404")
    assert body == b"" if method == "HEAD" else json.loads(body)["error"]["kind"] == "route_not_found"


def test_serve_answers_a_burst_of_clients_without_refusing_any(server):
    results = []

    def ask():
        results.append(_post(f"{server}/search", {"query": "get_user_by_id"})[0])

    threads = [threading.Thread(target=ask) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 32


def test_serve_answers_413_to_a_client_still_sending_its_body(server):
    # A client that sends a too-large body whole must read the 413, not a reset connection.
    host, port = server.split("//")[1].rstrip("/").split(":")
    body = b"x" * 4_000_000
    for _ in range(10):
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
            try:
                conn.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may stop reading once its drain budget is spent; the answer is still there
            time.sleep(0.1)  # let a reset, if the server sent one, arrive before the answer is read
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.0 413"), answer[:80]
