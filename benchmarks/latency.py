"""Warm, in-process latency of the core: search per query type, bug reports, assemble per budget.

Warm means: one process, the index opened once, every query run once untimed (its connection,
statement cache and the index's pages in the OS cache are then hot), then timed in rounds. A round
runs every query once in query-set order, so a query's trials are spread over the run instead of
following each other, and slow drift (another process, thermal) lands on every query alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pampax import assemble, search
from pampax.index import Index, open_index
from pampax.models import AssembleRequest, SearchRequest

from . import relevance
from .query_set import SHORT_TYPES, TYPES, Query, excerpt, of_type
from .stats import summarize, timed

LIMIT = 10
# Relevance reads a deeper ranking than the timed call, so that "top 10 distinct paths" has ten
# paths to draw from even when one file holds several of the top chunks.
RELEVANCE_LIMIT = 50
BUDGETS = (2000, 8000, 32000)


def search_figures(index_path: Path, queries: list[Query], trials: int) -> tuple[dict, list[dict]]:
    """Return (figures, per-query rows): warm search p50/p95/max per type, and each query's relevance and p50."""
    with open_index(index_path) as index:
        judged = {q.id: _judge(index, q) for q in queries}
        samples = _rounds(queries, trials, lambda q: search.search(index, SearchRequest(query=q.query, limit=LIMIT)))
    figures = {f"search.{kind}": summarize(_pooled(samples, of_type(queries, kind))) for kind in TYPES
               if of_type(queries, kind)}
    figures["search.short"] = summarize(_pooled(samples, of_type(queries, *SHORT_TYPES)))
    bug_reports = of_type(queries, "bug_report")
    if bug_reports:
        figures["search.bug_report"]["distinct_terms"] = sorted(_distinct_words(q.query) for q in bug_reports)
    rows = [{"id": q.id, "type": q.type, "query": excerpt(q.query), "expect": list(q.expect), **judged[q.id],
             "p50_ms": summarize(samples[q.id])["p50_ms"]} for q in queries]
    return figures, rows


def assemble_figures(index_path: Path, queries: list[Query], trials: int) -> dict:
    """Return warm assemble p50/p95/max per budget over every query, plus the largest bundle seen."""
    figures = {}
    with open_index(index_path) as index:
        for budget in BUDGETS:
            used = []

            def bundle(q: Query, budget: int = budget, used: list[int] = used):
                response = assemble.assemble(index, AssembleRequest(query=q.query, budget=budget))
                used.append(response.tokens.used)
                return response

            samples = _rounds(queries, trials, bundle)
            figures[f"assemble.{budget}"] = {**summarize(_pooled(samples, queries)), "max_tokens_used": max(used)}
    return figures


def _judge(index: Index, query: Query) -> dict:
    response = search.search(index, SearchRequest(query=query.query, limit=RELEVANCE_LIMIT))
    return relevance.judge(relevance.distinct_paths(hit.path for hit in response.results), query.expect)


def _rounds(queries: list[Query], trials: int, action: Callable[[Query], object]) -> dict[str, list[float]]:
    """Return every query's timed samples: one untimed warm-up call each, then ``trials`` rounds."""
    for query in queries:
        action(query)
    samples: dict[str, list[float]] = {q.id: [] for q in queries}
    for _ in range(trials):
        for query in queries:
            samples[query.id].append(timed(partial(action, query))[0])
    return samples


def _pooled(samples: dict[str, list[float]], queries: list[Query]) -> list[float]:
    return [s for q in queries for s in samples[q.id]]


def _distinct_words(text: str) -> int:
    return len({w.lower() for w in re.findall(r"\w+", text)})
