"""The code graph as the index holds it: definitions, callers, callees, tests and file outlines.

Edges store names, not symbol ids (see ``schema.py``), so every answer resolves names the way an
agent would read them: ``get_user_by_id`` is every definition of that name, ``QuerySet.filter``
only the definitions whose qualified name ends so. A call edge names only the called attribute
(``USERS.filter`` is stored as ``filter``), so callers of ``QuerySet.filter`` are the sites calling
some ``filter``; each edge carries the text at the site for the agent to judge.
"""

from __future__ import annotations

from .errors import PathNotFound
from .index import Index
from .models import (
    Definition,
    Edge,
    EdgesRequest,
    EdgesResponse,
    OutlineRequest,
    OutlineResponse,
    OutlineSymbol,
    Span,
    SymbolRequest,
    SymbolResponse,
)
from .schema import FILE_CALLS, callee_text, parent_of
from .testnames import named_tests

# Definitions first from code, then tests, each by path and line: the order an agent reads them in.
_SYMBOL_SQL = """SELECT s.id, s.qualname, s.kind, s.start_line, s.end_line, s.signature, s.docstring,
                        f.id, f.path, f.lang
                 FROM symbols s JOIN files f ON f.id = s.file_id
                 WHERE s.lname = ? ORDER BY f.is_test, f.path, s.start_line"""
# A site's enclosing symbol; null for module-level code.
_SITE_SQL = """SELECT f.path, e.line, e.name, e.callee, s.qualname, s.kind, s.start_line, s.end_line, f.lang
               FROM calls e JOIN files f ON f.id = e.file_id LEFT JOIN symbols s ON s.id = e.symbol_id"""


def symbol(index: Index, request: SymbolRequest) -> SymbolResponse:
    """Return the definitions of a name or qualified name, with signature, docstring, span and source."""
    rows = _definitions(index, request.name)[: request.limit]
    definitions = [
        Definition(path=path, start_line=start, end_line=end, symbol=qualname, kind=kind, lang=lang,
                   signature=signature, docstring=docstring,
                   source=_source(index, file_id, start, end) if request.source else None)
        for _, qualname, kind, start, end, signature, docstring, file_id, path, lang in rows
    ]
    return SymbolResponse(name=request.name, generation=index.generation, definitions=definitions)


def callers(index: Index, request: EdgesRequest) -> EdgesResponse:
    """Return the call sites of a name, each with the symbol that makes the call."""
    rows = index.query(f"{_SITE_SQL} WHERE e.name = ? ORDER BY f.is_test, f.path, e.line LIMIT ?",
                       (_last_part(request.name), request.limit + 1))
    return _edges(index, request, "callers", [_site_edge(row, "call") for row in rows])


def callees(index: Index, request: EdgesRequest) -> EdgesResponse:
    """Return what the definitions of a name call, each call resolved to a definition when the index has one."""
    definitions = _definitions(index, request.name)
    edges: list[Edge] = []
    if definitions:
        ids, files = sorted({row[0] for row in definitions}), sorted({row[7] for row in definitions})
        # The file ids add nothing to the filter (a symbol id is unique): they let SQLite read only
        # those files' calls.
        rows = index.query(
            f"""SELECT f.path, e.line, e.name, e.callee, e.file_id FROM files f JOIN calls e ON {FILE_CALLS}
                WHERE f.id IN ({", ".join("?" * len(files))}) AND e.symbol_id IN ({", ".join("?" * len(ids))})
                ORDER BY f.path, e.line LIMIT ?""",
            (*files, *ids, request.limit + 1))
        edges = [Edge(path=path, line=line, via="call", name=callee_text(name, callee),
                      symbol=_resolve(index, name, file_id))
                 for path, line, name, callee, file_id in rows]
    return _edges(index, request, "callees", edges)


def tests_for(index: Index, request: EdgesRequest) -> EdgesResponse:
    """Return the tests of a name: named after it, importing it, or calling it from a test file."""
    name = _last_part(request.name)
    rows = index.query(
        """SELECT f.path, NULL, t.name, t.name, NULL, NULL, NULL, NULL, f.lang, 'test-import'
             FROM test_imports t JOIN files f ON f.id = t.file_id WHERE t.name = ?
           UNION
           SELECT f.path, e.line, e.name, e.callee, s.qualname, s.kind, s.start_line, s.end_line, f.lang, 'test-call'
             FROM calls e JOIN files f ON f.id = e.file_id LEFT JOIN symbols s ON s.id = e.symbol_id
             WHERE e.name = ? AND f.is_test = 1
           ORDER BY 1, 2, 10 LIMIT ?""",
        (name.lower(), name, request.limit + 1))
    wanted = name.lower()
    rows += [(path, start, wanted, wanted, qualname, kind, start, end, lang, "test-name")
             for _, path, start, end, qualname, kind, lang in named_tests(index, name)]
    # Merged in SQL's order: an import link has no line and comes first in its file, as SQL sorts nulls.
    rows.sort(key=lambda r: (r[0], r[1] is not None, r[1] or 0, r[9]))
    return _edges(index, request, "tests", [_site_edge(row[:9], row[9]) for row in rows[:request.limit + 1]])


def outline(index: Index, request: OutlineRequest) -> OutlineResponse:
    """Return a file's symbols in source order. Raises ``PathNotFound`` when the index has no such file."""
    path = request.path.strip().removeprefix("./")
    found = index.query("SELECT id, lang, lines FROM files WHERE path = ?", (path,))
    if not found:
        raise PathNotFound(f"{path} is not in the index (paths are repository-relative, e.g. src/app.py)")
    file_id, lang, lines = found[0]
    rows = index.query(
        """SELECT qualname, kind, start_line, end_line, signature, parent FROM symbols
           WHERE file_id = ? ORDER BY start_line, -end_line""", (file_id,))
    symbols = [OutlineSymbol(path=path, start_line=start, end_line=end, symbol=qualname, kind=kind, lang=lang,
                             signature=signature, parent=parent_of(qualname, parent))
               for qualname, kind, start, end, signature, parent in rows]
    return OutlineResponse(path=path, lang=lang, lines=lines, generation=index.generation, symbols=symbols)


def _definitions(index: Index, name: str) -> list[tuple]:
    """Return the symbol rows a name means: same name (exact case first), or qualified names ending in it."""
    wanted = name.strip()
    rows = index.query(_SYMBOL_SQL, (_last_part(wanted).lower(),))
    if "." in wanted:
        return [r for r in rows if r[1] == wanted or r[1].endswith("." + wanted)]
    return sorted(rows, key=lambda r: r[1].rsplit(".", 1)[-1] != wanted)  # stable: keeps the SQL order


def _source(index: Index, file_id: int, start: int, end: int) -> str:
    """Return lines ``start``..``end`` of an indexed file, from the chunks (which tile every file)."""
    chunks = index.query("SELECT start_line, chunk_text(text) FROM chunks WHERE file_id = ? AND end_line >= ?"
                         " AND start_line <= ? ORDER BY start_line", (file_id, start, end))
    if not chunks:
        return ""
    lines = "\n".join(text for _, text in chunks).split("\n")
    first = chunks[0][0]
    return "\n".join(lines[start - first: end - first + 1])


def _resolve(index: Index, name: str, file_id: int) -> Span | None:
    """Return the definition a called name most likely means (same file first), or None when the index has none."""
    rows = index.query(
        """SELECT f.path, s.start_line, s.end_line, s.qualname, s.kind, f.lang FROM symbols s
           JOIN files f ON f.id = s.file_id
           WHERE s.lname = ? AND s.name = ? AND s.kind IN ('function', 'method', 'class', 'struct')
           ORDER BY s.file_id != ?, f.is_test, f.path, s.start_line LIMIT 1""",
        (name.lower(), name, file_id))
    if not rows:
        return None
    path, start, end, qualname, kind, lang = rows[0]
    return Span(path=path, start_line=start, end_line=end, symbol=qualname, kind=kind, lang=lang)


def _site_edge(row: tuple, via: str) -> Edge:
    path, line, name, callee, qualname, kind, start, end, lang = row
    enclosing = None if qualname is None else Span(path=path, start_line=start, end_line=end, symbol=qualname,
                                                   kind=kind, lang=lang)
    return Edge(path=path, line=line, via=via, name=callee_text(name, callee), symbol=enclosing)


def _edges(index: Index, request: EdgesRequest, relation: str, edges: list[Edge]) -> EdgesResponse:
    """Return the first ``limit`` of ``edges`` (queried with one more, to tell whether there are more)."""
    return EdgesResponse(name=request.name, relation=relation, generation=index.generation,
                         edges=edges[:request.limit], more=len(edges) > request.limit)


def _last_part(name: str) -> str:
    return name.strip().rsplit(".", 1)[-1]


def popular_names(index: Index, limit: int) -> list[str]:
    """Return the most-called names that the index defines, most-called first (what a cache warms, what analyze probes)."""
    rows = index.query(
        """SELECT e.name FROM calls e WHERE length(e.name) > 3
             AND EXISTS (SELECT 1 FROM symbols s WHERE s.name = e.name)
           GROUP BY e.name ORDER BY count(*) DESC, e.name LIMIT ?""",
        (limit,),
    )
    return [name for (name,) in rows]
