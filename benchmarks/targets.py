"""The rows of targets.md's Medium table, each judged against a results file.

A row reads its figures from ``results["figures"]`` and returns what was measured, and whether the
gate and the goal hold (None when the figure was skipped or cannot decide, e.g. a soak shorter than
30 minutes). Where the table gives a single bound for a distribution ("≤ 1.0 s"), the p50 is judged
and the p95 and max are printed beside it. The targets are for the Medium corpus; on the others the
same rows are printed for orientation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

# Verdict: (measured, gate holds, goal holds); None = not decided.
Verdict = tuple[str, bool | None, bool | None]

SOAK_GATE_SECONDS = 1800
SPEEDUP_GOAL = 20


class Target(NamedTuple):
    """One row of targets.md's table: its label, bounds as printed, and the judge that reads a results file."""

    figure: str
    gate: str
    goal: str
    judge: Callable[[dict], Verdict]


def ms(value: float) -> str:
    """Return a duration given in ms as a short human string: 0.84 ms, 12.3 ms, 1.04 s."""
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def _figure(results: dict, key: str) -> dict | None:
    figure = results["figures"].get(key)
    return figure if figure and "status" not in figure else None


def _why_not(results: dict, key: str) -> Verdict:
    # A figure missing from a record is a per-type search whose type the corpus's query set lacks.
    figure = results["figures"].get(key) or {"status": "skipped", "reason": "the query set has no such queries"}
    return f"{figure['status']}: {figure['reason']}", None, None


def _latency(key: str, gate: tuple[float, float | None], goal: tuple[float, float | None],
             note: Callable[[dict, dict], str] | None = None) -> Callable[[dict], Verdict]:
    """Return a judge of a latency figure against (p50, p95) bounds in ms; a None bound is not checked.

    ``note(figure, results)`` adds the context a reader needs beside the numbers.
    """

    def judge(results: dict) -> Verdict:
        f = _figure(results, key)
        if f is None:
            return _why_not(results, key)
        measured = f"p50 {ms(f['p50_ms'])}, p95 {ms(f['p95_ms'])}, max {ms(f['max_ms'])} (n={f['trials']})"
        return measured + (note(f, results) if note else ""), _within(f, *gate), _within(f, *goal)

    return judge


def _within(figure: dict, p50: float, p95: float | None) -> bool:
    return figure["p50_ms"] <= p50 and (p95 is None or figure["p95_ms"] <= p95)


def _build(results: dict) -> Verdict:
    f, size = _figure(results, "index.build"), _figure(results, "index.size")
    if f is None or size is None:
        return _why_not(results, "index.build")
    measured = (f"{ms(f['p50_ms'])} (median of {f['trials']}), peak RSS {f['peak_rss_total_mb']:.0f} MB "
                f"(main {f['peak_rss_main_mb']:.0f} + {f['workers']}×{f['peak_rss_worker_mb']:.0f}), "
                f"index {size['ratio']:.2f}× source")
    return (measured, f["p50_ms"] <= 60_000 and f["peak_rss_total_mb"] <= 500,
            f["p50_ms"] <= 20_000 and size["ratio"] <= 1.5)


def speedups(results: dict) -> dict[str, float]:
    """Return rg p50 / pampax p50 per query kind that both measured (identifier, error)."""
    out = {}
    for kind in ("identifier", "error"):
        ours, theirs = _figure(results, f"search.{kind}"), _figure(results, f"rg.{kind}")
        if ours and theirs:
            out[kind] = round(theirs["p50_ms"] / max(ours["p50_ms"], 1e-6), 1)
    return out


def _search(results: dict) -> Verdict:
    measured, gate, goal = _latency("search.short", (20, 50), (2, 8))(results)
    fast = speedups(results)
    if gate is None or not fast:
        return measured, gate, goal
    measured += "; rg/pampax " + ", ".join(f"{kind} ×{x:g}" for kind, x in fast.items())
    return measured, gate, goal and min(fast.values()) >= SPEEDUP_GOAL


def _report_sizes(figure: dict, results: dict) -> str:
    terms = figure.get("distinct_terms") or []
    return f"; {len(terms)} reports, {terms[0]}–{terms[-1]} distinct terms" if terms else ""


def _interpreter_floor(figure: dict, results: dict) -> str:
    floor = _figure(results, "cli.python_start")
    paired = _figure(results, "cli.cold_vs_rg")
    note = f"; bare python start {ms(floor['p50_ms'])}" if floor else ""
    if paired:
        note += f"; ×{paired['ratio_p50']:g} `rg -n -w` (p50 of {paired['pairs']} paired runs, rg {ms(paired['rg']['p50_ms'])})"
    return note


def _cold_start_parts(figure: dict, results: dict) -> str:
    return f"; import {ms(figure['import_p50_ms'])}, fetch+verify+answer {ms(figure['first_request_p50_ms'])}"


def _soak(results: dict) -> Verdict:
    f = _figure(results, "soak")
    if f is None:
        return _why_not(results, "soak")
    measured = (f"{f['seconds']:.0f} s, {f['requests']} requests, RSS growth {f['rss_growth_pct']:+.1f} %, "
                f"{f['errors']} errors, p95 drift {f['p95_drift_pct']:+.0f} % (core {f['core']}, {f['timestamp']})")
    ok = f["errors"] == 0 and f["rss_growth_pct"] < 10
    if f["seconds"] < SOAK_GATE_SECONDS:
        return measured + " (short run: indicative only)", None, None
    return measured, ok, f["errors"] == 0 and f["rss_growth_pct"] < 5


def _hit_ratio(results: dict) -> Verdict:
    f = _figure(results, "cache.hit_ratio")
    if f is None:
        return _why_not(results, "cache.hit_ratio")
    return f"{f['ratio']:.0%} over {f['requests']} requests ({f['mix']})", f["ratio"] >= 0.6, None


TARGETS = (
    Target("full index build", "≤ 60 s, peak RSS ≤ 500 MB", "≤ 20 s, index ≤ 1.5× source", _build),
    Target("re-index after one file changed", "≤ 2 s", "≤ 0.3 s",
           _latency("index.reindex_one_file", (2000, None), (300, None))),
    Target("search, warm, in-process core", "p50 ≤ 20 ms, p95 ≤ 50 ms", "p50 ≤ 2 ms, p95 ≤ 8 ms, ≥ 20× rg", _search),
    Target("search, whole bug report, warm", "p50 ≤ 100 ms, p95 ≤ 250 ms", "p50 ≤ 15 ms, p95 ≤ 40 ms",
           _latency("search.bug_report", (100, 250), (15, 40), _report_sizes)),
    Target("search, warm, handler, cache miss", "p50 ≤ 30 ms, p95 ≤ 80 ms", "p50 ≤ 8 ms",
           _latency("handler.search", (30, 80), (8, None))),
    Target("search, cache hit", "p50 ≤ 3 ms", "p50 ≤ 1 ms", _latency("cache.hit", (3, None), (1, None))),
    Target("search, cold (fresh CLI process)", "≤ 1.0 s", "≤ 0.4 s",
           _latency("cli.cold_search", (1000, None), (400, None), _interpreter_floor)),
    Target("assemble, 8k budget, warm", "p50 ≤ 150 ms, p95 ≤ 400 ms", "p50 ≤ 50 ms, p95 ≤ 120 ms",
           _latency("assemble.8000", (150, 400), (50, 120))),
    Target("handler cold start incl. S3 fetch (moto)", "≤ 3 s", "≤ 1.5 s",
           _latency("handler.cold_start_s3", (3000, None), (1500, None), _cold_start_parts)),
    Target("soak (search + assemble mix)", "30 min: RSS growth < 10 %, 0 errors", "RSS growth < 5 %", _soak),
    Target("cache hit ratio, repeated-query mix", "≥ 60 %", "reported with its mix", _hit_ratio),
)
