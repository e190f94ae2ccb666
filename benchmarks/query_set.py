"""A corpus's query set (``benchmarks/queries/<corpus>.json``): queries with the files a good answer holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from pampax.index import Index

from .corpora import QUERIES, Corpus

# The four kinds targets.md distinguishes; the short ones together are "search, warm, in-process core".
TYPES = ("identifier", "error", "natural", "bug_report")
SHORT_TYPES = ("identifier", "error", "natural")
_EXCERPT_CHARS = 70


class Query(NamedTuple):
    """One benchmark query and the repository-relative files a good answer must contain."""

    id: str
    type: str
    query: str
    expect: tuple[str, ...]


def load(corpus: Corpus, directory: Path = QUERIES) -> list[Query]:
    """Return the corpus's queries in file order; [] when the corpus has no query set."""
    if corpus.queries is None:
        return []
    data = json.loads((directory / corpus.queries).read_text(encoding="utf-8"))
    return [Query(q["id"], q["type"], q["query"], tuple(q["expect"])) for q in data["queries"]]


def of_type(queries: list[Query], *types: str) -> list[Query]:
    return [q for q in queries if q.type in types]


def excerpt(text: str) -> str:
    """Return the query on one line, cut to a width a results table can show."""
    line = " ".join(text.split())
    return line if len(line) <= _EXCERPT_CHARS else line[: _EXCERPT_CHARS - 1] + "…"


def sample_identifiers(index: Index, count: int = 30) -> list[Query]:
    """Return ``count`` identifier queries drawn from an index, for a corpus without a query set.

    Only names defined exactly once outside test files are drawn, so each has one right file;
    they are spread evenly over the sorted names, so the sample is the same on every run.
    """
    rows = index.query(
        """SELECT min(s.name), min(f.path) FROM symbols s JOIN files f ON f.id = s.file_id
           WHERE s.kind IN ('class', 'function') AND f.is_test = 0 AND length(s.name) >= 6
           GROUP BY s.lname HAVING count(*) = 1 ORDER BY s.lname"""
    )
    rows = [(name, path) for name, path in rows if name.isidentifier()]
    step = max(len(rows) // count, 1)
    return [Query(f"gen-{n:03d}", "identifier", name, (path,))
            for n, (name, path) in enumerate(rows[::step][:count], start=1)]
