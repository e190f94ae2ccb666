"""Relevance of ranked results against a query's expected files: recall@10 and MRR over distinct paths.

Search returns chunks, several per file; what a reader judges is the files. So a ranking is first
reduced to its distinct paths in order of first appearance, and both measures read that list:
recall@k is the share of expected files among the first k paths, the reciprocal rank is 1/rank of
the first expected path (0 when none appears).
"""

from __future__ import annotations

from collections.abc import Iterable

K = 10


def distinct_paths(paths: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(paths))


def judge(ranked: list[str], expect: tuple[str, ...], k: int = K) -> dict:
    """Return ``{"rank", "recall", "first"}``: rank of the first expected path (None if absent), recall@k, top path."""
    rank = next((n for n, path in enumerate(ranked, start=1) if path in expect), None)
    found = sum(1 for path in expect if path in ranked[:k])
    return {"rank": rank, "recall": round(found / len(expect), 4), "first": ranked[0] if ranked else None}


def aggregate(judged: list[dict]) -> dict:
    """Return ``{"queries", "recall_at_10", "mrr"}`` of judged queries (means over queries)."""
    count = len(judged)
    if not count:
        return {"queries": 0, "recall_at_10": None, "mrr": None}
    return {
        "queries": count,
        "recall_at_10": round(sum(j["recall"] for j in judged) / count, 4),
        "mrr": round(sum(1 / j["rank"] for j in judged if j["rank"]) / count, 4),
    }
