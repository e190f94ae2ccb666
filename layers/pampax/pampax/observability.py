"""Structured logs and EMF metrics with one stable schema, through Powertools.

Every log line carries exactly ``LOG_FIELDS`` (absent values are null): Powertools' Logger with a
formatter of ours, because its default formatter adds and drops keys by context. Metrics are EMF
documents built by Powertools' ``EphemeralMetrics`` (no state shared between instances); a
``MetricsSink`` decides where they go: stdout in Lambda (CloudWatch reads EMF from the log) or a
JSON-lines file offline, so ``pampax metrics summary`` can read the same documents.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import BasePowertoolsFormatter
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from .config import ObservabilitySettings
from .errors import PampaxError, is_caller_error

LOG_FIELDS = ("time", "level", "component", "op", "corr_id", "duration_ms", "status", "msg", "err_code", "err_kind")
# Operation -> its latency metric. Every other figure is emitted by name below.
LATENCY_METRICS = {"search": "search_latency_ms", "assemble": "assemble_latency_ms", "index": "index_refresh_ms"}
METRIC_NAMES = (*LATENCY_METRICS.values(), "sqlite_read_ms", "cache_hit_ratio", "errors_total")
# A request's metric document keeps the start of its query (a bug report's title line fits) and a digest of
# all of it: small beside CloudWatch's 256 KB event limit, and enough to group repeated queries.
QUERY_CHARS = 200
QUERY_HASH_CHARS = 16


def level_of(kind: str | None) -> int:
    """Return the log level of an outcome: INFO for success, WARNING for the caller's errors, ERROR for ours."""
    if kind is None:
        return logging.INFO
    return logging.WARNING if is_caller_error(kind) else logging.ERROR


class SchemaFormatter(BasePowertoolsFormatter):
    """Render records with exactly ``LOG_FIELDS``, as one JSON object or one ``key=value`` text line."""

    def __init__(self, component: str, text: bool = False):
        super().__init__()
        self.component = component
        self.text = text
        self._keys: dict[str, Any] = {}

    def append_keys(self, **additional_keys: Any) -> None:
        self._keys.update(additional_keys)

    def get_current_keys(self) -> dict[str, Any]:
        return dict(self._keys)

    def remove_keys(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._keys.pop(key, None)

    def clear_state(self) -> None:
        self._keys = {}

    def format(self, record: logging.LogRecord) -> str:  # noqa: A003 - logging's name
        line: dict[str, Any] = dict.fromkeys(LOG_FIELDS)
        line["time"] = datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
        line["level"] = record.levelname
        line["component"] = self.component
        # Powertools' set_correlation_id() stores ``correlation_id``; the schema calls it corr_id.
        line["corr_id"] = self._keys.get("correlation_id")
        for key in LOG_FIELDS:
            if key in self._keys:
                line[key] = self._keys[key]
            if key in record.__dict__:
                line[key] = record.__dict__[key]
        line["msg"] = record.getMessage()
        if self.text:
            return " ".join(f"{k}={_logfmt(v)}" for k, v in line.items() if v is not None)
        return json.dumps(line, default=str, separators=(",", ":"))


def _logfmt(value: Any) -> str:
    """Return a text-log value as logfmt writes it: quoted (JSON string escapes) when it holds a space,
    a quote, an ``=`` or a control character, so every line still splits into its key=value pairs."""
    text = str(value)
    plain = text and text.isprintable() and not any(c in text for c in ' "=\\')
    return text if plain else json.dumps(text, ensure_ascii=False)


class _DropFailures(logging.Filter):
    """Drops the log line of a failed operation, for a CLI whose own ``pampax: kind: message`` line reports it.

    ``internal`` failures keep theirs: the schema line is what an operator greps for a defect.
    """

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging's name
        return getattr(record, "status", None) != "error" or getattr(record, "err_kind", None) == "internal"


def make_logger(settings: ObservabilitySettings, component: str, stream: IO[str] | None = None,
                drop_failures: bool = False) -> Logger:
    """Return a Powertools Logger writing the schema to ``stream`` (stdout in Lambda, stderr for the CLI).

    ``drop_failures`` leaves out failed operations' lines but ``internal`` ones (the CLI at its
    default level prints one line per failure itself).
    """
    stream = stream or sys.stdout
    text = settings.log_format == "text" or (settings.log_format == "auto" and stream.isatty())
    formatter = SchemaFormatter(component, text=text)
    logger = Logger(service=settings.service, level=settings.log_level, logger_handler=logging.StreamHandler(stream),
                    logger_formatter=formatter)
    # Powertools configures a service's logger once per process and ignores later arguments; a
    # second caller in the same process (tests, an embedding app) still gets its stream and format.
    attached = logging.getLogger(settings.service).handlers[0]
    attached.stream = stream  # not setStream(): it flushes the old stream, which may be closed
    attached.setFormatter(formatter)
    attached.filters = [_DropFailures()] if drop_failures else []
    logger.logger_handler = attached
    logger.setLevel(settings.log_level)
    return logger


def rotated(path: Path) -> Path:
    """Return where a metrics file goes once it is full: ``metrics.jsonl.1``."""
    return path.with_name(path.name + ".1")


class MetricsSink:
    """Where EMF documents go: a text stream (Lambda's stdout) or an appended JSON-lines file.

    A file over ``max_bytes`` is moved to ``rotated(path)`` (one generation kept) before the next
    write, so a long-lived CLI user's metrics cost at most twice that on disk.
    """

    def __init__(self, stream: IO[str] | None = None, path: Path | None = None, create: bool = True,
                 max_bytes: int = ObservabilitySettings().metrics_max_bytes):
        self.stream = stream
        self.path = path
        # False for read-only commands: they append to an existing file but never create one.
        self.create = create
        self.max_bytes = max_bytes

    def write(self, documents: list[dict]) -> None:
        lines = "".join(json.dumps(d, separators=(",", ":")) + "\n" for d in documents)
        if self.path is not None:
            if not self.create and not self.path.is_file():
                return
            # Metrics are best effort: an unwritable metrics file must not fail the operation it measures.
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if self.path.is_file() and self.path.stat().st_size > self.max_bytes:
                    os.replace(self.path, rotated(self.path))
                with self.path.open("a", encoding="utf-8") as file:
                    file.write(lines)
            except OSError:
                pass
        elif self.stream is not None:
            self.stream.write(lines)
            self.stream.flush()


@dataclass
class Operation:
    """One timed operation; the caller may add ``sqlite_ms`` and a cache outcome before it ends."""

    op: str
    sqlite_ms: float | None = None
    cache_hit: bool | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    # A failure the operation answered instead of raising (a failed health check): logged and counted,
    # as ``degraded`` (WARNING) when the operation still did its job, else as an ``error``.
    problem: PampaxError | None = None
    degraded: bool = False
    # What the request was about (query, result count, terms): EMF metadata on its metric document, searchable
    # in CloudWatch Logs and read by ``pampax analytics export``; never a dimension (unbounded values).
    properties: dict[str, Any] = field(default_factory=dict)

    def describe(self, query: str, results: int, terms: Iterable[str] | None = None, intent: str | None = None) -> None:
        """Record what the request asked, how it was read, how much it found and (a search) the index terms it matched on."""
        self.properties.update(query_sha256=hashlib.sha256(query.encode()).hexdigest()[:QUERY_HASH_CHARS],
                               query=query[:QUERY_CHARS], results=results, intent=intent,
                               terms=None if terms is None else list(terms))


class Telemetry:
    """Times operations, logs one schema line per operation and emits their metrics."""

    def __init__(self, settings: ObservabilitySettings, logger: Logger, sink: MetricsSink):
        self.settings = settings
        self.logger = logger
        self.sink = sink

    @contextmanager
    def operation(self, op: str) -> Iterator[Operation]:
        """Time the ``with`` body as ``op``; log it and emit its metrics whether it succeeds or fails.

        A ``PampaxError`` is logged with its kind and code (see ``level_of``), counted in
        ``errors_total{kind}`` (once per error, however many operations it crosses), marked
        ``reported`` and re-raised unchanged.
        """
        record = Operation(op)
        started = time.perf_counter()
        try:
            yield record
        except PampaxError as error:
            # An error an inner operation already counted (a failed load under a search) is logged, not recounted.
            counted, error.reported = error.reported, True
            self._finish(record, started, "error", error.kind, error.code, error.message, count=not counted)
            raise
        except Exception as error:
            self._finish(record, started, "error", "internal", 1, f"{type(error).__name__}: {error}")
            raise
        else:
            problem = record.problem
            if problem is None:
                self._finish(record, started, "ok", None, None, f"{op} ok")
            else:
                self._finish(record, started, "degraded" if record.degraded else "error", problem.kind, problem.code,
                             problem.message)

    def count_error(self, kind: str, message: str, op: str | None = None) -> None:
        """Log and count an error that did not fail the operation (a bypassed cache, say)."""
        self.logger.warning(message, extra={"op": op, "status": "degraded", "err_kind": kind})
        self.sink.write([self._document({"errors_total": (1, MetricUnit.Count)}, {"kind": kind}, {"op": op})])

    def reject(self, error: PampaxError, op: str) -> None:
        """Log and count a request refused before any operation ran (a 4xx from body parsing, say)."""
        error.reported = True
        self.logger.log(level_of(error.kind), error.message,
                        extra={"op": op, "status": "error", "err_kind": error.kind, "err_code": error.code})
        self.sink.write([self._document({"errors_total": (1, MetricUnit.Count)}, {"kind": error.kind}, {"op": op})])

    def _finish(self, record: Operation, started: float, status: str, kind: str | None, code: int | None,
                message: str, count: bool = True) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        level = logging.WARNING if status == "degraded" else level_of(kind)
        self.logger.log(level, message, extra={"op": record.op, "duration_ms": duration_ms, "status": status,
                                                "err_code": code, "err_kind": kind, **record.fields})
        values: dict[str, tuple[float, MetricUnit]] = {}
        if record.op in LATENCY_METRICS:
            values[LATENCY_METRICS[record.op]] = (duration_ms, MetricUnit.Milliseconds)
        if record.sqlite_ms is not None:
            values["sqlite_read_ms"] = (round(record.sqlite_ms, 3), MetricUnit.Milliseconds)
        if record.cache_hit is not None:
            # 100 or 0 per request: CloudWatch's Average over a period is then the hit ratio in percent.
            values["cache_hit_ratio"] = (100.0 if record.cache_hit else 0.0, MetricUnit.Percent)
        # ``outcome``, not ``status``: greps and Logs Insights queries on a log line's status must not match metrics.
        # Query text is the caller's data: it reaches the metrics (and CloudWatch Logs) only when asked for.
        properties = {k: v for k, v in record.properties.items() if k != "query" or self.settings.record_queries}
        documents = [self._document(values, {"op": record.op}, {"outcome": status, **properties})] if values else []
        if kind is not None and count:
            documents.append(self._document({"errors_total": (1, MetricUnit.Count)}, {"kind": kind}, {"op": record.op}))
        self.sink.write(documents)

    def _document(self, values: dict[str, tuple[float, MetricUnit]], dimensions: dict[str, str],
                  metadata: dict[str, Any] | None = None) -> dict:
        metrics = EphemeralMetrics(namespace=self.settings.namespace, service=self.settings.service)
        for name, value in dimensions.items():
            metrics.add_dimension(name, value)
        for key, value in (metadata or {}).items():
            if value is not None:
                metrics.add_metadata(key, value)
        for name, (value, unit) in values.items():
            metrics.add_metric(name=name, unit=unit, value=value)
        return metrics.serialize_metric_set()
