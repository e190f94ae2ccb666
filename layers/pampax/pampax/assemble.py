"""Assemble a token-budgeted, explainable context bundle: seeds from search plus their callers,
callees and tests, packed full text first, then capsules, then dropped.

Every candidate gets an evidence row (which seed, which edge, which score, what was decided), and
the bundle's Markdown (header and item blocks, ``pampax.markdown``) is measured with the counter it
is reported in, so ``tokens.used`` counts what ``--format md`` prints and never exceeds ``tokens.budget``.
"""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass

from .config import SearchSettings
from .errors import InvalidArgument
from .index import Index
from .markdown import header, header_room, item_block
from .filters import sql_filters
from .intent import read
from .models import AssembleRequest, AssembleResponse, BundleItem, Evidence, QueryExplain, SearchRequest, TokenReport
from .schema import FILE_CALLS
from .search import search_files, select_terms
from .testnames import named_tests
from .tokens import COUNTER, at_least, count_tokens

# Neighbour score = seed score x edge factor (``search.callee_factor`` ...) / sqrt(number of same-named
# definitions): what a seed calls matters more than who calls it, and a name defined ten times is a
# weak link. Neighbours come after the seed files' own spans: 8k bundles on the dev set held fixed
# lines in 0.663 of cases at 0.6/0.5/0.45, 0.674 at 0.3/0.25/0.2.
NEIGHBOURS_PER_EDGE = 4
# A seed file offers its best span and ``search.seed_spans`` more, each weighing ``search.span_decay``
# times the one before: the lines a fix touches are often not in a file's best-matching chunk (8k
# bundles on the dev set: 0.61 of them hold fixed lines with 3 more spans at 0.7, 0.66 with 7 at 0.9).
_CAPSULE_KEY_LINES = 6
_BUILTINS = frozenset(dir(builtins))
# Asked with the symbol's file id, SQLite reads only that file's calls (``schema.FILE_CALLS``); a plan
# through the name index (for the GROUP BY) would scan every call (100+ ms on Django).
# The first of the name's calls as written (``schema.callee_text``) tells a bare ``len()`` from ``x.len()``.
CALLEES_SQL = f"""SELECT e.name, min(coalesce(e.callee || e.name, e.name)) FROM files f JOIN calls e ON {FILE_CALLS}
                  WHERE f.id = ? AND e.symbol_id = ? GROUP BY e.name ORDER BY min(e.line) LIMIT 32"""
_DOC_LINES = 4


@dataclass(slots=True)
class _Chunk:
    id: int
    file_id: int
    path: str
    lang: str
    start_line: int
    end_line: int
    kind: str
    text: str
    symbol: str | None
    signature: str | None
    docstring: str | None


@dataclass(slots=True)
class _Candidate:
    chunk: _Chunk
    role: str
    via: str | None
    edge: str | None
    score: float
    reason: str


def assemble(
    index: Index, request: AssembleRequest, settings: SearchSettings = SearchSettings()
) -> AssembleResponse:
    """Return the bundle for ``request``. Raises ``InvalidArgument`` for an empty query."""
    if not request.query.strip():
        raise InvalidArgument("query is empty")
    reading = read(request.query, request.intent)
    plan = reading.plan
    terms = select_terms(index, plan, settings.max_terms)
    # Seeds come from the file ranking search answers with: the best files, each with its best spans.
    # The search filters and knobs hold for every item, neighbours too.
    search_request = SearchRequest(
        query=request.query, limit=request.seeds, group="file", paths=request.paths, langs=request.langs,
        kinds=request.kinds, excludes=request.excludes, intent=request.intent, policy=request.policy, docs=request.docs)
    files = search_files(index, plan, terms, search_request, settings, spans=settings.seed_spans)
    seeds = _seeds(files[: request.seeds], settings.span_decay)
    candidates = _admitted(index, search_request, _expand(index, seeds, terms, settings))
    room = request.budget - header_room(request.query, index.generation, request.budget, request.max_items)
    items, evidence, stop = _pack(candidates, request.max_items, room, terms)
    if not seeds:
        stop = "no_results"
    _, used = header(request.query, index.generation, items, request.budget, stop)
    return AssembleResponse(
        query=request.query, generation=index.generation, items=items, evidence=evidence, stop_reason=stop,
        tokens=TokenReport(budget=request.budget, used=used, counter=COUNTER),
        explain=QueryExplain(intent=reading.intent, reason=reading.reason),
    )


def _seeds(files, decay: float) -> list:
    """Return the seed chunks of ranked files, each scored by its file's score and its rank in the file."""
    seeds = []
    for ranked, chunks in files:
        for rank, chunk in enumerate(chunks):
            chunk.score = ranked.score * decay ** rank
            seeds.append(chunk)
    return sorted(seeds, key=lambda c: (-round(c.score, 9), c.path, c.start_line))


def _expand(index: Index, seeds, terms: list[str], settings: SearchSettings) -> list[_Candidate]:
    """Return seeds and their neighbours, best first, one candidate per chunk (its best reason wins)."""
    best: dict[int, _Candidate] = {}

    def offer(candidate: _Candidate) -> None:
        current = best.get(candidate.chunk.id)
        if current is None or candidate.score > current.score:
            best[candidate.chunk.id] = candidate

    top = max((s.score for s in seeds), default=1.0) or 1.0
    factors = {"callee": settings.callee_factor, "caller": settings.caller_factor, "test": settings.test_edge_factor}
    for rank, seed in enumerate(seeds, start=1):
        chunk = _load_chunk(index, seed.chunk_id)
        score = seed.score / top
        matched = ", ".join(t for t in terms if t in chunk.text.lower() or t in seed.names.lower()) or "-"
        offer(_Candidate(chunk, "seed", None, None, score, f"search hit #{rank} (matched: {matched})"))
        for symbol_id, qualname, name in _symbols_in(index, chunk):
            for role, edge, neighbour, ambiguity in _neighbours(index, symbol_id, name, chunk.file_id):
                weight = score * factors[role] / math.sqrt(max(ambiguity, 1))
                offer(_Candidate(neighbour, role, qualname, edge, weight, f"{role} of {qualname} (via {edge})"))
    return sorted(best.values(), key=lambda c: (-round(c.score, 9), c.chunk.path, c.chunk.start_line))


def _admitted(index: Index, request: SearchRequest, candidates: list[_Candidate]) -> list[_Candidate]:
    """Return the candidates whose chunks pass the request's filters (neighbours are found by edges, unfiltered)."""
    filters, params = sql_filters(request)
    if not filters or not candidates:
        return candidates
    ids = sorted({c.chunk.id for c in candidates})
    kept = {row[0] for row in index.query(
        f"""SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id
            WHERE c.id IN ({','.join('?' * len(ids))}) {filters}""", [*ids, *params])}
    return [c for c in candidates if c.chunk.id in kept]


def _symbols_in(index: Index, chunk: _Chunk) -> list[tuple[int, str, str]]:
    """Return the function-like and type symbols defined in a chunk, outermost first."""
    return index.query(
        """SELECT id, qualname, name FROM symbols
           WHERE file_id = ? AND start_line BETWEEN ? AND ? AND kind NOT IN ('constant', 'module')
           ORDER BY start_line, -end_line LIMIT 8""",
        (chunk.file_id, chunk.start_line, chunk.end_line),
    )


def _neighbours(index: Index, symbol_id: int, name: str, file_id: int):
    """Yield (role, edge, chunk, ambiguity) for the callees, callers and tests of one symbol."""
    # Callees: names this symbol calls, resolved same file first; ambiguity = definitions of the name.
    for callee, written in index.query(CALLEES_SQL, (file_id, symbol_id)):
        if written == callee and callee in _BUILTINS:
            continue  # a bare super()/len()/open() is the language's, not a project method of that name
        targets = index.query(
            """SELECT s.id FROM symbols s
               WHERE s.lname = ? AND s.id != ? AND s.kind IN ('function', 'method', 'class', 'struct')
               ORDER BY s.file_id != ?, s.file_id, s.start_line LIMIT 11""",
            (callee.lower(), symbol_id, file_id),
        )
        if 0 < len(targets) <= 10:
            chunk = _symbol_chunk(index, targets[0][0])
            if chunk:
                yield "callee", "call", chunk, len(targets)
    definitions = index.query("SELECT count(*) FROM symbols WHERE lname = ?", (name.lower(),))[0][0]
    # Callers: symbols whose body calls this name.
    callers = index.query(
        """SELECT e.symbol_id FROM calls e JOIN symbols s ON s.id = e.symbol_id
           JOIN files f ON f.id = e.file_id
           WHERE e.name = ? AND e.symbol_id != ? AND f.is_test = 0
           GROUP BY e.symbol_id ORDER BY e.file_id != ?, f.path, s.start_line LIMIT ?""",
        (name, symbol_id, file_id, NEIGHBOURS_PER_EDGE),
    )
    for (caller,) in callers:
        chunk = _symbol_chunk(index, caller)
        if chunk:
            yield "caller", "call", chunk, definitions
    # Tests: by name (test_get_x -> get_x), then by calling it from a test file (an import names no test symbol).
    tests = [(row[0], "test-name") for row in named_tests(index, name)][:NEIGHBOURS_PER_EDGE]
    tests += index.query(
        """SELECT DISTINCT s.id, 'test-call' FROM calls e JOIN symbols s ON s.id = e.symbol_id
             JOIN files f ON f.id = e.file_id
           WHERE e.name = ? AND f.is_test = 1 ORDER BY f.path, s.start_line LIMIT ?""",
        (name, NEIGHBOURS_PER_EDGE - len(tests)))
    for test, edge in tests:
        chunk = _symbol_chunk(index, test)
        if chunk:
            yield "test", edge, chunk, definitions


_CHUNK_SQL = """SELECT c.id, c.file_id, f.path, f.lang, c.start_line, c.end_line, c.kind, chunk_text(c.text),
                       s.qualname, s.signature, s.docstring
                FROM chunks c JOIN files f ON f.id = c.file_id LEFT JOIN symbols s ON s.id = c.symbol_id"""


def _load_chunk(index: Index, chunk_id: int) -> _Chunk:
    return _Chunk(*index.query(f"{_CHUNK_SQL} WHERE c.id = ?", (chunk_id,))[0])


def _symbol_chunk(index: Index, symbol_id: int) -> _Chunk | None:
    """Return the chunk where a symbol starts, speaking for that symbol (its name, signature, docstring)
    rather than for the chunk's main symbol, which differs when small definitions were merged."""
    rows = index.query(
        """SELECT c.id, c.file_id, f.path, f.lang, c.start_line, c.end_line, c.kind, chunk_text(c.text),
                  s.qualname, s.signature, s.docstring
           FROM symbols s JOIN chunks c ON c.file_id = s.file_id AND s.start_line BETWEEN c.start_line AND c.end_line
           JOIN files f ON f.id = s.file_id
           WHERE s.id = ? ORDER BY c.start_line DESC LIMIT 1""",
        (symbol_id,),
    )
    return _Chunk(*rows[0]) if rows else None


def _pack(candidates: list[_Candidate], max_items: int, room: int, terms: list[str]):
    """Return (items, evidence, stop_reason): greedy by score into ``room`` tokens, full text if it fits, else a capsule."""
    items: list[BundleItem] = []
    evidence: list[Evidence] = []
    used = 0
    budget_hit = limit_hit = False
    for candidate in candidates:
        decision = "dropped"
        if len(items) >= max_items:
            limit_hit = True
        else:
            for mode in ("full", "capsule"):  # the capsule is made only when the full text does not fit
                text = candidate.chunk.text if mode == "full" else _capsule(candidate.chunk, terms)
                item = _item(candidate, mode, text, room - used)
                if item is not None and used + item.tokens <= room:
                    items.append(item)
                    used += item.tokens
                    decision = mode
                    break
            budget_hit = budget_hit or decision != "full"
        chunk = candidate.chunk
        evidence.append(Evidence(
            path=chunk.path, start_line=chunk.start_line, symbol=chunk.symbol, role=candidate.role,
            via=candidate.via, edge=candidate.edge, score=round(candidate.score, 4), decision=decision,
        ))
    stop = "item_limit" if limit_hit else "budget_exhausted" if budget_hit else "candidates_exhausted"
    return items, evidence, stop


def _item(candidate: _Candidate, mode: str, text: str, room: int) -> BundleItem | None:
    """Return the item with its token count, or None when it cannot fit in ``room`` (counting was most of a
    bundle's time, most of it spent on candidates arriving after the budget ran out)."""
    chunk = candidate.chunk
    item = BundleItem(
        path=chunk.path, start_line=chunk.start_line, end_line=chunk.end_line, symbol=chunk.symbol,
        kind=chunk.kind, lang=chunk.lang, mode=mode, tokens=0, reason=candidate.reason, text=text,
    )
    block = item_block(item)
    if at_least(block) > room:
        return None
    return item.model_copy(update={"tokens": count_tokens(block)})


def _capsule(chunk: _Chunk, terms: list[str]) -> str:
    """Return a chunk's capsule: its signature, the head of its docstring, and the lines naming query terms."""
    lines = chunk.text.split("\n")
    out = [chunk.signature or lines[0].strip()]
    if chunk.docstring:
        out += ['"""' + "\n".join(chunk.docstring.strip().split("\n")[:_DOC_LINES]) + '"""']
    key = [
        f"{chunk.start_line + n}: {line.strip()}"
        for n, line in enumerate(lines[1:], start=1)
        if any(t in line.lower() for t in terms)
    ][:_CAPSULE_KEY_LINES]
    return "\n".join(out + (["..."] + key + ["..."] if key else ["..."]))
