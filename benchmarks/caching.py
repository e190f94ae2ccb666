"""Cache figures through the core's ``Service`` (what the CLI and the handlers call): hit latency and hit ratio.

The service is built as the CLI builds it (SQLite cache store, telemetry with an EMF metrics file)
but around the one warm, shared index and a scratch cache, so a run starts with an empty cache.
The hit ratio is read back from the ``cache_hit_ratio`` metric the service emits (100 or 0 per
request), not inferred from timings: a fast miss and a hit look alike.
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
import tempfile
from pathlib import Path

from pampax.index import Index, open_index
from pampax.models import AssembleRequest, SearchRequest

from .latency import LIMIT
from .query_set import Query
from .slots import missing, skipped
from .stats import summarize, timed

# The repeated-query mix: every query of the set this many times, as a search and as an 8k bundle,
# in one seeded shuffle, so an agent's repeats are spread over the session as they are in use.
MIX_REPEATS = 3
MIX_BUDGET = 8000
MIX_SEED = 6
MIX = f"each query {MIX_REPEATS}×, search + assemble {MIX_BUDGET}, shuffled (seed {MIX_SEED})"


def cache_figures(index_path: Path, queries: list[Query], trials: int) -> dict:
    """Return ``cache.hit`` (warm search answered from the cache) and ``cache.hit_ratio`` of the mix."""
    absent = missing("pampax.service", "pampax.cache", "pampax.observability")
    if absent:
        reason = f"not built yet: needs {absent}"
        return {"cache.hit": skipped(reason), "cache.hit_ratio": skipped(reason)}
    requests = [SearchRequest(query=q.query, limit=LIMIT) for q in queries]
    with open_index(index_path) as index:
        with _service(index) as (service, _):
            for request in requests:
                service.search(request)  # the misses that fill the cache
            hits = [timed(lambda r=r: service.search(r))[0] for _ in range(trials) for r in requests]
        with _service(index) as (service, metrics):
            mix = [(service.search, r) for r in requests] + [
                (service.assemble, AssembleRequest(query=q.query, budget=MIX_BUDGET)) for q in queries]
            mix = mix * MIX_REPEATS
            random.Random(MIX_SEED).shuffle(mix)
            for call, request in mix:
                call(request)
            outcomes = _metric(metrics, "cache_hit_ratio")
    return {"cache.hit": summarize(hits),
            "cache.hit_ratio": {"ratio": round(sum(outcomes) / 100 / len(outcomes), 4), "requests": len(outcomes),
                                "mix": MIX}}


@contextlib.contextmanager
def _service(index: Index):
    """Yield (service, metrics file) over ``index`` with an empty scratch cache and the default config."""
    from pampax.cache import ReadThroughCache
    from pampax.config import load_config
    from pampax.observability import MetricsSink, Telemetry, make_logger
    from pampax.service import Service
    from pampax.stores import open_cache_store

    with tempfile.TemporaryDirectory(prefix="pampax-bench-") as scratch:
        metrics = Path(scratch) / "metrics.jsonl"
        # env={}: the run measures the defaults, whatever PAMPAX_* variables the shell has.
        config = load_config(env={}, cwd=Path(scratch), flags={"cache.path": str(Path(scratch) / "cache.db"),
                                                                "observability.metrics_file": str(metrics)}).config
        telemetry = Telemetry(config.observability, make_logger(config.observability, "bench", sys.stderr),
                              MetricsSink(path=metrics))
        cache = ReadThroughCache(open_cache_store(config, Path(scratch) / "cache.db"), config.cache, telemetry)
        yield Service(config, lambda: contextlib.nullcontext(index), telemetry, cache), metrics


def _metric(path: Path, name: str) -> list[float]:
    """Return every value of metric ``name`` in an EMF JSON-lines file (EMF allows a value or a list)."""
    values: list[float] = []
    for document in map(json.loads, path.read_text().splitlines()):
        value = document.get(name)
        values += value if isinstance(value, list) else [] if value is None else [value]
    return values
