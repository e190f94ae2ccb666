"""Cold search through the CLI: a fresh ``pampax search`` process, timed from spawn to exit.

"Cold" here is process-cold: interpreter start, imports, opening the index, one answer, exit. Each
process gets an empty cache file, so it answers by searching, not from an earlier run's cache. The
index file stays in the OS page cache (dropping it needs root and measures the disk, not pampax).
The bare interpreter start is measured the same way, as the floor no CLI change can go below.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

from . import ripgrep
from .query_set import Query
from .slots import skipped
from .stats import summarize, timed


def pampax_executable() -> Path:
    """Return the ``pampax`` console script installed beside this interpreter."""
    return Path(sys.executable).with_name("pampax")


def cli_search_figures(index_path: Path, queries: list[Query], trials: int, root: Path | None = None) -> dict:
    """Return the cold CLI search figure (cycling through ``queries``) and the interpreter-start floor.

    With ``root`` and ripgrep installed, each pampax run is paired with ``rg -n -w -F QUERY`` over the
    tree right after it (same query, same moment of the machine's load): ``cli.cold_vs_rg`` holds the
    pairs' ratios, the comparison the load of a shared machine distorts least.
    """
    command = [str(pampax_executable()), "search", "--index", str(index_path), "--limit", "10", "--format", "json"]
    rg = root is not None and shutil.which(ripgrep.RG) is not None
    seconds, rg_seconds = [], []
    for n in range(trials):
        with tempfile.TemporaryDirectory(prefix="pampax-bench-") as scratch:
            env = {**os.environ, "PAMPAX_CACHE_PATH": f"{scratch}/cache.db",
                   "PAMPAX_OBSERVABILITY_METRICS_FILE": f"{scratch}/metrics.jsonl"}
            # The query follows "--", so a query starting with "-" is never read as an option.
            query = queries[n % len(queries)].query
            seconds.append(timed(partial(_run, [*command, "--", query], env))[0])
            if rg:
                rg_seconds.append(timed(partial(ripgrep.lines, root, query))[0])
    floor = [timed(partial(_run, [sys.executable, "-c", "pass"], dict(os.environ)))[0] for _ in range(trials)]
    figures = {"cli.cold_search": summarize(seconds), "cli.python_start": summarize(floor)}
    if root is not None and not rg:
        figures["cli.cold_vs_rg"] = skipped("ripgrep not installed (Debian package ripgrep)")
    elif rg:
        ratios = sorted(p / r for p, r in zip(seconds, rg_seconds))
        figures["cli.cold_vs_rg"] = {"pairs": len(ratios), "ratio_p50": round(ratios[len(ratios) // 2], 2),
                                     "ratio_max": round(ratios[-1], 2), "rg": summarize(rg_seconds)}
    return figures


def _run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
