"""The local harness: run template.yaml's Lambda handlers on this machine, as API Gateway and SQS would.

``pampax local serve`` (``local_commands.py``) answers HTTP on 127.0.0.1 by turning each request into an API Gateway REST proxy event
for the function whose ``Api`` event matches, and ``pampax local invoke`` runs one function on an event file
(``sam local generate-event`` output works), like ``sam local invoke`` without Docker. Both read
each function's code directory, handler and environment from template.yaml, so what runs is the
deployed code (``sam.py``). With ``aws.queue_url`` set (a moto server, say), ``serve`` also hands queued index
jobs to the function with an ``SQS`` event, as Lambda's event source mapping does.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pampax.api import proxy_response
from pampax.config import RuntimeSettings
from pampax.errors import InvalidArgument, PayloadTooLarge, RouteNotFound
from pampax.stores import LocalArtifactStore
from pampax_local.sam import FunctionSpec, Handler, import_handler

# The account id moto and `sam local generate-event` use in ARNs.
LOCAL_ACCOUNT = "123456789012"
# What a refused request may still send, and for how long, before its connection is closed.
_DRAIN_BYTES = 8 * 1024 * 1024
_DRAIN_SECONDS = 1.0


@dataclass(frozen=True)
class LocalContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1024
    timeout_seconds: float = 29.0
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{LOCAL_ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


# -- events -----------------------------------------------------------------------------------


def api_event(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
              query: str = "", resource: str | None = None) -> dict:
    """Return the API Gateway REST (v1) proxy event of one HTTP request."""
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    params = parse_qs(query, keep_blank_values=True)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path, "path": path, "httpMethod": method,
        "headers": dict(headers or {}), "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": {k: v[-1] for k, v in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {
            "requestId": request_id, "stage": "local", "httpMethod": method, "path": f"/local{path}",
            "resourcePath": resource or path, "accountId": LOCAL_ACCOUNT,
            "requestTimeEpoch": int(time.time() * 1000), "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text or None, "isBase64Encoded": encoded,
    }


def sqs_event(messages: list[dict], queue_url: str) -> dict:
    """Return the SQS event Lambda's event source mapping would deliver for received ``messages``."""
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    return {"Records": [
        {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
         "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""),
         "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:us-east-1:{LOCAL_ACCOUNT}:{name}",
         "awsRegion": "us-east-1"}
        for m in messages
    ]}


def deliver_jobs(queue, spec: FunctionSpec, handler: Handler, wait_seconds: int = 1) -> int:
    """Deliver one batch from ``queue`` (an ``SqsQueue``) to ``handler`` and settle it; return its size.

    Like the event source mapping: records the handler reports as failed (or all of them, when
    it raises) are made visible again for a retry, and SQS moves them to the dead-letter queue
    once the redrive policy's receive count is used up; the rest are deleted.
    """
    messages = queue.receive(max_messages=spec.queue_batch_size or 10, wait_seconds=wait_seconds)
    if not messages:
        return 0
    try:
        result = handler(sqs_event(messages, queue.url), LocalContext(spec.logical_id, timeout_seconds=900))
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    except Exception:  # Powertools raises when every record of the batch failed
        failed = {m["MessageId"] for m in messages}
    for message in messages:
        (queue.release if message["MessageId"] in failed else queue.delete)(message["ReceiptHandle"])
    return len(messages)


# -- the HTTP server --------------------------------------------------------------------------


class _Route(BaseHTTPRequestHandler):
    """Turns one HTTP request into an API Gateway event for the matching handler and writes its answer."""

    server: LocalApi
    # Seconds a connection may sit idle (a client that declares 100 bytes and sends 2): then it is dropped.
    timeout = 10

    def __getattr__(self, name: str):
        # Every method (HEAD, OPTIONS, TRACE, made-up ones) goes to the routes, as API Gateway does:
        # one without a route is route_not_found, never http.server's HTML 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        declared = self.headers.get("Content-Length") or "0"
        if not declared.isdigit():
            self.close_connection = True  # the body's end is unknown: nothing after it can be read
            return self._write(proxy_response(InvalidArgument(f"Content-Length {declared!r} is not a byte count")))
        if int(declared) > self.server.max_body_bytes:
            # Refused before reading: a huge declared body costs neither memory nor a wait.
            return self._refuse_unread(proxy_response(PayloadTooLarge(
                f"request body is {declared} bytes; the limit is {self.server.max_body_bytes}")))
        try:
            body = self.rfile.read(int(declared))
        except TimeoutError:
            self.close_connection = True
            return
        target = self.server.routes.get((self.command, url.path))
        if target is None:
            response = proxy_response(RouteNotFound(f"no route {self.command} {url.path}"))
        else:
            spec, handler = target
            event = api_event(self.command, url.path, body, dict(self.headers.items()), url.query)
            try:
                with self.server.one_at_a_time:
                    response = handler(event, LocalContext(spec.logical_id))
            except Exception:  # what API Gateway answers when a function crashes
                response = {"statusCode": 502, "body": json.dumps({"message": "Internal server error"})}
        self._write(response)

    def _refuse_unread(self, response: dict) -> None:
        """Answer, then drop what the client still sends before closing.

        Closing a socket with unread data makes the kernel reset the connection, and a client still
        sending its body then reads a broken pipe instead of the answer. Half-closing first lets it
        read the answer at once; the drain is bounded in bytes and in time.
        """
        self.close_connection = True
        self._write(response)
        self.wfile.flush()
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_DRAIN_SECONDS)
            left = _DRAIN_BYTES
            while left > 0 and (chunk := self.connection.recv(min(left, 65536))):
                left -= len(chunk)
        except OSError:
            pass

    def _write(self, response: dict) -> None:
        body = response.get("body") or ""
        payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
        self.send_response(response["statusCode"])
        for name, value in (response.get("headers") or {}).items():
            self.send_header(name, value)
        for name, values in (response.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        sys.stderr.write(f"pampax local: {self.command} {self.path} -> {args[1] if len(args) > 1 else '?'}\n")


class LocalApi(ThreadingHTTPServer):
    """``routes`` maps (METHOD, path) to a handler.

    Connections are served on threads, so a slow or silent client holds only its own; the handlers
    themselves run one at a time, like one Lambda process (they share the process's warm index,
    logger and deadline).
    """

    daemon_threads = True
    request_queue_size = 128  # bursts of clients wait in the kernel's backlog instead of being refused

    def __init__(self, port: int, routes: dict[tuple[str, str], tuple[FunctionSpec, Handler]], max_body_bytes: int):
        super().__init__(("127.0.0.1", port), _Route)
        self.routes = routes
        self.max_body_bytes = max_body_bytes
        self.one_at_a_time = threading.Lock()


def load_api(functions: dict[str, FunctionSpec], port: int = 0,
             max_body_bytes: int = RuntimeSettings().max_body_bytes) -> LocalApi:
    """Return a server (not yet serving) for every ``Api`` route of ``functions``; port 0 picks a free one.

    Bodies over ``max_body_bytes`` are refused before they are read (the handlers check again).
    """
    routes = {}
    for spec in functions.values():
        if spec.routes:
            handler = import_handler(spec)
            routes.update({route: (spec, handler) for route in spec.routes})
    return LocalApi(port, routes, max_body_bytes)


# -- environment ------------------------------------------------------------------------------


def apply_environment(functions: dict[str, FunctionSpec]) -> None:
    """Export the template's variables that the caller's environment does not already set.

    The caller's environment wins, as ``sam local --env-vars`` does: that is how a developer points
    the handlers at a moto server (``PAMPAX_AWS_ENDPOINT_URL``) or a bucket the template names by ``!Ref``.
    """
    for spec in functions.values():
        for key, value in spec.environment.items():
            os.environ.setdefault(key, value)


@contextmanager
def serving_file(index: Path) -> Iterator[Path]:
    """Publish ``index`` into a throwaway local artifact store and point the handlers at it.

    The handlers then take the same path as in Lambda (pointer, fetch, sha256, generation check) with
    no bucket at all. Raises ``IndexMissing``/``IndexCorrupt`` for a bad file.
    """
    scratch = Path(tempfile.mkdtemp(prefix="pampax-local-"))
    try:
        LocalArtifactStore(scratch / "store").publish(index)
        os.environ["PAMPAX_RUNTIME_STORE_DIR"] = str(scratch / "store")
        os.environ["PAMPAX_RUNTIME_WORK_DIR"] = str(scratch / "work")
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
