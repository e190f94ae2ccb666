"""Keep a ``LiveIndex`` fresh while files change: ``pampax watch`` and the MCP server both run this loop.

watchfiles groups the events of a burst (an editor's save, a formatter, a checkout) and yields
once it has been quiet for ``STEP_MS``; each batch becomes one incremental refresh, which itself
finds what changed by size and mtime, so an event the filter lets through costs a walk at most.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
from watchfiles import DefaultFilter, awatch

from pampax.live import LiveIndex
from pampax.models import IndexReport
from pampax.observability import Telemetry
from pampax.walk import IGNORED_DIRS

# Quiet time that closes a burst, and the longest a burst may keep a refresh waiting.
STEP_MS = 100
DEBOUNCE_MS = 1000


class _TreeFilter(DefaultFilter):
    """Events worth a refresh: not in a directory the walk skips, and not the index's own writes."""

    def __init__(self, index_dir: Path):
        super().__init__(ignore_dirs=tuple(IGNORED_DIRS | set(DefaultFilter.ignore_dirs)),
                         ignore_paths=(str(index_dir.resolve()),))


async def keep_fresh(live: LiveIndex, telemetry: Telemetry,
                     on_refresh: Callable[[IndexReport], None] | None = None) -> None:
    """Refresh once now (catching edits made while nobody watched), then after every burst of changes. Never returns."""
    live.watching = True
    try:
        await _refresh(live, telemetry, on_refresh)
        async for _ in awatch(live.root, watch_filter=_TreeFilter(live.path.parent), step=STEP_MS,
                              debounce=DEBOUNCE_MS):
            await _refresh(live, telemetry, on_refresh)
    finally:
        live.watching = False


async def _refresh(live: LiveIndex, telemetry: Telemetry, on_refresh) -> None:
    try:
        with telemetry.operation("index"):
            report = await anyio.to_thread.run_sync(live.refresh)
    except Exception:  # logged by the operation; the next change tries again
        return
    if on_refresh is not None:
        on_refresh(report)
