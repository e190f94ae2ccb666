"""What a figure was measured on: machine, interpreter, SQLite engine, pampax version and exact core source.

Another engineer may be tuning the core while a run happens, so the record carries a digest of the
core's source files and the load average before and after: two results are comparable only when
they name the same core, and a high load says the run shared the CPUs.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pampax
from pampax import db

from . import ripgrep
from .corpora import BENCHMARKS

CORE_DIRS = ("layers/pampax/pampax", "local/pampax_local", "functions")


def environment() -> dict:
    """Return the run's environment record (the machine part's ``load_after`` is filled in by ``finish``)."""
    return {
        "timestamp": timestamp(),
        "python": platform.python_version(),
        "sqlite": f"{db.engine()} (stdlib sqlite3 {sqlite3.sqlite_version})",
        "pampax_version": pampax.__version__,
        "core": core_identity(BENCHMARKS.parent),
        "ripgrep": ripgrep.version() or "ripgrep not installed",
        "machine": {
            "cpu": _cpu_model(), "cpus": os.cpu_count(), "memory_gib": _memory_gib(),
            "platform": platform.platform(terse=True), "load_before": _load(), "load_after": None,
        },
    }


def timestamp() -> str:
    """Return the current UTC time to the second, ISO 8601."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def finish(environment: dict) -> None:
    environment["machine"]["load_after"] = _load()


def core_identity(repo: Path) -> str:
    """Return ``<commit>`` or ``<commit>+<digest>`` when the core's files differ from the commit."""
    commit = _git(repo, "rev-parse", "--short", "HEAD") or "no-git"
    if not _git(repo, "status", "--porcelain", "--", *CORE_DIRS):
        return commit
    digest = hashlib.sha256()
    for directory in CORE_DIRS:
        for path in sorted((repo / directory).rglob("*.py")):
            digest.update(path.relative_to(repo).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{commit}+{digest.hexdigest()[:10]}"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _load() -> float:
    return round(os.getloadavg()[0], 2)
