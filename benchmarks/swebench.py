"""Relevance on real bug reports: SWE-bench-style cases, issue text in, the files the fix changed out.

A case (one JSON line) holds ``id``, ``repo``, ``snapshot`` (a directory under ``--repos`` holding the
tree at the fix's base commit), ``query`` (the issue text: all pampax sees), ``gold_files`` and
``gold_lines`` (base-commit line ranges the fix touches). For each case the runner asks pampax to
rank files (``search`` with ``group="file"``) and to assemble an 8k bundle, asks the BM25 baseline
(``bm25.py``) the same question, and reports both side by side, overall and per repository.

    python -m benchmarks.swebench --cases cases.jsonl --repos /tmp/relevance-dev-repos
    python -m benchmarks.swebench ... --repo pydata/xarray --sample 10      # a quick loop

Indexes live in ``--indexes`` (default ``benchmarks/.cache/swebench/``), one per snapshot, and are
refreshed, not rebuilt, on the next run; a snapshot without one starts from a copy of the previous
snapshot's index of the same repository (cases in issue-number order are close in time), so only
the files that differ are parsed. The baseline's rankings are cached there too (they never change).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pampax.assemble import assemble
from pampax.build import build_index
from pampax.config import IndexSettings
from pampax.index import open_index
from pampax.models import AssembleRequest, SearchRequest
from pampax.search import search

from . import bm25
from .corpora import BENCHMARKS, CACHE
from .stats import percentile

KS = (1, 3, 5, 10)
RESULTS = BENCHMARKS / "results"
DEPTH = 50  # files asked for, as an agent that reads down a list would
BUDGET = 8000
_BASELINE_VERSION = "bm25-py-1"


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    repo: str
    snapshot: str
    query: str
    gold_files: tuple[str, ...]
    gold_lines: dict[str, list[list[int]]]

    @property
    def number(self) -> int:
        """The issue number in the id (``sympy__sympy-20590``): a proxy for time within a repository."""
        digits = re.findall(r"\d+", self.id)
        return int(digits[-1]) if digits else 0


def load_cases(path: Path, repos: set[str] | None = None, sample: int | None = None) -> list[Case]:
    """Return the cases of ``path``; ``sample`` keeps every k-th case of each repository (deterministic)."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            c = json.loads(line)
            cases.append(Case(c["id"], c["repo"], c["snapshot"], c["query"], tuple(c["gold_files"]),
                              c.get("gold_lines", {})))
    if repos:
        cases = [c for c in cases if c.repo in repos]
    if sample:
        step = max(len(cases) // sample, 1)
        cases = sorted(cases, key=lambda c: (c.repo, c.number))[::step][:sample]
    return sorted(cases, key=lambda c: (c.repo, c.number, c.id))


def ensure_index(root: Path, index: Path, seed: Path | None, workers: int) -> float:
    """Build or refresh the index of one snapshot; return the seconds it took."""
    started = time.perf_counter()
    if not index.exists() and seed is not None and seed.exists():
        shutil.copyfile(seed, index)
    build_index(root, index, IndexSettings(workers=workers))
    return time.perf_counter() - started


def judge_files(case: Case, ranked: list[str]) -> dict:
    gold = set(case.gold_files)
    ranked = list(dict.fromkeys(ranked))
    first = next((n for n, path in enumerate(ranked, start=1) if path in gold), None)
    row = {"rank": first, "rr": 1 / first if first else 0.0}
    for k in KS:
        row[f"recall@{k}"] = len(gold & set(ranked[:k])) / len(gold)
    return row


def overlaps_gold(case: Case, path: str, start: int, end: int) -> bool:
    return any(start <= b and end >= a for a, b in case.gold_lines.get(path, ()))


def judge_spans(case: Case, spans: list[tuple[str, int, int]]) -> dict:
    first = next((n for n, s in enumerate(spans, start=1) if overlaps_gold(case, *s)), None)
    return {f"span_hit@{k}": float(bool(first and first <= k)) for k in (1, 5, 10)}


def run_case(index, case: Case, trials: int, bundle: bool = True) -> dict:
    request = SearchRequest(query=case.query, limit=DEPTH, group="file")
    began = time.perf_counter()
    response = search(index, request)  # the first answer: the process has not seen this query's terms
    first_ms = (time.perf_counter() - began) * 1000
    timings = []
    for _ in range(trials):
        began = time.perf_counter()
        search(index, request)
        timings.append((time.perf_counter() - began) * 1000)
    files = [hit.path for hit in response.results]
    spans = [(s.path, s.start_line, s.end_line) for hit in response.results for s in [hit, *hit.spans]]
    row = {"id": case.id, "repo": case.repo, **judge_files(case, files), **judge_spans(case, spans),
           "ms": round(percentile(timings, 0.5), 2) if timings else None, "first_ms": round(first_ms, 2),
           "top": files[:5], "gold": list(case.gold_files)}
    if bundle:
        items = assemble(index, AssembleRequest(query=case.query, budget=BUDGET)).items
        used = sum(i.tokens for i in items)
        row.update(bundle_span_hit=any(overlaps_gold(case, i.path, i.start_line, i.end_line) for i in items),
                   bundle_file_hit=any(i.path in case.gold_files for i in items),
                   bundle_tokens=used, bundle_within_budget=used <= BUDGET)
    return row


def baseline_rankings(cases: list[Case], repos: Path, cache_file: Path) -> dict[str, list[str]]:
    """Return {case id: BM25's ranked files}, computing only the cases not yet in ``cache_file``."""
    cached: dict[str, list[str]] = {}
    if cache_file.exists():
        for line in cache_file.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry.get("v") == _BASELINE_VERSION:
                cached[entry["id"]] = entry["files"]
    todo = defaultdict(list)
    for case in cases:
        if case.id not in cached:
            todo[case.snapshot].append(case)
    with cache_file.open("a", encoding="utf-8") as out:
        for snapshot, group in sorted(todo.items()):
            model = bm25.FileBM25(repos / snapshot)
            for case in group:
                cached[case.id] = model.rank(case.query)
                out.write(json.dumps({"v": _BASELINE_VERSION, "id": case.id, "files": cached[case.id]}) + "\n")
    return cached


def summarize(rows: list[dict], keys: list[str]) -> dict:
    def mean(group: list[dict]) -> dict:
        out = {"n": len(group)}
        for key in keys:
            values = [float(r[key]) for r in group if r.get(key) is not None]
            out["MRR" if key == "rr" else key] = round(sum(values) / len(values), 3) if values else None
        return out

    by_repo = defaultdict(list)
    for row in rows:
        by_repo[row["repo"]].append(row)
    return {"all": mean(rows), "by_repo": {repo: mean(group) for repo, group in sorted(by_repo.items())}}


FILE_KEYS = [f"recall@{k}" for k in KS] + ["rr"]
PAMPAX_KEYS = FILE_KEYS + ["span_hit@1", "span_hit@5", "span_hit@10", "bundle_span_hit", "bundle_file_hit",
                           "bundle_within_budget"]


def render(record: dict) -> str:
    columns = ["n", "recall@1", "recall@3", "recall@5", "recall@10", "MRR", "bundle_span_hit"]
    lines = [f"{'set':<26}{'system':<8}" + "".join(f"{c.replace('bundle_span_hit', '8k span'):>10}" for c in columns)]
    sets = [("ALL", "all")] + [(repo, repo) for repo in record["pampax"]["by_repo"]]
    for label, key in sets:
        for system in ("pampax", "bm25"):
            summary = record[system]["all"] if key == "all" else record[system]["by_repo"][key]
            cells = "".join(f"{summary.get(c, ''):>10}" if c == "n" else
                            (f"{summary[c]:>10.3f}" if summary.get(c) is not None else f"{'':>10}")
                            for c in columns)
            lines.append(f"{label:<26}{system:<8}{cells}")
    latency, first = record["latency_ms"], record["first_latency_ms"]
    lines.append(f"warm search (file-grouped, issue text): p50 {latency['p50']} ms, p95 {latency['p95']} ms, "
                 f"max {latency['max']} ms over {record['pampax']['all']['n']} cases; a query's first answer "
                 f"p50 {round(first['p50'], 2)} ms, p95 {round(first['p95'], 2)} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument("--repos", type=Path, required=True, help="the folder holding one directory per snapshot")
    parser.add_argument("--indexes", type=Path, default=CACHE / "swebench")
    parser.add_argument("--repo", action="append", help="only this repository (repeatable), e.g. pydata/xarray")
    parser.add_argument("--sample", type=int, help="about N cases, spread over each repository's issue numbers")
    parser.add_argument("--trials", type=int, default=3, help="timed warm searches per case (after one untimed)")
    parser.add_argument("--workers", type=int, default=0, help="parser processes for indexing (0: one per CPU)")
    parser.add_argument("--no-bundle", action="store_true", help="rank files only (a faster tuning loop)")
    parser.add_argument("--index-only", action="store_true", help="build or refresh the snapshots' indexes, then stop")
    parser.add_argument("--out", type=Path, help=f"write the record here (the full run: {RESULTS}/swebench-dev.json)")
    args = parser.parse_args(argv)

    cases = load_cases(args.cases, set(args.repo or ()), args.sample)
    args.indexes.mkdir(parents=True, exist_ok=True)
    index_seconds: dict[str, float] = {}
    previous: dict[str, Path] = {}
    for case in cases:
        if case.snapshot not in index_seconds:
            index_seconds[case.snapshot] = ensure_index(args.repos / case.snapshot, args.indexes / f"{case.snapshot}.db",
                                                        previous.get(case.repo), args.workers)
            previous[case.repo] = args.indexes / f"{case.snapshot}.db"
            print(f"indexed {case.snapshot} in {index_seconds[case.snapshot]:.1f} s", file=sys.stderr, flush=True)
    if args.index_only:
        return 0
    baseline = baseline_rankings(cases, args.repos, args.indexes / "bm25.jsonl")
    rows, base_rows = [], []
    for case in cases:
        with open_index(args.indexes / f"{case.snapshot}.db") as index:
            row = run_case(index, case, args.trials, bundle=not args.no_bundle)
        rows.append(row)
        base_rows.append({"id": case.id, "repo": case.repo, **judge_files(case, baseline[case.id])})
        print(f"{case.id:<32} rank {row['rank']!s:>4}  bm25 {base_rows[-1]['rank']!s:>4}  "
              f"8k {'span' if row.get('bundle_span_hit') else 'file' if row.get('bundle_file_hit') else '-':<4} "
              f"{row['ms'] or '-':>7} ms", file=sys.stderr, flush=True)
    timings = [r["ms"] for r in rows if r["ms"] is not None]
    firsts = [r["first_ms"] for r in rows]
    record = {
        "cases": str(args.cases), "n": len(rows),
        "pampax": summarize(rows, PAMPAX_KEYS), "bm25": summarize(base_rows, FILE_KEYS),
        "latency_ms": {"p50": percentile(timings, 0.5), "p95": percentile(timings, 0.95), "max": max(timings)}
        if timings else {"p50": None, "p95": None, "max": None},
        "first_latency_ms": {"p50": percentile(firsts, 0.5), "p95": percentile(firsts, 0.95)},
        "index_seconds": {"total": round(sum(index_seconds.values()), 1), "snapshots": len(index_seconds)},
        "per_case": [{**r, "bm25_rank": b["rank"]} for r, b in zip(rows, base_rows)],
    }
    print(render(record))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
