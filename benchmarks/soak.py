"""Soak: a search + assemble mix for a fixed time, watching RSS, errors and latency drift.

One process, one open index, the in-process core (what a warm Lambda or ``pampax local serve``
runs), requests back to back: three searches to one 8k bundle, cycling through the corpus's query
set in a seeded shuffle. RSS is read from ``/proc/self/statm`` every ``--sample-seconds``. Growth is
measured from the RSS once the first window is done (the first pass fills SQLite's page cache and
the interpreter's; that is warm-up, not a leak) to the largest RSS of the last window; the same is
reported for anonymous memory, which tells a heap leak from more of the mapped index being
resident. Drift compares the first and last windows' p50/p95. The loop stops by itself after
``--seconds``.

    python -m benchmarks.soak --corpus medium                # 30 minutes, the acceptance figure
    python -m benchmarks.soak --corpus small --seconds 60    # the CI variant

Exits 1 when a request failed or RSS grew by 10 % or more (the gate), 0 otherwise; the figure
goes to ``results/<corpus>.soak.json`` and into ``results/<corpus>.json`` (and its table) when a
run left one; later runs pick it up from the soak file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from array import array
from collections import Counter
from pathlib import Path

from pampax import assemble, search
from pampax.build import build_index
from pampax.config import IndexSettings
from pampax.index import open_index
from pampax.models import AssembleRequest, SearchRequest

from . import corpora
from .corpora import CACHE, CORPORA
from .machine import core_identity, timestamp
from .query_set import load, sample_identifiers
from .run import write
from .stats import percentile

SEARCHES_PER_BUNDLE = 3
BUDGET = 8000
SEED = 6
# A window is this share of the run (at least one sample interval): long enough for a stable p95.
WINDOW_SHARE = 0.1
RSS_GATE_PCT = 10
_PAGE = os.sysconf("SC_PAGE_SIZE")


def memory() -> tuple[int, int]:
    """Return this process's (resident, anonymous resident) bytes, from /proc/self/statm.

    Resident includes the pages of the memory-mapped index file; anonymous (resident minus shared)
    is the heap alone. A leak grows the second; touching more of the index grows only the first.
    """
    with open("/proc/self/statm") as statm:
        resident, shared = (int(field) for field in statm.read().split()[1:3])
    return resident * _PAGE, (resident - shared) * _PAGE


def soak(index_path: Path, queries: list[str], seconds: float, sample_seconds: float) -> dict:
    """Return the soak figure of running the mix against ``index_path`` for ``seconds``."""
    mix = _mix(queries)
    window = max(seconds * WINDOW_SHARE, sample_seconds)
    # Only the two windows' latencies are kept, in compact arrays: a list of every request's timing
    # grew the soak's own heap by ~110 bytes a request, which read as a 6 % RSS "leak" in 30 minutes.
    first, last = array("d"), array("d")
    requests = 0
    started = time.monotonic()
    samples: list[tuple[float, int, int]] = [(0.0, *memory())]  # (elapsed, resident, anonymous)
    errors: Counter[str] = Counter()
    with open_index(index_path) as index:
        while (elapsed := time.monotonic() - started) < seconds:
            kind, query = mix[requests % len(mix)]
            requests += 1
            begun = time.perf_counter()
            try:
                if kind == "search":
                    search.search(index, SearchRequest(query=query, limit=10))
                else:
                    assemble.assemble(index, AssembleRequest(query=query, budget=BUDGET))
            except Exception as exc:  # noqa: BLE001 - counted, not fatal: the soak reports how many and which
                errors[type(exc).__name__] += 1
            taken = time.perf_counter() - begun
            if elapsed < window:
                first.append(taken)
            elif elapsed >= seconds - window:
                last.append(taken)
            if elapsed - samples[-1][0] >= sample_seconds:
                samples.append((elapsed, *memory()))
        samples.append((time.monotonic() - started, *memory()))  # with the index still open, like the rest
    return _figure(first, last, requests, samples, errors, window)


def _mix(queries: list[str]) -> list[tuple[str, str]]:
    """Return one cycle of the mix: every query as a search, every third one also as a bundle, shuffled."""
    mix = [("search", q) for q in queries] + [("assemble", q) for q in queries[::SEARCHES_PER_BUNDLE]]
    random.Random(SEED).shuffle(mix)
    return mix


def _figure(first: array, last: array, requests: int, samples, errors: Counter, window: float) -> dict:
    total = samples[-1][0]
    settled = next((s for s in samples if s[0] >= window), samples[-1])
    peak_last = max((s for s in samples if s[0] >= total - window), key=lambda s: s[1])
    first_p95, last_p95 = percentile(first, 0.95) * 1000, percentile(last, 0.95) * 1000
    return {
        "seconds": round(total, 1),
        "requests": requests,
        "errors": sum(errors.values()),
        "errors_by_type": dict(sorted(errors.items())),
        "rss_start_mb": round(samples[0][1] / 2**20, 1),
        "rss_settled_mb": round(settled[1] / 2**20, 1),
        "rss_end_mb": round(peak_last[1] / 2**20, 1),
        "rss_growth_pct": round((peak_last[1] - settled[1]) / settled[1] * 100, 2),
        "anon_settled_mb": round(settled[2] / 2**20, 1),
        "anon_growth_pct": round((peak_last[2] - settled[2]) / settled[2] * 100, 2),
        "first_window": {"p50_ms": round(percentile(first, 0.5) * 1000, 3), "p95_ms": round(first_p95, 3)},
        "last_window": {"p50_ms": round(percentile(last, 0.5) * 1000, 3), "p95_ms": round(last_p95, 3)},
        "p95_drift_pct": round((last_p95 - first_p95) / first_p95 * 100, 1),
        "window_seconds": round(window, 1),
        "rss_mb_over_time": [[round(at), round(rss / 2**20, 1), round(anon / 2**20, 1)] for at, rss, anon in samples],
    }


def _record(directory: Path, name: str, requirement: str, figure: dict) -> None:
    """Write ``<name>.soak.json`` and put the figure into ``<name>.json`` when a run left one, re-rendering its table."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.soak.json").write_text(json.dumps({"corpus": requirement, "soak": figure}) + "\n")
    record = directory / f"{name}.json"
    if record.is_file():
        results = json.loads(record.read_text())
        results["figures"]["soak"] = figure
        write(results, directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="medium")
    parser.add_argument("--seconds", type=float, default=1800, help="how long to run (default 1800)")
    parser.add_argument("--sample-seconds", type=float, default=None,
                        help="RSS sampling interval (default: a sixtieth of the run, at least 1 s)")
    parser.add_argument("--out", type=Path, default=corpora.BENCHMARKS / "results")
    args = parser.parse_args(argv)
    corpus = CORPORA[args.corpus]
    root = corpora.fetch(corpus)
    index_path = CACHE / "indexes" / f"{corpus.name}.db"
    build_index(root, index_path, IndexSettings())  # a refresh when run.py built it already
    queries = [q.query for q in load(corpus)]
    if not queries:
        with open_index(index_path) as index:
            queries = [q.query for q in sample_identifiers(index)]
    sample_seconds = args.sample_seconds or max(args.seconds / 60, 1.0)
    # When and on which core: a soak file outlives the run that wrote it and is merged into later tables.
    figure = {"timestamp": timestamp(), "core": core_identity(corpora.BENCHMARKS.parent),
              **soak(index_path, queries, args.seconds, sample_seconds)}
    _record(args.out, corpus.name, corpus.requirement, figure)
    summary = {k: v for k, v in figure.items() if k != "rss_mb_over_time"}
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    return 1 if figure["errors"] or figure["rss_growth_pct"] >= RSS_GATE_PCT else 0


if __name__ == "__main__":
    sys.exit(main())
