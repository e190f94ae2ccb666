"""Latency summaries: p50/p95/max in milliseconds over a list of timed trials.

Percentiles use the nearest-rank method (the smallest sample with at least q of the samples at or
below it): every reported figure is a time that was actually measured, and the result does not
depend on an interpolation choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pampax.dashboard import percentile  # one nearest-rank percentile for the metrics dashboard and the benchmarks

__all__ = ["percentile", "summarize", "timed"]


def summarize(seconds: list[float]) -> dict[str, float | int]:
    """Return ``{"p50_ms", "p95_ms", "max_ms", "trials"}`` of durations given in seconds."""
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 3),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 3),
        "max_ms": round(max(seconds) * 1000, 3),
        "trials": len(seconds),
    }


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Return (seconds, result) of one call of ``action``, timed with the monotonic perf counter."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result
