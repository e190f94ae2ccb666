"""A text dashboard over EMF metric documents: latency percentiles, cache hit ratio, errors by kind.

Reads what ``observability.MetricsSink`` writes (one EMF JSON document per line), so the same
summary works on a local metrics file and on EMF lines exported from CloudWatch Logs (a line may
start with the export's timestamp and stream name; a ``.gz`` export is read as it is).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from .observability import rotated


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


def percentile(values: Sequence[float], share: float) -> float:
    """Return the nearest-rank percentile (``share`` in 0..1) of non-empty ``values``: the smallest value with at
    least ``share`` of them at or below it, so every figure is one that was measured, with no interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class Document:
    """One EMF document: its timestamp (epoch milliseconds), its JSON body and the metrics it declares."""

    stamp: int
    body: dict
    declared: list[dict]

    def samples(self, name: str) -> list[float]:
        """Return the values of metric ``name`` (EMF allows one value or a list)."""
        value = self.body.get(name, [])
        return [float(v) for v in (value if isinstance(value, list) else [value])]


def read_documents(lines: Iterable[str], since_ms: int | None = None) -> tuple[list[Document], int]:
    """Return (the EMF documents in ``lines`` at or after ``since_ms``, how many lines were not EMF documents).

    A line may carry text before its JSON (CloudWatch Logs exports prefix a timestamp); lines that are
    not EMF documents are counted and skipped, so a log file with mixed content works.
    """
    documents: list[Document] = []
    skipped = 0
    for line in lines:
        try:
            body = json.loads(line[line.index("{"):])
            meta = body["_aws"]
            document = Document(int(meta["Timestamp"]), body, list(meta["CloudWatchMetrics"][0]["Metrics"]))
        except (ValueError, KeyError, IndexError, TypeError):
            skipped += 1
            continue
        if since_ms is None or document.stamp >= since_ms:
            documents.append(document)
    return documents, skipped


def metric_lines(path: Path) -> Iterator[str]:
    """Yield the lines of a metrics file's rotated part (``FILE.1``: the older documents) and then of the file;
    a gzip file (a CloudWatch Logs export to S3) is unpacked."""
    for file in (rotated(path), path):
        if not file.is_file():
            continue
        with file.open("rb") as probe:
            packed = probe.read(2) == b"\x1f\x8b"
        with gzip.open(file, "rt", encoding="utf-8") if packed else file.open(encoding="utf-8") as handle:
            yield from handle


def summarize(lines: Iterable[str], since_ms: int | None = None) -> MetricsSummary:
    """Return the summary of the EMF documents in ``lines`` at or after ``since_ms`` (epoch milliseconds)."""
    values: dict[str, list[float]] = {}
    units: dict[str, str] = {}
    errors: dict[str, int] = {}
    found, skipped = read_documents(lines, since_ms)
    stamps = [d.stamp for d in found]
    first, last = (min(stamps), max(stamps)) if stamps else (None, None)
    documents = len(found)
    for document in found:
        for metric in document.declared:
            name = metric["Name"]
            samples = document.samples(name)
            if name == "errors_total":
                kind = str(document.body.get("kind", "unknown"))
                errors[kind] = errors.get(kind, 0) + int(sum(samples))
                continue
            values.setdefault(name, []).extend(samples)
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
