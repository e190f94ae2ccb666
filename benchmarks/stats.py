"""Latency summaries: p50/p95/max in milliseconds over a list of timed trials.

Percentiles use the nearest-rank method (the smallest sample with at least q of the samples at or
below it): every reported figure is a time that was actually measured, and the result does not
depend on an interpolation choice.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any


def percentile(samples: Sequence[float], q: float) -> float:
    """Return the nearest-rank ``q`` quantile (0 < q <= 1) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(q * len(ordered)), 1) - 1]


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
