"""Ranked search over an index: BM25 over FTS5, then boosts for symbol and traceback matches.

Pipeline: ``plan_query`` -> pick terms (rarest informative first) -> one FTS5 MATCH for candidates,
plus exact symbol-name hits BM25 may have cut -> rescore -> deterministic order -> hits.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass

from .config import SearchSettings
from .errors import InvalidArgument
from .index import Index
from .intent import read
from .languages import is_parsed
from .models import QueryExplain, ScoreExplain, SearchHit, SearchRequest, SearchResponse, Span
from .policy import prior as policy_prior
from .filerank import RankedFile, files_by_suffix, rank_files
from .filters import sql_filters
from .query import Frame, QueryPlan, plan_query
from .schema import FTS_WEIGHTS
from .terms import IDENTIFIER, fts_token, name_forms, split_identifier

# How many BM25 candidates to rescore per requested result; boosts rarely lift anything deeper.
_CANDIDATES_PER_RESULT = 4
_MIN_CANDIDATES = 40
# A term in more than this share of chunks says little; dropped when better terms exist.
_COMMON_SHARE = 0.2
# An identifier found in at least this many chunks needs no help from its parts.
_ATTESTED = 3
# The multipliers on the BM25 score are ``search.*`` settings. A definition named exactly like the
# query must beat a chunk that only mentions the name often; a file named by the traceback must beat
# a look-alike elsewhere; an error message's word run found verbatim weighs x(1 + per word).
_PHRASE_HITS = 200
_WEIGHTS = ", ".join(str(w) for w in FTS_WEIGHTS)
_SNIPPET_LINES = 3
# ``matched_terms`` tokenizes a chunk once for more terms than this (below, a substring check per term is cheaper).
_FEW_TERMS = 8
_WORD = re.compile(r"\w+")
_REMEMBERED_TERMS = 100_000
# Spans shown under a file-grouped hit besides its best one.
_FILE_SPANS = 3
_SNIPPET_CHARS = 300


@dataclass(slots=True)
class _Candidate:
    chunk_id: int
    bm25: float
    path: str
    lang: str
    is_test: bool
    file_id: int
    start_line: int
    end_line: int
    kind: str
    names: str
    text: str  # "" until ``_read_texts``: only shown hits are decompressed
    score: float = 0.0
    symbol_boost: float = 1.0
    path_boost: float = 1.0
    phrase_words: int = 0
    prior: float = 1.0


def search(index: Index, request: SearchRequest, settings: SearchSettings = SearchSettings()) -> SearchResponse:
    """Return the ranked hits of ``request``. Raises ``InvalidArgument`` for an empty query."""
    if not request.query.strip():
        raise InvalidArgument("query is empty")
    reading = read(request.query, request.intent)
    plan = reading.plan
    terms = select_terms(index, plan, settings.max_terms)
    if request.group == "file":
        files = search_files(index, plan, terms, request, settings)[:request.limit]
        _read_texts(index, [chunks[0] for _, chunks in files])
        symbols = _best_symbols(index, [c for _, chunks in files for c in chunks], plan)
        hits = [_file_hit(ranked, chunks[0], chunks[1:], symbols, terms) for ranked, chunks in files]
    else:
        candidates = find_candidates(index, plan, terms, request, limit=request.limit, settings=settings)[:request.limit]
        _read_texts(index, candidates)
        symbols = _best_symbols(index, candidates, plan)
        hits = [_to_hit(c, symbols[c.chunk_id], terms) for c in candidates]
    if not request.explain:
        for hit in hits:
            hit.explain = None
    return SearchResponse(query=request.query, generation=index.generation, terms=terms, results=hits,
                          explain=QueryExplain(intent=reading.intent, reason=reading.reason))


def search_files(index: Index, plan: QueryPlan, terms: list[str], request: SearchRequest,
                 settings: SearchSettings, spans: int = _FILE_SPANS) -> list[tuple[RankedFile, list[_Candidate]]]:
    """Return ranked files best first, each with its chunks best first (at most 1 + ``spans``)."""
    pool = find_candidates(index, plan, terms, request, limit=request.limit, settings=settings)
    scores = {c.chunk_id: (c.file_id, c.score / c.prior) for c in pool}
    chunks = {c.chunk_id: c for c in pool}
    title = request.query.strip().split("\n", 1)[0]
    if settings.title_weight and plan.intent == "bug_report" and title != request.query.strip():
        title_plan = plan_query(title)
        # The title's own BM25 pool; exact matches already entered through the whole query.
        for c in find_candidates(index, title_plan, select_terms(index, title_plan, settings.max_terms), request,
                                 limit=request.limit, exact=False, settings=settings):
            file_id, score = scores.get(c.chunk_id, (c.file_id, 0.0))
            scores[c.chunk_id] = (file_id, score + settings.title_weight * c.score / c.prior)
            chunks.setdefault(c.chunk_id, c)
    ordered = sorted(scores.items(), key=lambda item: -item[1][1])
    ranked = rank_files(index, plan, [(cid, fid, score) for cid, (fid, score) in ordered],
                        _frame_files(index, plan), settings, request.policy)
    wanted = [cid for f in ranked[:request.limit] for cid in f.chunk_ids[:1 + spans] if cid not in chunks]
    if wanted:
        # Files found by their definitions or paths alone still obey the request's filters.
        filters, params = sql_filters(request)
        chunks.update(_load_candidates(index, wanted, filters, params))
    out = []
    for file in ranked:
        shown = [chunks[cid] for cid in file.chunk_ids[:1 + spans] if cid in chunks]
        if shown:
            out.append((file, shown))
    return out


def _file_hit(ranked: RankedFile, best: _Candidate, rest: list[_Candidate],
              symbols: dict[int, tuple[str | None, str]], terms: list[str]) -> SearchHit:
    hit = _to_hit(best, symbols[best.chunk_id], terms)
    hit.score = round(ranked.score, 4)
    hit.explain.signals = {name: round(value, 4) for name, value in ranked.signals.items()}
    hit.spans = [Span(path=c.path, start_line=c.start_line, end_line=c.end_line, symbol=symbols[c.chunk_id][0],
                      kind=c.kind, lang=c.lang) for c in rest]
    return hit


def select_terms(index: Index, plan: QueryPlan, max_terms: int) -> list[str]:
    """Return the FTS tokens to match: identifiers first, then words, each group rarest-first.

    Tokens that occur in no chunk are dropped. A query with more than ``max_terms`` tokens also drops
    those in more than ``_COMMON_SHARE`` of the chunks (``self``, ``get``, ``the``) while rarer ones
    remain: they cost the most to match and discriminate least. A short query keeps all its tokens,
    identifiers first, in the order written.
    """
    strong = plan.strong_terms()
    words = [t for t in plan.word_terms() if t not in strong]
    parts = [t for t in plan.identifier_parts() if t not in strong and t not in words]
    if not strong and not words and not parts:
        return []
    frequency = _document_frequencies(index, strong + words + parts)
    # Parts widen a query whose identifiers are rare or absent; beside an identifier the index
    # knows well they only add slow, weak matches ("query", "set" for QuerySet: 13 ms -> 2 ms).
    if not strong or max(frequency.get(t, 0) for t in strong) < _ATTESTED:
        words += parts
    present = [t for t in strong + words if frequency.get(t, 0) > 0]
    if len(present) <= max_terms:
        return present  # a short query keeps every word it has ("cache key"), common or not
    limit = _COMMON_SHARE * max(_chunk_count(index), 1)
    informative = [t for t in present if frequency[t] <= limit] or present
    if len(informative) <= max_terms:
        return [t for t in present if t in informative]
    rarest = lambda t: (frequency[t], t)  # noqa: E731
    chosen = sorted((t for t in informative if t in strong), key=rarest) + sorted(
        (t for t in informative if t not in strong), key=rarest)
    return chosen[:max_terms]


def find_candidates(index: Index, plan: QueryPlan, terms: list[str], request: SearchRequest, *,
                    limit: int, settings: SearchSettings, exact: bool = True) -> list[_Candidate]:
    """Return scored candidates best-first; ``limit`` sizes the BM25 pool (the caller slices).

    ``exact`` also enters the chunks defining a query identifier and those holding an error message
    verbatim, which BM25 may rank below the pool.
    """
    if not terms:
        return []
    filters, params = sql_filters(request)
    pool = max(limit * _CANDIDATES_PER_RESULT, _MIN_CANDIDATES)
    matched = _scoring_terms(index, terms, pool)
    members = _member_terms(index, plan, matched, pool)
    # Rank on the FTS table alone (joining only when a filter needs it) and load chunk rows for the
    # pool afterwards: joining every match to its text before the sort cost 10x on long queries.
    join = " JOIN chunks c ON c.id = chunks_fts.rowid JOIN files f ON f.id = c.file_id" if filters else ""
    # bm25() runs only on the rows the WHERE keeps; the "+" keeps SQLite from handing the IN list to
    # FTS5, which would re-run the match once per listed row.
    scored = "AND +chunks_fts.rowid IN (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?)" if members else ""
    scores = dict(index.query(
        f"""SELECT chunks_fts.rowid, bm25(chunks_fts, {_WEIGHTS}) AS rank FROM chunks_fts{join}
            WHERE chunks_fts MATCH ? {scored} {filters} ORDER BY rank, chunks_fts.rowid LIMIT ?""",
        (_any(matched), *([_any(members)] if members else []), *params, pool),
    ))
    phrases = _phrase_chunks(index, plan, filters, params) if exact else {}
    # Chunks found only by an exact symbol name or a verbatim message run ranked below the BM25 pool;
    # they enter at ``exact_entry_share`` of the pool's lowest score and compete through their boosts.
    # (Asking FTS5 for their own BM25 with ``rowid IN (...)`` re-runs the match per row: 250 ms on a bug report.)
    floor = max(scores.values(), default=-1.0) * settings.exact_entry_share
    exact_chunks = _symbol_chunks(index, plan, filters, params) | phrases.keys() if exact else set()
    for chunk_id in exact_chunks - scores.keys():
        scores[chunk_id] = floor
    found = _load_candidates(index, list(scores), "", [])
    frame_files = _frame_files(index, plan)
    names = _NameMatcher.of(plan, settings)
    candidates = list(found.values())
    for candidate in candidates:
        candidate.bm25 = scores[candidate.chunk_id]
        candidate.phrase_words = phrases.get(candidate.chunk_id, 0)
        _score(candidate, names, frame_files, settings, request.policy)
    candidates.sort(key=lambda c: (-round(c.score, 9), c.path, c.start_line))
    return candidates


def _scoring_terms(index: Index, terms: list[str], pool: int) -> list[str]:
    """Return ``terms`` without those BM25 cannot score once the others fill the pool.

    FTS5's bm25() gives a term in half the rows or more an IDF of 1e-6, yet scores every row it
    matches (``django`` is in 59 % of Django's chunks: 17 k rows, most of an error query's time).
    The rows it alone matches score far below those of any other term, so when one other term
    matches ``pool`` rows they never reach the pool: the term is left out of the MATCH (still a
    query term: it is shown and looked for in the hits).
    """
    frequency = _document_frequencies(index, terms)
    half = _chunk_count(index) / 2
    scoring = [t for t in terms if frequency.get(t, 0) < half]
    if len(scoring) < len(terms) and max((frequency.get(t, 0) for t in scoring), default=0) >= pool:
        return scoring
    return terms


def _member_terms(index: Index, plan: QueryPlan, terms: list[str], pool: int) -> list[str]:
    """Return the member names of an identifier query's dotted names (``save`` of ``Model.save``) when
    only the chunks holding one are worth scoring; [] to score every match.

    The class or module before the dot is often a common word (``model``: 26 % of Django's chunks)
    whose rows, without the member, rarely reach the pool, yet bm25() scores each (~0.4 µs a row).
    So once the member names alone match ``pool`` rows and the other terms match more, only the
    members' rows are scored, every term still counting in each score.
    """
    if plan.intent != "identifier":
        return []
    names = {form for i in plan.identifiers if "." in i for form in name_forms(i.rsplit(".", 1)[-1])}
    members = [t for t in terms if t in names]
    if not members or len(members) == len(terms):
        return []
    frequency = _document_frequencies(index, terms)
    alone = sum(frequency.get(t, 0) for t in members)  # rows, counting a row holding two forms twice
    fills = max(frequency.get(t, 0) for t in members) >= pool
    return members if fills and sum(frequency.values()) - alone > alone else []


def _any(terms: list[str]) -> str:
    return " OR ".join(fts_token(t) for t in terms)


def _load_candidates(index: Index, ids: list[int], filters: str, params: list) -> dict[int, _Candidate]:
    """Return {chunk id: unscored candidate} for the chunks ``ids`` that pass ``filters``."""
    marks = ",".join("?" * len(ids))
    return {
        row[0]: _Candidate(row[0], 0.0, row[1], row[2], bool(row[3]), *row[4:], "")
        for row in index.query(
            f"""SELECT c.id, f.path, f.lang, f.is_test, f.id, c.start_line, c.end_line, c.kind, c.names
                FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({marks}) {filters}""",
            [*sorted(ids), *params],
        )
    }


def _read_texts(index: Index, candidates: list[_Candidate]) -> None:
    """Fill in the text of the candidates that are shown (scoring needs none of it)."""
    texts = dict(index.query(f"SELECT id, chunk_text(text) FROM chunks WHERE id IN ({','.join('?' * len(candidates))})",
                             [c.chunk_id for c in candidates]))
    for candidate in candidates:
        candidate.text = texts[candidate.chunk_id]


def _symbol_chunks(index: Index, plan: QueryPlan, filters: str, params: list) -> set[int]:
    """Return chunks defining a symbol named exactly like a query identifier (BM25 may rank them low)."""
    names = {i.split(".")[-1].lower() for i in plan.identifiers + plan.frame_functions()}
    if not names:
        return set()
    marks = ",".join("?" * len(names))
    rows = index.query(
        f"""SELECT c.id FROM symbols s
            JOIN chunks c ON c.file_id = s.file_id AND s.start_line BETWEEN c.start_line AND c.end_line
            JOIN files f ON f.id = c.file_id
            WHERE s.lname IN ({marks}) {filters} ORDER BY f.path, c.start_line LIMIT 200""",
        (*sorted(names), *params),
    )
    return {r[0] for r in rows}


def _phrase_chunks(index: Index, plan: QueryPlan, filters: str, params: list) -> dict[int, int]:
    """Return {chunk id: words of the longest error-message run the chunk's body holds verbatim}.

    One MATCH asks for all the runs at once (a query each cost ~1 ms apiece); which run a chunk
    holds is then read from its text, the way FTS5 tokenizes it: the run's words as consecutive tokens.
    """
    if not plan.message_runs:
        return {}
    match = "body : (" + " OR ".join(fts_token(" ".join(run)) for run in plan.message_runs) + ")"
    join = " JOIN chunks c ON c.id = chunks_fts.rowid JOIN files f ON f.id = c.file_id" if filters else ""
    matching = f"SELECT chunks_fts.rowid FROM chunks_fts{join} WHERE chunks_fts MATCH ? {filters}"
    # Most messages match a few chunks: all of them, unranked, is half the cost of ranking them (1.9 ms).
    ids = [r[0] for r in index.query(f"{matching} LIMIT {_PHRASE_HITS + 1}", (match, *params))]
    if len(ids) > _PHRASE_HITS:  # more than the cap: the best-ranked ones
        ids = [r[0] for r in index.query(f"{matching} ORDER BY rank LIMIT {_PHRASE_HITS}", (match, *params))]
    rows = index.query(f"SELECT id, chunk_text(text) FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids)
    # Consecutive tokens are words with only non-word characters between them. A run is looked
    # for only where its first word occurs: tokenizing every chunk whole was 2 ms of a bug report.
    runs = [(run[0], _token_run(run), len(run)) for run in plan.message_runs]  # longest first
    found: dict[int, int] = {}
    for chunk_id, text in rows:
        lowered = text.lower()
        found[chunk_id] = next((n for first, pattern, n in runs if first in lowered and pattern.search(lowered)), 0)
    return {chunk_id: n for chunk_id, n in found.items() if n}


def _token_run(words: list[str]) -> re.Pattern:
    """Return the pattern of ``words`` as consecutive FTS tokens (``\\w+`` runs) of lowercased text."""
    # The first word leads (a lookbehind after it, not before): re then finds candidates by a literal scan.
    first = re.escape(words[0])
    rest = "".join(r"\W+" + re.escape(w) for w in words[1:])
    return re.compile(first + r"(?<!\w" + "." * len(words[0]) + ")" + rest + r"(?!\w)")


def _frame_files(index: Index, plan: QueryPlan) -> dict[int, list[Frame]]:
    """Return {file id: its traceback frames} for the indexed files a traceback names (by path suffix)."""
    found = files_by_suffix(index, [frame.path for frame in plan.frames])
    files: dict[int, list[Frame]] = {}
    for frame in plan.frames:
        if frame.path in found:
            files.setdefault(found[frame.path], []).append(frame)
    return files


@dataclass(frozen=True, slots=True)
class _NameMatcher:
    """The query's identifiers, prepared once per query for the symbol boost of every candidate."""

    dotted: frozenset[str]  # "QuerySet.filter"
    exact: frozenset[str]  # last pieces as written
    folded: frozenset[str]  # last pieces, lowercase
    prefixes: frozenset[str]  # lowercase last pieces of 4+ characters, matched as name prefixes
    boosts: tuple[float, float, float, float]  # qualname, exact, folded, prefix

    @classmethod
    def of(cls, plan: QueryPlan, settings: SearchSettings) -> _NameMatcher:
        lasts = [i.rsplit(".", 1)[-1] for i in plan.identifiers]
        # An identifier query is after a definition: its name matches weigh more (``pampax.intent``).
        scale = settings.identifier_boost if plan.intent == "identifier" else 1.0
        boosts = (settings.qualname_boost, settings.exact_boost, settings.folded_boost, settings.prefix_boost)
        return cls(frozenset(i for i in plan.identifiers if "." in i), frozenset(lasts),
                   frozenset(x.lower() for x in lasts), frozenset(x.lower() for x in lasts if len(x) >= 4),
                   tuple(b * scale for b in boosts))

    def boost(self, qualnames: list[str], short: set[str]) -> float:
        qualname, exact, folded, prefix = self.boosts
        for q in qualnames if self.dotted else ():
            pieces = q.split(".")
            if any(".".join(pieces[start:]) in self.dotted for start in range(len(pieces) - 1)):
                return qualname
        if short & self.exact:
            return exact
        lowered = {x.lower() for x in short}
        if lowered & self.folded:
            return folded
        if self.prefixes and any(x.startswith(tuple(self.prefixes)) for x in lowered):  # every prefix has 4+ letters
            return prefix
        return 1.0


def _score(candidate: _Candidate, names: _NameMatcher, frame_files: dict[int, list[Frame]],
           settings: SearchSettings, policy: str) -> None:
    qualnames = candidate.names.split()
    short = {q.rsplit(".", 1)[-1] for q in qualnames}
    boost = names.boost(qualnames, short)
    path_boost = 1.0
    for frame in frame_files.get(candidate.file_id, ()):
        # The innermost frames are where a fix usually goes; outer frames are the road there.
        weight = settings.traceback_file_boost * max(settings.outer_frame_floor, 1 - settings.frame_decay * frame.depth)
        if frame.function in short:
            weight *= settings.traceback_function_boost
        path_boost = max(path_boost, weight)
    candidate.symbol_boost = boost
    candidate.path_boost = path_boost
    phrase_boost = 1.0 + settings.phrase_boost_per_word * candidate.phrase_words
    # Test files and prose rank below the code they test or describe when both match equally well.
    if candidate.is_test:
        prior = policy_prior("test", policy, settings.chunk_test_factor)
    elif not is_parsed(candidate.lang):
        prior = policy_prior("prose", policy, settings.chunk_prose_factor)
    else:
        prior = 1.0
    candidate.prior = prior
    candidate.score = -candidate.bm25 * boost * path_boost * phrase_boost * prior


def _to_hit(candidate: _Candidate, best_symbol: tuple[str | None, str], terms: list[str]) -> SearchHit:
    symbol, kind = best_symbol
    # The path is searched too (its FTS column): a hit that matched through it says so.
    matched = matched_terms(candidate.names + "\n" + candidate.path + "\n" + candidate.text, terms)
    return SearchHit(
        path=candidate.path, start_line=candidate.start_line, end_line=candidate.end_line, symbol=symbol,
        kind=kind, lang=candidate.lang, score=round(candidate.score, 4),
        snippet=_snippet(candidate, matched),
        explain=ScoreExplain(bm25=round(-candidate.bm25, 4), symbol_boost=candidate.symbol_boost,
                             path_boost=candidate.path_boost, phrase_words=candidate.phrase_words,
                             matched_terms=matched),
    )


def _best_symbols(index: Index, candidates: list[_Candidate], plan: QueryPlan) -> dict[int, tuple[str | None, str]]:
    """Return {chunk id: (symbol, kind)}: the chunk's symbol a reader is after, the one the query names
    (its first definition in the file), else the chunk's main one; two queries for all the hits."""
    wanted = {i.rsplit(".", 1)[-1].lower() for i in plan.identifiers + plan.frame_functions()}
    named = {}
    for c in candidates:
        names = [q for q in c.names.split() if q.rsplit(".", 1)[-1].lower() in wanted]
        if names:
            named[c.chunk_id] = (c.file_id, names[0])
    kinds: dict[tuple[int, str], str] = {}
    if named:
        files, qualnames = sorted({f for f, _ in named.values()}), sorted({q for _, q in named.values()})
        for file_id, qualname, kind in index.query(
                f"""SELECT file_id, qualname, kind FROM symbols WHERE file_id IN ({','.join('?' * len(files))})
                    AND qualname IN ({','.join('?' * len(qualnames))}) ORDER BY start_line DESC, id DESC""",
                (*files, *qualnames)):
            kinds[(file_id, qualname)] = kind  # the last row written is the file's first definition
    unnamed = [c.chunk_id for c in candidates if c.chunk_id not in named]
    main = {chunk_id: (qualname, kind) for chunk_id, qualname, kind in index.query(
        f"""SELECT c.id, s.qualname, s.kind FROM chunks c JOIN symbols s ON s.id = c.symbol_id
            WHERE c.id IN ({','.join('?' * len(unnamed))})""", unnamed)} if unnamed else {}
    return {c.chunk_id: (named[c.chunk_id][1], kinds.get(named[c.chunk_id], c.kind)) if c.chunk_id in named
            else main.get(c.chunk_id, (None, c.kind)) for c in candidates}


def matched_terms(text: str, terms: list[str]) -> list[str]:
    """Return the ``terms`` (lowercase FTS tokens) that ``text`` holds as the index tokenizes it: a word, an
    identifier's part or its joined form (``build_index`` holds ``build``, ``index`` and ``buildindex``).

    A few terms are looked for only where their letters occur: tokenizing every returned chunk whole
    was half of a warm identifier search. Many terms (a bug report's hundreds) are looked up among the
    chunk's tokens, tokenized once: a regex per term was 1.5 ms of a Django bug report's ten hits.
    """
    lowered = text.lower()
    squashed = lowered.replace("_", "")
    tokens = set(_WORD.findall(lowered)) if len(terms) > _FEW_TERMS else None
    identifiers: set[str] | None = None
    matched = []
    for term in terms:
        if tokens is not None and term in tokens:
            matched.append(term)
            continue
        if term not in squashed and (tokens is not None or term not in lowered):
            continue
        if tokens is None and _whole_word(term).search(lowered):
            matched.append(term)
            continue
        if identifiers is None:
            identifiers = set(IDENTIFIER.findall(text))
        for identifier in identifiers:
            if term in identifier.lower().replace("_", ""):
                parts = split_identifier(identifier)  # indexed only when there are several (expand_parts)
                if len(parts) > 1 and (term in parts or term == "".join(parts)):
                    matched.append(term)
                    break
    return matched


@functools.lru_cache(maxsize=1024)
def _whole_word(term: str) -> re.Pattern:
    """Return the pattern of ``term`` as a whole token, led by the term (see ``_token_run``): a leading
    lookbehind made re try every position, most of ``matched_terms`` on long chunks."""
    return _token_run([term])


def _snippet(candidate: _Candidate, matched: list[str]) -> str:
    """Return up to three lines of the chunk, starting at the first line holding a matched term.

    The lines keep their indentation relative to each other (``textwrap.dedent``), so a signature's
    continuation lines still read as its arguments.
    """
    lines = candidate.text.split("\n")
    # The first matched term in the whole text lowercased, then its line: lowercasing keeps every
    # newline, and lines lowercase alike alone or together (a line-by-line scan was 30 µs a hit).
    lowered = candidate.text.lower()
    first = min((at for at in map(lowered.find, matched) if at >= 0), default=-1)
    start = lowered.count("\n", 0, first) if first > 0 else 0
    snippet = textwrap.dedent("\n".join(line.rstrip() for line in lines[start:start + _SNIPPET_LINES]))
    return snippet.strip("\n")[:_SNIPPET_CHARS]


def _document_frequencies(index: Index, terms: list[str]) -> dict[str, int]:
    """Return {term: chunks holding it} for the terms the index holds.

    fts5vocab answers ~0.06 ms a term (a bug report's 200 terms: 12 ms on Django), so a warm process
    remembers what it looked up, per generation and up to ``_REMEMBERED_TERMS`` terms.
    """
    known: dict[str, int] = index.memo("document_frequencies", dict)
    missing = [t for t in dict.fromkeys(terms) if t not in known]
    if missing:
        if len(known) + len(missing) > _REMEMBERED_TERMS:
            known.clear()
        found = dict(index.query(f"SELECT term, doc FROM chunks_vocab WHERE term IN ({','.join('?' * len(missing))})",
                                 missing))
        known.update((t, found.get(t, 0)) for t in missing)
    return {t: known[t] for t in terms if known[t]}


def _chunk_count(index: Index) -> int:
    # Counting walks the whole table (~1 ms on Django): once per generation is enough.
    return index.memo("chunk_count", lambda: index.query("SELECT count(*) FROM chunks")[0][0])
