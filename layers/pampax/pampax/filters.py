"""A request's filters: checked against the index it runs on, and as the SQL search applies.

A ``langs`` or ``kinds`` value that no file or chunk of the index holds (``pyhton``, ``funtion``) can only ever match
nothing, so it is answered as the typo it almost always is: ``invalid_argument`` naming the values
the index does hold, not an empty result that looks like a miss.
"""

from __future__ import annotations

from .errors import InvalidArgument
from .index import Index
from .models import AssembleRequest, SearchRequest
from .policy import docs_filter

Filtered = SearchRequest | AssembleRequest

# Request field -> (table, column) that search filters it on.
_FILTERED = {"langs": ("files", "lang"), "kinds": ("chunks", "kind")}


def check_filters(index: Index, request: Filtered) -> None:
    """Raise ``InvalidArgument`` for a lang or kind the index holds nowhere, listing those it holds."""
    for field, (table, column) in _FILTERED.items():
        for value in getattr(request, field):
            if not _holds(index, table, column, value):
                known = [v for (v,) in index.query(f"SELECT DISTINCT {column} FROM {table} ORDER BY 1")]
                raise InvalidArgument(f"{field}: no {column} {value!r} in this index; it has: {', '.join(known)}")


def _holds(index: Index, table: str, column: str, value: str) -> bool:
    # One row is enough and a real value is met early; only values found are remembered, so a warm
    # process's memo grows with the index's values, not with every typo sent to it.
    found: set[str] = index.memo(f"found:{table}.{column}", set)
    if value not in found and index.query(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", (value,)):
        found.add(value)
    return value in found


def sql_filters(request: SearchRequest) -> tuple[str, list]:
    """Return the ``AND ...`` clauses (on ``files f`` and ``chunks c``) and parameters of the request's filters."""
    clauses: list[str] = []
    params: list = []
    for patterns, form in ((request.paths, "({})"), (request.excludes, "NOT ({})")):
        if patterns:
            clauses.append(form.format(" OR ".join("f.path GLOB ?" for _ in patterns)))
            params.extend(_glob(p) for p in patterns)
    for column, values in (("f.lang", request.langs), ("c.kind", request.kinds)):
        if values:
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    docs, languages = docs_filter(request.docs)
    if docs:
        clauses.append(docs)
        params.extend(languages)
    return "".join(f" AND {c}" for c in clauses), params


def _glob(pattern: str) -> str:
    """Return a SQLite GLOB for ``--path``: a bare directory means everything below it."""
    pattern = pattern.strip().lstrip("./") if pattern.startswith("./") else pattern.strip()
    if not any(ch in pattern for ch in "*?["):
        return pattern.rstrip("/") + "*"
    return pattern
