"""Figures that need pieces other issues are still building: how a figure says it was not measured.

A figure that cannot be measured on this checkout is recorded as ``{"status": "skipped", "reason"}``
naming what is missing, so one harness runs on every checkout and starts measuring as pieces land.
"""

from __future__ import annotations

import importlib.util


def skipped(reason: str) -> dict[str, str]:
    """Return the record of a figure that was not measured, with the reason a reader needs."""
    return {"status": "skipped", "reason": reason}


def missing(*modules: str) -> str:
    """Return the named modules that cannot be imported here, comma-separated ("" when all can)."""
    return ", ".join(m for m in modules if importlib.util.find_spec(m) is None)
