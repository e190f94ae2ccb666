"""Calibrate the ranking: search the ``[search]`` weights on a golden set, judged on a held-back fold.

    python -m benchmarks.calibrate --set django
    python -m benchmarks.calibrate --set requests --write tuned.toml
    python -m benchmarks.calibrate --set swebench-dev --cases cases.jsonl --indexes DIR [--repo pallets/flask] \\
        [--sample 40] [--baseline bm25_py.pred.jsonl]

Sets: ``django`` and ``requests`` (``benchmarks/queries/*.json`` on the pinned corpora, judged as
``benchmarks.run`` judges them: the first expected file among a chunk search's distinct paths) and
``swebench-dev`` (bug reports, judged as ``benchmarks.swebench`` judges them: the first gold file of
a file-grouped search). The objective is MRR.

Cases are split by a hash of their id (deterministic, blind to their content): one fold in
``--folds`` is held back and never searched while tuning. Coordinate ascent visits each tuned
setting in turn, tries it at a few multiples of its current value (within the setting's bounds),
keeps the best if it lifts the train MRR by more than ``--min-gain``, and repeats for ``--rounds``.
The table shows train and held-out MRR of the defaults and of the tuned settings, overall and per
repository (per query type on the corpora), beside BM25's when ``--baseline`` gives its rankings.
``--write FILE`` writes the tuned ``[search]`` section for ``pampax.toml``; ``--start FILE`` starts
from a written one (``--rounds 0`` scores it: settings tuned on one set, judged on another).

Each index is opened once (read-only, and for ``--indexes`` frozen: nothing is written beside it)
and serves every evaluation; swebench-dev indexes are never built or refreshed here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pampax import db
from pampax.build import build_index
from pampax.config import IndexSettings, SearchSettings, load_config
from pampax.index import Index, open_index
from pampax.models import SearchRequest
from pampax.search import search

from . import corpora, latency, relevance, swebench
from .query_set import load

SETS = ("django", "requests", "swebench-dev")
# What each kind of set can move: a chunk search reads the chunk boosts and priors; a file-grouped
# search reads the file ranking's weights too (and the chunk boosts through its content signal).
CHUNK_FIELDS = ("qualname_boost", "exact_boost", "folded_boost", "prefix_boost", "identifier_boost",
                "traceback_file_boost", "phrase_boost_per_word", "exact_entry_share", "chunk_test_factor",
                "chunk_prose_factor")
FILE_FIELDS = ("file_chunk_share", "definition_weight", "mention_weight", "title_weight", "import_weight",
               "frame_weight", "test_factor", "prose_factor", "script_factor", "exact_boost", "qualname_boost",
               "phrase_boost_per_word", "exact_entry_share")
STEPS = (0.5, 0.8, 1.25, 2.0)
ZERO_STEPS = (0.25, 0.5)  # a setting that is off (0) is tried at these


@dataclass(frozen=True, slots=True)
class Golden:
    id: str
    group: str  # the repository, or the query type on a corpus
    index: Path
    query: str
    rr: Callable[[Index, SearchSettings], float]  # reciprocal rank of the first right file


def corpus_cases(name: str) -> list[Golden]:
    """Return a corpus's query set as golden cases, building its index in the benchmark cache if missing."""
    corpus = next(c for c in corpora.CORPORA.values() if c.package == name)
    index = corpora.CACHE / "indexes" / f"{corpus.name}.db"
    if not index.exists():
        index.parent.mkdir(parents=True, exist_ok=True)
        build_index(corpora.fetch(corpus), index, IndexSettings())

    def rr(query):
        def judge(opened: Index, settings: SearchSettings) -> float:
            response = search(opened, SearchRequest(query=query.query, limit=latency.RELEVANCE_LIMIT), settings)
            rank = relevance.judge(relevance.distinct_paths(h.path for h in response.results), query.expect)["rank"]
            return 1 / rank if rank else 0.0
        return judge

    return [Golden(q.id, q.type, index, q.query, rr(q)) for q in load(corpus)]


def swebench_cases(cases: Path, indexes: Path, repos: set[str], sample: int | None) -> list[Golden]:
    """Return SWE-bench cases whose snapshot has a finished index in ``indexes`` (reporting those without)."""
    found, missing = [], []

    def rr(case):
        def judge(opened: Index, settings: SearchSettings) -> float:
            response = search(opened, SearchRequest(query=case.query, limit=swebench.DEPTH, group="file"), settings)
            return swebench.judge_files(case, [h.path for h in response.results])["rr"]
        return judge

    for case in swebench.load_cases(cases, repos, sample):
        index = indexes / f"{case.snapshot}.db"
        # A frozen read sees only the main file: an index with a write-ahead log is still being written.
        ready = index.is_file() and not any(p.exists() and p.stat().st_size for p in db.sidecars(index)[:1])
        (found if ready else missing).append(Golden(case.id, case.repo, index, case.query, rr(case)))
    if missing:
        print(f"{len(missing)} case(s) skipped: no finished index in {indexes}", file=sys.stderr)
    return found


def held_out(case_id: str, folds: int) -> bool:
    """Return whether a case is in the held-back fold: by a hash of its id, the same on every run."""
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % folds == 0


class Evaluator:
    """Scores settings on cases, each index opened once for the whole search."""

    def __init__(self, frozen: bool):
        self.frozen = frozen
        self.open: dict[Path, Index] = {}
        self.evaluations = 0

    def scores(self, cases: list[Golden], settings: SearchSettings) -> dict[str, float]:
        self.evaluations += 1
        out = {}
        for case in cases:
            if case.index not in self.open:
                self.open[case.index] = open_index(case.index, frozen=self.frozen)
            out[case.id] = case.rr(self.open[case.index], settings)
        return out

    def close(self) -> None:
        for index in self.open.values():
            index.close()


def candidates(settings: SearchSettings, name: str) -> list[float | int]:
    """Return the values to try for setting ``name``: multiples of its current value within its bounds."""
    field = SearchSettings.model_fields[name]
    current = getattr(settings, name)
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    raw = [s * current for s in STEPS] if current else list(ZERO_STEPS)
    if current and low is not None and low == 0:
        raw.append(0.0)  # a signal may also be worth switching off
    values = []
    for value in raw:
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        value = round(value) if field.annotation is int else round(float(value), 3)
        if value != current and value not in values:
            values.append(value)
    return values


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def cell(values, width: int) -> str:
    """Return the mean of ``values`` right-aligned in ``width`` columns; "-" for no values."""
    values = list(values)
    return f"{mean(values):>{width}.3f}" if values else f"{'-':>{width}}"


def ascend(evaluator: Evaluator, train: list[Golden], fields: list[str], rounds: int, min_gain: float,
           start: SearchSettings, log=print) -> SearchSettings:
    """Return the settings coordinate ascent reaches from ``start`` on the train cases."""
    best = start
    best_score = mean(evaluator.scores(train, best).values())
    log(f"start: train MRR {best_score:.4f}")
    for round_number in range(1, rounds + 1):
        moved = False
        for name in fields:
            for value in candidates(best, name):
                trial = best.model_copy(update={name: value})
                score = mean(evaluator.scores(train, trial).values())
                if score > best_score + min_gain:
                    log(f"round {round_number}: {name} {getattr(best, name)} -> {value}: train MRR {score:.4f}")
                    best, best_score, moved = trial, score, True
        if not moved:
            break
    return best


def table(cases: list[Golden], folds: int, default: dict[str, float], tuned: dict[str, float],
          baseline: dict[str, float] | None) -> str:
    """Return the calibration table: MRR of defaults and tuned settings, train and held out, per group."""
    groups = defaultdict(list)
    for case in cases:
        groups["ALL"].append(case)
        groups[case.group].append(case)
    head = f"{'set':<24}{'n train':>8}{'n held':>8}{'train def':>11}{'train tuned':>12}{'held def':>10}{'held tuned':>11}"
    if baseline is not None:
        head += f"{'held bm25':>10}{'all def':>9}{'all tuned':>10}{'all bm25':>9}"
    lines = [head]
    for name in ["ALL"] + sorted(g for g in groups if g != "ALL"):
        members = groups[name]
        train = [c.id for c in members if not held_out(c.id, folds)]
        held = [c.id for c in members if held_out(c.id, folds)]
        every = train + held
        row = (f"{name:<24}{len(train):>8}{len(held):>8}" + cell((default[i] for i in train), 11)
               + cell((tuned[i] for i in train), 12) + cell((default[i] for i in held), 10)
               + cell((tuned[i] for i in held), 11))
        if baseline is not None:
            row += (cell((baseline.get(i, 0.0) for i in held), 10) + cell((default[i] for i in every), 9)
                    + cell((tuned[i] for i in every), 10) + cell((baseline.get(i, 0.0) for i in every), 9))
        lines.append(row)
    return "\n".join(lines)


def toml_section(settings: SearchSettings, fields: list[str], note: str) -> str:
    """Return a ``[search]`` section setting ``fields`` (plain numbers: no TOML writer library is needed)."""
    lines = [f"# {line}" for line in note.splitlines()] + ["[search]"]
    lines += [f"{name} = {getattr(settings, name)!r}" for name in fields]
    return "\n".join(lines) + "\n"


def baseline_scores(path: Path, cases: list[swebench.Case]) -> dict[str, float]:
    """Return {case id: reciprocal rank} of a baseline's rankings (``{"id", "ranked_files"}`` lines, score.py's format)."""
    by_id = {c.id: c for c in cases}
    scores = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and (entry := json.loads(line))["id"] in by_id:
            scores[entry["id"]] = swebench.judge_files(by_id[entry["id"]], entry["ranked_files"])["rr"]
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=SETS, required=True, dest="golden")
    parser.add_argument("--cases", type=Path, help="swebench-dev: the cases file (cases.jsonl)")
    parser.add_argument("--indexes", type=Path, help="swebench-dev: the folder of <snapshot>.db indexes (read only)")
    parser.add_argument("--repo", action="append", help="swebench-dev: only this repository (repeatable)")
    parser.add_argument("--sample", type=int, help="swebench-dev: about N cases, spread over each repository")
    parser.add_argument("--baseline", type=Path, help="swebench-dev: a baseline's rankings ({id, ranked_files} lines)")
    parser.add_argument("--field", action="append", help="a [search] setting to tune (repeatable; default: the set's)")
    parser.add_argument("--folds", type=int, default=4, help="one fold in this many is held back (default 4)")
    parser.add_argument("--rounds", type=int, default=2, help="coordinate ascent passes over the settings")
    parser.add_argument("--min-gain", type=float, default=0.002, help="train MRR a change must add to be kept")
    parser.add_argument("--start", type=Path, help="start from this pampax.toml's [search] (with --rounds 0: just score it)")
    parser.add_argument("--write", type=Path, help="write the tuned [search] section here")
    args = parser.parse_args(argv)

    if args.golden == "swebench-dev":
        if not args.cases or not args.indexes:
            parser.error("--set swebench-dev needs --cases and --indexes")
        cases = swebench_cases(args.cases, args.indexes, set(args.repo or ()), args.sample)
        fields = args.field or list(FILE_FIELDS)
    else:
        cases = corpus_cases(args.golden)
        fields = args.field or list(CHUNK_FIELDS)
    unknown = [f for f in fields if f not in SearchSettings.model_fields]
    if unknown:
        parser.error(f"unknown [search] setting(s): {', '.join(unknown)}")
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    train = [c for c in cases if not held_out(c.id, args.folds)]
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    log(f"{args.golden}: {len(cases)} cases, {len(train)} train, {len(cases) - len(train)} held out")

    evaluator = Evaluator(frozen=args.indexes is not None)
    try:
        default = SearchSettings()
        start = load_config(args.start, env={}).config.search if args.start else default
        tuned = ascend(evaluator, train, fields, args.rounds, args.min_gain, start, log)
        default_scores = evaluator.scores(cases, default)
        tuned_scores = evaluator.scores(cases, tuned)
    finally:
        evaluator.close()
    baseline = None
    if args.baseline:
        baseline = baseline_scores(args.baseline, swebench.load_cases(args.cases, set(args.repo or ()), args.sample))
    changed = {f: (getattr(default, f), getattr(tuned, f)) for f in SearchSettings.model_fields
               if getattr(default, f) != getattr(tuned, f)}
    print(table(cases, args.folds, default_scores, tuned_scores, baseline))
    print("tuned: " + (", ".join(f"{f} {a} -> {b}" for f, (a, b) in changed.items()) or "no change beats the defaults"))
    print(f"{evaluator.evaluations} evaluations")
    if args.write:
        held = [c.id for c in cases if held_out(c.id, args.folds)]
        note = (f"python -m benchmarks.calibrate --set {args.golden}: held-out MRR "
                f"{mean(default_scores[i] for i in held):.3f} (defaults) -> {mean(tuned_scores[i] for i in held):.3f}")
        args.write.write_text(toml_section(tuned, list(dict.fromkeys([*fields, *changed])), note), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
