"""A search's ``langs`` and ``kinds`` checked against the index it runs on.

A value that no file or chunk of the index holds (``pyhton``, ``funtion``) can only ever match
nothing, so it is answered as the typo it almost always is: ``invalid_argument`` naming the values
the index does hold, not an empty result that looks like a miss.
"""

from __future__ import annotations

from .errors import InvalidArgument
from .index import Index
from .models import SearchRequest

# Request field -> (table, column) that search filters it on.
_FILTERED = {"langs": ("files", "lang"), "kinds": ("chunks", "kind")}


def check_filters(index: Index, request: SearchRequest) -> None:
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
