"""Run every benchmark on one corpus and write ``results/<corpus>.json`` and ``results/<corpus>.txt``.

Order matters: the full builds run first (fresh processes, nothing else competing), then the
in-process figures on the last build's index, then the process-spawning ones (CLI, rg, handler).

    python -m benchmarks.run --corpus medium               # the committed baseline's settings
    python -m benchmarks.run --corpus small --quick        # CI smoke: few trials, no assertions
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from pampax.index import open_index

from . import (
    builds,
    caching,
    cold,
    corpora,
    handler,
    latency,
    machine,
    relevance,
    ripgrep,
)
from .corpora import BENCHMARKS, CACHE, CORPORA
from .query_set import TYPES, load, of_type, sample_identifiers
from .report import render
from .slots import skipped

RESULTS = BENCHMARKS / "results"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class Trials:
    """How many times each figure is measured; the slow figures take a quarter of the search trials."""

    search: int
    assemble: int
    rg: int
    cli: int
    handler: int
    handler_cold: int
    builds: int
    reindex: int

    @classmethod
    def plan(cls, search: int, builds: int, quick: bool) -> Trials:
        if quick:
            return cls(search=2, assemble=1, rg=1, cli=2, handler=2, handler_cold=1, builds=1, reindex=1)
        slow = max(search // 4, 2)
        return cls(search=search, assemble=slow, rg=slow, cli=10, handler=slow, handler_cold=3, builds=builds,
                   reindex=3)


def run_benchmarks(name: str, trials: Trials, *, quick: bool = False, cache: Path = CACHE,
                   private: Path | None = None) -> dict:
    """Return the results record of one corpus (see README.md for every key).

    The index and the tree the re-index figure edits live in the shared cache, unless ``private``
    names a directory: then both are a copy there, so a concurrent run (a test suite during a
    benchmark) neither sees this run's edits nor overwrites its index.
    """
    corpus = CORPORA[name]
    root = corpora.fetch(corpus, cache)
    if private is not None:
        root = Path(shutil.copytree(root, private / root.name, symlinks=True))
    environment = machine.environment()
    index_path = (private or cache / "indexes") / f"{name}.db"
    index_path.parent.mkdir(parents=True, exist_ok=True)

    figures = {"index.build": builds.full_build(root, index_path, trials.builds),
               "index.size": builds.index_size(root, index_path)}
    queries = load(corpus)
    if not queries:
        with open_index(index_path) as index:
            queries = sample_identifiers(index)
    search_figures, rows = latency.search_figures(index_path, queries, trials.search)
    figures.update(search_figures)
    figures.update(latency.assemble_figures(index_path, queries, trials.assemble))
    figures["index.reindex_one_file"] = builds.reindex_one_file(root, index_path, corpus.edit_file, trials.reindex)
    identifiers = of_type(queries, "identifier")
    figures.update(cold.cli_search_figures(index_path, identifiers, trials.cli, root))
    figures.update(ripgrep.rg_figures(root, queries, trials.rg))
    figures.update(_optional(lambda: handler.handler_figures(index_path, queries, trials.handler), "handler.search"))
    figures.update(_optional(lambda: caching.cache_figures(index_path, queries, trials.assemble),
                             "cache.hit", "cache.hit_ratio"))
    figures.update(_optional(lambda: handler.cold_start_figure(index_path, identifiers[0].query, trials.handler_cold),
                             "handler.cold_start_s3"))
    figures["soak"] = _soak(name)
    machine.finish(environment)
    return {
        "format": FORMAT,
        "corpus": {"name": name, "requirement": corpus.requirement, "sha256": corpus.sha256,
                   "query_set": corpus.queries or f"generated: {len(queries)} identifiers sampled from the index"},
        "quick": quick,
        "trials": asdict(trials),
        "environment": environment,
        "figures": figures,
        "relevance": {
            "k": relevance.K,
            "by_type": {**{kind: relevance.aggregate([r for r in rows if r["type"] == kind])
                           for kind in TYPES if of_type(queries, kind)},
                        "overall": relevance.aggregate(rows)},
            "queries": rows,
        },
    }


def _optional(measure, *keys: str) -> dict:
    """Return ``measure()``; a failure of a figure other issues are still building is recorded, not raised."""
    try:
        return measure()
    except Exception as exc:  # noqa: BLE001 - whatever failed, the rest of a long run is worth keeping
        reason = f"{type(exc).__name__}: {exc}"[:300]
        return {key: {"status": "failed", "reason": reason} for key in keys}


def _soak(name: str) -> dict:
    """Return the latest soak of this corpus (``soak.py`` writes it; a run does not soak by itself)."""
    path = RESULTS / f"{name}.soak.json"
    if not path.is_file():
        return skipped(f"no soak yet: python -m benchmarks.soak --corpus {name}")
    return json.loads(path.read_text())["soak"]


def dumps(value, indent: int = 0) -> str:
    """Return JSON with every object that holds no object on one line (a figure, a query row).

    Compact for a committed baseline, and a diff of two baselines names exactly what changed.
    """
    if not _holds_object(value):
        return json.dumps(value, ensure_ascii=False)
    pad = " " * (indent + 1)
    if isinstance(value, dict):
        body = ",\n".join(f"{pad}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items())
        return "{\n" + body + "\n" + " " * indent + "}"
    body = ",\n".join(pad + dumps(v, indent + 1) for v in value)
    return "[\n" + body + "\n" + " " * indent + "]"


def _holds_object(value) -> bool:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(isinstance(v, dict) for v in items)


def write(results: dict, directory: Path = RESULTS) -> tuple[Path, Path]:
    """Write ``<corpus>.json`` and ``<corpus>.txt`` into ``directory`` and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    name = results["corpus"]["name"]
    data, text = directory / f"{name}.json", directory / f"{name}.txt"
    data.write_text(dumps(results) + "\n", encoding="utf-8")
    text.write_text(render(results), encoding="utf-8")
    return data, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), required=True)
    parser.add_argument("--quick", action="store_true", help="few trials, for the CI smoke run (no timing checks)")
    parser.add_argument("--trials", type=int, default=20, help="warm search trials per query (default 20)")
    parser.add_argument("--build-trials", type=int, default=3, help="full builds, each in a fresh process (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for <corpus>.json and .txt")
    args = parser.parse_args(argv)
    results = run_benchmarks(args.corpus, Trials.plan(args.trials, args.build_trials, args.quick), quick=args.quick)
    write(results, args.out)
    sys.stdout.write(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
