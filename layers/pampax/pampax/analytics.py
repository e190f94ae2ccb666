"""Usage analytics from EMF metric documents: what was asked, how it went, what it cost.

``pampax analytics export`` reads the documents ``dashboard.read_documents`` reads (the local
metrics file, or a CloudWatch Logs export of the Lambda functions' EMF lines) and reports requests
by operation, status and intent, latency percentiles per operation (nearest rank, as the dashboard
and the benchmarks), the cache hit ratio per time bucket, zero-result queries, errors by kind and
operation, and the most used query terms.

Queries are shown as ``sha256:<prefix>`` (the digest the service records with each request) unless
asked for their text. Terms are shown as they are: search keeps only terms the index holds, so
they are the indexed code's own words, not the caller's.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone

from pydantic import BaseModel, Field

from .dashboard import Document, percentile
from .errors import InvalidArgument

CSV_COLUMNS = ("section", "bucket_start", "op", "status", "intent", "kind", "subject", "metric", "value")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class RequestCount(BaseModel):
    op: str
    status: str
    intent: str = Field(description="the request's intent when the service recorded one, else unknown")
    count: int


class Latency(BaseModel):
    op: str
    metric: str
    count: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float


class CacheBucket(BaseModel):
    start: str = Field(description="bucket start, ISO 8601 UTC")
    requests: int
    hits: int
    hit_ratio: float = Field(description="percent of the bucket's requests served from the cache")


class QueryCount(BaseModel):
    op: str
    query: str = Field(description="sha256:<prefix> of the query, or its first characters with --include-queries")
    count: int


class ErrorCount(BaseModel):
    kind: str
    op: str
    count: int


class TermCount(BaseModel):
    term: str
    count: int = Field(description="searches that used the term")


class UsageReport(BaseModel):
    documents: int
    skipped_lines: int
    since: str | None
    window_start: str | None
    window_end: str | None
    bucket_seconds: int
    queries_included: bool
    requests: list[RequestCount]
    latency: list[Latency]
    cache: list[CacheBucket]
    zero_result_queries: list[QueryCount]
    errors: list[ErrorCount]
    top_terms: list[TermCount]


def parse_since(text: str, now_ms: int) -> int:
    """Return epoch milliseconds for ``--since``: an ISO 8601 time (UTC when it names no zone) or a duration
    before ``now_ms`` (``90`` seconds, ``30m``, ``24h``, ``7d``, ``2w``). Raises ``InvalidArgument``."""
    text = text.strip()
    duration = _DURATION.fullmatch(text)
    if duration:
        return now_ms - int(float(duration[1]) * _SECONDS[duration[2]] * 1000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"--since {text!r} is neither an ISO 8601 time nor a duration like 24h") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def usage_report(documents: Iterable[Document], *, skipped_lines: int = 0, since_ms: int | None = None,
                 bucket_seconds: int = 3600, include_queries: bool = False, top: int = 20) -> UsageReport:
    """Return the usage report of ``documents`` (already cut to ``since_ms``; it is echoed in the report)."""
    requests: Counter[tuple[str, str, str]] = Counter()
    latency: dict[tuple[str, str], list[float]] = defaultdict(list)
    buckets: dict[int, list[float]] = defaultdict(list)
    zero: Counter[tuple[str, str]] = Counter()
    errors: Counter[tuple[str, str]] = Counter()
    terms: Counter[str] = Counter()
    stamps = []
    bucket_ms = bucket_seconds * 1000
    for document in documents:
        stamps.append(document.stamp)
        body, names = document.body, [m["Name"] for m in document.declared]
        op = str(body.get("op") or "unknown")
        if "errors_total" in names:
            errors[(str(body.get("kind", "unknown")), op)] += int(sum(document.samples("errors_total")))
            continue
        requests[(op, str(body.get("outcome") or "unknown"), str(body.get("intent") or "unknown"))] += 1
        for metric in document.declared:
            if metric.get("Unit") == "Milliseconds":
                latency[(op, metric["Name"])].extend(document.samples(metric["Name"]))
        if "cache_hit_ratio" in names:
            buckets[document.stamp // bucket_ms * bucket_ms].extend(document.samples("cache_hit_ratio"))
        if body.get("results") == 0 and body.get("query_sha256"):
            shown = str(body.get("query", "")) if include_queries else f"sha256:{body['query_sha256']}"
            zero[(op, shown)] += 1
        terms.update(set(body.get("terms") or ()))
    return UsageReport(
        documents=len(stamps), skipped_lines=skipped_lines, since=_iso(since_ms),
        window_start=_iso(min(stamps)) if stamps else None, window_end=_iso(max(stamps)) if stamps else None,
        bucket_seconds=bucket_seconds, queries_included=include_queries,
        requests=[RequestCount(op=o, status=s, intent=i, count=n) for (o, s, i), n in sorted(requests.items())],
        latency=[_latency(op, metric, values) for (op, metric), values in sorted(latency.items()) if values],
        cache=[CacheBucket(start=_iso(start), requests=len(v), hits=sum(1 for x in v if x >= 100.0),
                           hit_ratio=round(sum(v) / len(v), 2)) for start, v in sorted(buckets.items())],
        zero_result_queries=[QueryCount(op=o, query=q, count=n) for (o, q), n in _most_common(zero)],
        errors=[ErrorCount(kind=k, op=o, count=n) for (k, o), n in sorted(errors.items())],
        top_terms=[TermCount(term=t, count=n) for t, n in _most_common(terms)[:top]],
    )


def _latency(op: str, metric: str, values: list[float]) -> Latency:
    return Latency(op=op, metric=metric, count=len(values), p50=round(percentile(values, 0.5), 3),
                   p95=round(percentile(values, 0.95), 3), p99=round(percentile(values, 0.99), 3),
                   max=round(max(values), 3), mean=round(sum(values) / len(values), 3))


def _most_common(counts: Counter) -> list:
    """Return (key, count) pairs by count, ties by key: ``Counter.most_common`` keeps insertion order for ties."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _iso(stamp_ms: int | None) -> str | None:
    if stamp_ms is None:
        return None
    return datetime.fromtimestamp(stamp_ms / 1000, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def to_csv(report: UsageReport) -> str:
    """Return the report as one tidy CSV table (``CSV_COLUMNS``): one row per figure, ``section`` naming its part."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def row(section: str, metric: str, value, **cells) -> None:
        writer.writerow([section, *(cells.get(c, "") for c in CSV_COLUMNS[1:7]), metric, value])

    for r in report.requests:
        row("requests", "count", r.count, op=r.op, status=r.status, intent=r.intent)
    for lat in report.latency:
        for figure in ("count", "p50", "p95", "p99", "max", "mean"):
            row("latency", figure, getattr(lat, figure), op=lat.op, subject=lat.metric)
    for b in report.cache:
        for figure in ("requests", "hits", "hit_ratio"):
            row("cache", figure, getattr(b, figure), bucket_start=b.start)
    for q in report.zero_result_queries:
        row("zero_result_queries", "count", q.count, op=q.op, subject=q.query)
    for e in report.errors:
        row("errors", "count", e.count, op=e.op, kind=e.kind)
    for t in report.top_terms:
        row("top_terms", "count", t.count, subject=t.term)
    return out.getvalue()
