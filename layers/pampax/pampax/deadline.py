"""The current request's deadline: how long AWS and cache calls may still take.

A handler sets it from the Lambda context at the start of each invocation (``api.entry_point``)
and clears it at the end; outside Lambda there is none and only botocore's own timeouts bound a
call. It is process-wide rather than a context variable because s3transfer moves bytes on threads
of its own; a Lambda process serves one request at a time, and the local harness runs handlers
one at a time too.
"""

from __future__ import annotations

import time
from typing import Any

# Kept back from the Lambda's remaining time, to answer once the last call has given up.
RESERVE_SECONDS = 1.0

_end: float | None = None


def start(context: Any) -> None:
    """Begin a request whose deadline is ``context.get_remaining_time_in_millis()`` less the reserve."""
    global _end
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    _end = time.monotonic() + remaining_ms() / 1000 - RESERVE_SECONDS if callable(remaining_ms) else None


def clear() -> None:
    """End the request: later calls are bounded by their timeouts alone."""
    global _end
    _end = None


def remaining() -> float | None:
    """Return the seconds left before the deadline (negative once past), or None without one."""
    return None if _end is None else _end - time.monotonic()
