"""Index build figures: full build (time, peak RSS), index size against source, re-index after one edit.

A full build runs in a fresh child process (``python -m benchmarks.builds ROOT INDEX``) so that its
peak RSS is its own and not the harness's: the child reports ``getrusage(RUSAGE_SELF)`` for itself
and ``getrusage(RUSAGE_CHILDREN)`` for its parser pool (the largest worker, since ru_maxrss of
children is a maximum, not a sum). The re-index figure runs in-process: it is one call of
``build_index`` on an index that already exists, which is what an editor integration does.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from pampax.build import build_index
from pampax.config import IndexSettings
from pampax.index import open_index

from .corpora import BENCHMARKS
from .stats import summarize

_EDIT = "\n# pampax benchmark edit {n}\n"


def full_build(root: Path, index_path: Path, trials: int) -> dict:
    """Return the full-build figure: build time over ``trials`` fresh processes, peak RSS, and the last report."""
    seconds, runs = [], []
    for _ in range(trials):
        index_path.unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.builds", str(root), str(index_path)],
            cwd=BENCHMARKS.parent, capture_output=True, text=True, check=True,
        )
        run = json.loads(done.stdout)
        seconds.append(run["seconds"])
        runs.append(run)
    worst = max(runs, key=lambda r: r["main_rss_kb"] + r["workers"] * r["worker_rss_kb"])
    report = runs[-1]["report"]
    return {
        **summarize(seconds),
        "peak_rss_main_mb": round(worst["main_rss_kb"] / 1024, 1),
        "peak_rss_worker_mb": round(worst["worker_rss_kb"] / 1024, 1),
        "workers": worst["workers"],
        # Main plus every worker at its own peak: an upper bound on the tree's resident memory.
        "peak_rss_total_mb": round((worst["main_rss_kb"] + worst["workers"] * worst["worker_rss_kb"]) / 1024, 1),
        "files": report["files"], "chunks": report["chunks"], "symbols": report["symbols"], "edges": report["edges"],
        "skipped": report["skipped"],
    }


def index_size(root: Path, index_path: Path) -> dict:
    """Return the index's bytes against the bytes of the files it holds and of the whole tree."""
    with open_index(index_path) as index:
        indexed = index.query("SELECT coalesce(sum(size), 0) FROM files")[0][0]
    tree = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    size = index_path.stat().st_size
    return {"index_bytes": size, "source_bytes": indexed, "tree_bytes": tree,
            "ratio": round(size / max(indexed, 1), 3)}


def reindex_one_file(root: Path, index_path: Path, edit_file: str, trials: int) -> dict:
    """Return the re-index figure: ``build_index`` after one file changed, timed over ``2 * trials`` edits.

    Each trial appends a comment line to ``edit_file`` and re-indexes, then restores the original
    bytes and re-indexes again; both are one-file changes, and the tree ends as it began.
    """
    target = root / edit_file
    original = target.read_bytes()
    seconds, parsed = [], set()
    try:
        for n in range(trials):
            for content in (original + _EDIT.format(n=n).encode(), original):
                target.write_bytes(content)
                started = time.perf_counter()
                report = build_index(root, index_path, IndexSettings())
                seconds.append(time.perf_counter() - started)
                parsed.add(report.parsed_files)
    finally:
        target.write_bytes(original)
    return {**summarize(seconds), "file": edit_file, "parsed_files": sorted(parsed)}


def _child(root: str, index_path: str) -> None:
    """Build one full index and print its report, time and peak RSS as JSON (the child of ``full_build``)."""
    settings = IndexSettings()
    started = time.perf_counter()
    report = build_index(root, index_path, settings, full=True)
    seconds = time.perf_counter() - started
    workers = settings.workers or os.cpu_count() or 1
    print(json.dumps({
        "seconds": seconds, "report": report.model_dump(mode="json"), "workers": workers,
        "main_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "worker_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }))


if __name__ == "__main__":
    _child(*sys.argv[1:3])
