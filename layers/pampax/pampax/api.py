"""What every Lambda handler shares: the service wiring, the resolver with its error mapping, body parsing.

Handlers (``functions/<op>/app.py``) stay a few lines because everything HTTP-shaped lives here
once: a ``PampaxError`` becomes ``{"error": {...}}`` with the status from ``errors.ERROR_TABLE``,
an unknown route becomes ``route_not_found``, any other exception becomes a bare ``internal``
error (the traceback goes to the log, never to the body), and request bodies are size-checked,
JSON-decoded and validated into the core's request models.

The API is a REST API (``APIGatewayRestResolver``) because the template puts it behind IAM auth
on an ``AWS::Serverless::Api``; see the README's Serverless section.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from pydantic import BaseModel

from . import deadline, runtime
from .cache import ReadThroughCache
from .config import Config
from .errors import InvalidArgument, InvalidRequest, PampaxError, PayloadTooLarge, RouteNotFound, http_status_for
from .models import validate
from .observability import MetricsSink, Telemetry, make_logger
from .service import Service
from .stores import open_cache_store

# Where a request's correlation id comes from: the caller's header (API Gateway keeps the header's
# case as sent, and JMESPath has no lower()), else API Gateway's request id.
CORRELATION_ID_PATH = (
    'headers."x-correlation-id" || headers."X-Correlation-Id" || headers."X-Correlation-ID"'
    " || requestContext.requestId"
)

M = TypeVar("M", bound=BaseModel)


class _Stdout:
    """Whatever ``sys.stdout`` is when a line is written, not when the logger was made.

    Lambda reads stdout either way; ``pampax local invoke`` points stdout at stderr while a handler
    runs (so only the response reaches stdout), and pytest swaps stdout between tests.
    """

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()


def lambda_telemetry(config: Config) -> Telemetry:
    """Return Lambda telemetry: schema log lines and EMF documents on stdout, where CloudWatch reads both."""
    settings = config.observability
    return Telemetry(settings, make_logger(settings, "lambda", _Stdout()), MetricsSink(stream=_Stdout()))


def lambda_service(config: Config) -> Service:
    """Return the Lambda process's service: the warm shared index and the configured cache store.

    Without ``cache.table`` the cache is a SQLite file in ``runtime.work_dir``, private to the
    process; with it, every process shares the DynamoDB table.
    """
    telemetry = lambda_telemetry(config)
    cache = ReadThroughCache(open_cache_store(config, Path(config.runtime.work_dir) / "cache.db"), config.cache, telemetry)
    return Service(config, lambda: runtime.shared_index(config, telemetry), telemetry, cache)


def lambda_app(config: Config) -> tuple[Service, APIGatewayRestResolver]:
    """Return a request handler's service and its resolver, wired to each other (logger, cache deadline)."""
    service = lambda_service(config)
    return service, make_resolver(service.telemetry, service.cache)


def entry_point(
    app: APIGatewayRestResolver, telemetry: Telemetry, records: Callable[[dict, Any], dict] | None = None,
) -> Callable[[Any, Any], dict]:
    """Return the ``lambda_handler`` of ``app``: the correlation id set on the logger, then ``app.resolve``.

    With ``records``, an SQS event (one with ``Records``) goes there instead. Any other event that is
    not an API Gateway request (``{}``, a string) is answered 400 ``invalid_argument``, never a crash.
    """

    @telemetry.logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
    def handle(event: dict, context: Any) -> dict:
        if not telemetry.logger.registered_formatter.get_current_keys().get("correlation_id"):
            # An event without the header or a request id (a hand-written one) still gets an id to trace by.
            telemetry.logger.set_correlation_id(getattr(context, "aws_request_id", None) or uuid.uuid4().hex)
        if records is not None and "Records" in event:
            return records(event, context)
        if "httpMethod" not in event:
            return proxy_response(InvalidArgument("event is not an API Gateway REST proxy request"))
        return app.resolve(event, context)

    def bounded(event: dict, context: Any) -> dict:
        deadline.start(context)  # every AWS call of this invocation ends before the Lambda's own timeout
        try:
            return handle(event, context)
        finally:
            deadline.clear()

    def lambda_handler(event: Any, context: Any) -> dict:
        if not isinstance(event, dict):
            return proxy_response(InvalidArgument(f"event is a JSON {type(event).__name__}, not an object"))
        return bounded(event, context)

    return lambda_handler


def proxy_response(error: PampaxError) -> dict:
    """Return the API Gateway proxy response of ``error``, for failures before a resolver runs."""
    return {"statusCode": http_status_for(error.kind), "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(error.to_dict(), separators=(",", ":")), "isBase64Encoded": False}


def error_response(error: PampaxError) -> Response:
    """Return the HTTP response of a pampax error: its table status and its ``{"error": ...}`` body."""
    return Response(
        status_code=http_status_for(error.kind), content_type=content_types.APPLICATION_JSON, body=error.to_dict()
    )


def make_resolver(telemetry: Telemetry, cache: ReadThroughCache | None = None) -> APIGatewayRestResolver:
    """Return a REST API resolver whose every failure answers pampax's error body, logged and counted once.

    Errors the service raised were logged and counted by its operation; the rest (a bad body, an
    unknown route) are logged here, at WARNING for the caller's mistakes and ERROR for ours. With
    ``cache``, each invocation's deadline bounds the cache's in-progress entries.
    """
    app = APIGatewayRestResolver()

    def answer(error: PampaxError) -> Response:
        if not error.reported:
            event = app.current_event
            telemetry.reject(error, op=f"{event.http_method} {event.path}")
        return error_response(error)

    @app.exception_handler(PampaxError)
    def _pampax_error(error: PampaxError) -> Response:
        return answer(error)

    @app.exception_handler(NotFoundError)
    def _not_found(_: NotFoundError) -> Response:
        event = app.current_event
        return answer(RouteNotFound(f"no route {event.http_method} {event.path}"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        # The log line names the exception; the body only the operation (no internals to the caller).
        telemetry.reject(PampaxError(f"unhandled {type(error).__name__}: {error}"), op=app.current_event.path)
        failure = PampaxError(f"{type(error).__name__} while handling {app.current_event.path}")
        failure.reported = True
        return answer(failure)

    if cache is not None:
        def lease(router: APIGatewayRestResolver, next_middleware):
            cache.register_lambda_context(router.lambda_context)
            return next_middleware(router)

        app.use(middlewares=[lease])
    return app


def read_request(
    app: APIGatewayRestResolver, model: type[M], max_bytes: int, defaults: Mapping[str, Any] | None = None
) -> M:
    """Return the request body as ``model``, with ``defaults`` filling fields the body leaves out.

    Raises ``PayloadTooLarge`` (413) over ``max_bytes``, ``InvalidArgument`` (400) for a body that is
    not UTF-8 or not JSON (nesting too deep for the parser included), ``InvalidRequest`` (422) for a
    body that is not an object or fails the model. An empty body is an empty object, so it fails on
    the missing required fields by name.
    """
    event = app.current_event
    raw = event.body or ""
    try:
        body = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidArgument("request body is not valid base64 or UTF-8") from None
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"request body is {len(body)} bytes; the limit is {max_bytes}")
    try:
        text = body.decode("utf-8")  # strictly: json.loads(bytes) would also guess UTF-16 and UTF-32
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"request body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InvalidArgument("request body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"body: expected a JSON object, got {type(data).__name__}")
    return validate(model, {**(defaults or {}), **data})
