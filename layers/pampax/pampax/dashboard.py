"""A text dashboard over EMF metric documents: latency percentiles, cache hit ratio, errors by kind.

Reads what ``observability.MetricsSink`` writes (one EMF JSON document per line), so the same
summary works on a local metrics file and on EMF lines exported from CloudWatch Logs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from pydantic import BaseModel, Field


class Figure(BaseModel):
    metric: str
    unit: str
    count: int
    p50: float
    p95: float
    max: float
    mean: float


class MetricsSummary(BaseModel):
    documents: int
    skipped_lines: int
    window_start_ms: int | None
    window_end_ms: int | None
    figures: list[Figure]
    cache_hit_ratio: float | None = Field(description="percent of requests served from the cache (0..100, as the metric)")
    errors_by_kind: dict[str, int]


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (``share`` in 0..1) of non-empty ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarize(lines: Iterable[str], since_ms: int | None = None) -> MetricsSummary:
    """Return the summary of the EMF documents in ``lines`` at or after ``since_ms`` (epoch milliseconds).

    Lines that are not EMF documents are counted and skipped, so a log file with mixed content works.
    """
    values: dict[str, list[float]] = {}
    units: dict[str, str] = {}
    errors: dict[str, int] = {}
    documents = skipped = 0
    first = last = None
    for line in lines:
        try:
            document = json.loads(line)
            meta = document["_aws"]
            stamp = int(meta["Timestamp"])
            declared = meta["CloudWatchMetrics"][0]["Metrics"]
        except (ValueError, KeyError, IndexError, TypeError):
            skipped += 1
            continue
        if since_ms is not None and stamp < since_ms:
            continue
        documents += 1
        first = stamp if first is None else min(first, stamp)
        last = stamp if last is None else max(last, stamp)
        for metric in declared:
            name = metric["Name"]
            samples = document.get(name, [])
            samples = samples if isinstance(samples, list) else [samples]
            if name == "errors_total":
                kind = str(document.get("kind", "unknown"))
                errors[kind] = errors.get(kind, 0) + int(sum(samples))
                continue
            values.setdefault(name, []).extend(float(v) for v in samples)
            units[name] = metric.get("Unit", "None")
    figures = [
        Figure(metric=name, unit=units[name], count=len(samples), p50=round(percentile(samples, 0.5), 3),
               p95=round(percentile(samples, 0.95), 3), max=round(max(samples), 3),
               mean=round(sum(samples) / len(samples), 3))
        for name, samples in sorted(values.items()) if samples and name != "cache_hit_ratio"
    ]
    hits = values.get("cache_hit_ratio")
    return MetricsSummary(
        documents=documents, skipped_lines=skipped, window_start_ms=first, window_end_ms=last, figures=figures,
        cache_hit_ratio=round(sum(hits) / len(hits), 2) if hits else None, errors_by_kind=dict(sorted(errors.items())),
    )


def render_text(summary: MetricsSummary) -> str:
    """Return the summary as a fixed-width table; identical summaries give identical text."""
    out = [f"{summary.documents} metric documents ({summary.skipped_lines} other lines skipped)", ""]
    out.append(f"{'metric':<22}{'unit':<14}{'count':>7}{'p50':>11}{'p95':>11}{'max':>11}")
    for f in summary.figures:
        out.append(f"{f.metric:<22}{f.unit:<14}{f.count:>7}{f.p50:>11.3f}{f.p95:>11.3f}{f.max:>11.3f}")
    ratio = "n/a" if summary.cache_hit_ratio is None else f"{summary.cache_hit_ratio:.1f}%"
    out += ["", f"cache hit ratio: {ratio}"]
    errors = ", ".join(f"{k}={v}" for k, v in summary.errors_by_kind.items()) or "none"
    out.append(f"errors by kind: {errors}")
    return "\n".join(out) + "\n"
