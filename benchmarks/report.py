"""The text report of a results file: the acceptance table, then the detail behind it.

Rendered only from the results JSON, so ``python -m benchmarks.report results/medium.json`` prints
the same text the run printed, byte for byte.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .targets import TARGETS, ms, speedups

_WORST = 12
_SLOWEST = 8


def render(results: dict) -> str:
    """Return the whole report as text ending in a newline."""
    sections = [_header(results), _acceptance(results), _index(results), _latencies(results),
                _baseline(results), _relevance(results), _worst(results), _slowest(results)]
    return "\n\n".join(s for s in sections if s) + "\n"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Return rows as left-aligned columns separated by two spaces, under a header and a rule."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)


def _header(results: dict) -> str:
    env, corpus = results["environment"], results["corpus"]
    machine = env["machine"]
    trials = ", ".join(f"{k} {v}" for k, v in results["trials"].items())
    return "\n".join([
        f"pampax benchmark: {corpus['name']} ({corpus['requirement']}){' [quick]' if results['quick'] else ''}",
        f"pampax {env['pampax_version']} (core {env['core']}) · python {env['python']} · {env['sqlite']} · {env['ripgrep']}",
        (f"machine: {machine['cpu']} · {machine['cpus']} CPUs · {machine['memory_gib']} GiB · {machine['platform']}"
         f" · load {machine['load_before']} → {machine['load_after']}"),
        f"run: {env['timestamp']} · trials: {trials}",
    ])


def _mark(ok: bool | None) -> str:
    return "-" if ok is None else "pass" if ok else "FAIL"


def _acceptance(results: dict) -> str:
    rows = []
    for target in TARGETS:
        measured, gate, goal = target.judge(results)
        rows.append([target.figure, target.gate, target.goal, measured, _mark(gate), _mark(goal)])
    title = "Acceptance (benchmarks/targets.md, Medium targets)"
    if results["corpus"]["name"] != "medium":
        title += f": shown for orientation, this is {results['corpus']['name']}"
    return title + "\n" + table(["figure", "gate", "goal", "measured", "gate", "goal"], rows)


def _index(results: dict) -> str:
    build, size = results["figures"].get("index.build", {}), results["figures"].get("index.size", {})
    reindex = results["figures"].get("index.reindex_one_file", {})
    if "p50_ms" not in build:
        return ""
    skipped = ", ".join(f"{k} {v}" for k, v in build["skipped"].items()) or "none"
    lines = [
        "Index",
        f"  {build['files']} files, {build['chunks']} chunks, {build['symbols']} symbols, {build['edges']} edges; skipped: {skipped}",
        (f"  full build p50 {ms(build['p50_ms'])}, max {ms(build['max_ms'])}; index {size['index_bytes'] / 2**20:.1f} MiB,"
         f" indexed source {size['source_bytes'] / 2**20:.1f} MiB, whole tree {size['tree_bytes'] / 2**20:.1f} MiB"),
    ]
    if "p50_ms" in reindex:
        lines.append(f"  re-index after editing {reindex['file']}: p50 {ms(reindex['p50_ms'])}, max {ms(reindex['max_ms'])}"
                     f" (parsed files per run: {reindex['parsed_files']})")
    return "\n".join(lines)


def _latencies(results: dict) -> str:
    rows = []
    for key, figure in results["figures"].items():
        if "p95_ms" in figure and key.split(".")[0] in ("search", "assemble", "cli", "handler", "cache"):
            rows.append([key, ms(figure["p50_ms"]), ms(figure["p95_ms"]), ms(figure["max_ms"]), str(figure["trials"])])
    skipped = [f"  {key}: {f['status']}: {f['reason']}" for key, f in results["figures"].items() if "status" in f]
    text = "Latency (warm unless named cold)\n" + table(["figure", "p50", "p95", "max", "n"], rows)
    return text + ("\n" + "\n".join(skipped) if skipped else "")


def _baseline(results: dict) -> str:
    fast = speedups(results)
    rows = []
    for kind, speedup in fast.items():
        ours, rg = results["figures"][f"search.{kind}"], results["figures"][f"rg.{kind}"]
        rows.append([kind, ms(rg["p50_ms"]), ms(ours["p50_ms"]), f"{ours['p50_ms'] / rg['p50_ms']:.4f}",
                     f"×{speedup:g}", f"{rg['found_expected']:.0%}"])
    if not rows:
        return ""
    return "ripgrep baseline (same tree, same queries; p50)\n" + table(
        ["kind", "rg", "pampax", "pampax/rg", "speed-up", "rg lists expected file"], rows)


def _relevance(results: dict) -> str:
    by_type = results["relevance"]["by_type"]
    if not by_type:
        return "Relevance: no query set for this corpus"
    rows = [[kind, str(r["queries"]), f"{r['recall_at_10']:.3f}", f"{r['mrr']:.3f}"] for kind, r in by_type.items()]
    return "Relevance (top 10 distinct paths of a 50-hit ranking)\n" + table(["type", "queries", "recall@10", "MRR"], rows)


def _worst(results: dict) -> str:
    queries = results["relevance"]["queries"]
    ranked = sorted((q for q in queries if q["rank"] != 1),
                    key=lambda q: (q["rank"] is not None, -(q["rank"] or 0), q["id"]))[:_WORST]
    if not ranked:
        return ""
    rows = [[q["id"], q["type"], "-" if q["rank"] is None else str(q["rank"]), q["query"],
             " ".join(q["expect"]), q["first"] or "-"] for q in ranked]
    return ("Worst-ranked queries (rank of the first expected file; - = not in the top 50 hits)\n"
            + table(["id", "type", "rank", "query", "expected", "ranked first"], rows))


def _slowest(results: dict) -> str:
    queries = sorted(results["relevance"]["queries"], key=lambda q: (-q["p50_ms"], q["id"]))[:_SLOWEST]
    if not queries:
        return ""
    rows = [[q["id"], q["type"], ms(q["p50_ms"]), q["query"]] for q in queries]
    return "Slowest queries (warm search p50)\n" + table(["id", "type", "p50", "query"], rows)


if __name__ == "__main__":
    sys.stdout.write(render(json.loads(Path(sys.argv[1]).read_text())))
