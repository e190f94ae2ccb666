"""Request and response models: the only types that cross the core's boundary.

The CLI, the local HTTP harness and the Lambda handlers all build these requests and print these
responses, so the three speak the same JSON. Field names listed in the README's JSON shapes
and in openapi.yaml are never renamed; new fields only add to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .errors import InvalidRequest, PampaxError

# A pasted bug report is a few KB; 64 KiB leaves room for a long traceback and still bounds the work.
MAX_QUERY_CHARS = 65_536
# Filters become one SQLite GLOB each, ORed: SQLite refuses a pattern over 50,000 bytes and an
# expression tree over 1,000 deep, so both are bounded well inside what it accepts.
MAX_FILTERS = 64
MAX_FILTER_CHARS = 1024


# Constrained element types also make pydantic refuse lone surrogates inside tuples, as it does for a
# bare str field (a plain tuple[str, ...] let "\ud800" through to the cache key).
Query = Annotated[str, StringConstraints(max_length=MAX_QUERY_CHARS)]
Filter = Annotated[str, StringConstraints(max_length=MAX_FILTER_CHARS)]


def _sorted_unique(value: tuple[str, ...]) -> tuple[str, ...]:
    # Normalised so that equal requests have equal cache keys.
    return tuple(sorted({v.strip() for v in value if v.strip()}))


Filters = Annotated[tuple[Filter, ...], Field(max_length=MAX_FILTERS), AfterValidator(_sorted_unique)]
# The search knobs, shared by search and assemble (``pampax.intent``, ``pampax.policy``).
Intent = Annotated[Literal["auto", "identifier", "error", "question", "bug_report"], Field(
    description="how to read the query; auto detects it, and the response's explain says which it chose")]
Policy = Annotated[Literal["code", "code+tests", "all"], Field(
    description="what ranks as code: code demotes tests, docs and loose scripts; code+tests demotes docs and"
                " scripts; all demotes nothing")]
Docs = Annotated[bool, Field(description="false: leave docs, data and config (files in no parsed language) out")]
Excludes = Annotated[Filters, Field(description="glob(s) a result's path must not match")]

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Mapping[str, Any], error: type[PampaxError] = InvalidRequest) -> M:
    """Return ``model`` built from ``data``; raise ``error`` naming the first bad field, never pydantic's dump."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise error(f"{where}: {_in_json_terms(first)}") from None


# What a field expected, by pydantic error type, named as JSON names it (an array, not a tuple).
_EXPECTED = {
    "tuple_type": "an array", "list_type": "an array", "dict_type": "an object", "model_type": "an object",
    "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
}
_JSON_TYPES = {dict: "an object", list: "an array", tuple: "an array"}


def _in_json_terms(error: Mapping[str, Any]) -> str:
    """Return one validation error in the words of a caller who sent JSON, not in pydantic's."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _EXPECTED:
        value = error["input"]
        shown = _JSON_TYPES.get(type(value)) or json.dumps(value, default=str)
        return f"expected {_EXPECTED[kind]}, got {shown if len(shown) <= 40 else shown[:39] + '…'}"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "too_long" and ctx.get("field_type") in ("Tuple", "List"):
        return f"at most {ctx['max_length']} items, got {ctx['actual_length']}"
    return error["msg"].replace("Input should be", "should be", 1)


class _Request(BaseModel):
    # Unknown fields are an error at every boundary: a typo must not silently change a query.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SearchRequest(_Request):
    query: Query
    limit: int = Field(default=10, ge=1, le=200)
    paths: Filters = Field(default=(), description="glob(s) a result's path must match")
    langs: Filters = ()
    kinds: Filters = ()
    group: Literal["chunk", "file"] = Field(
        default="chunk", description="chunk: ranked spans; file: each file once, its best spans inside it")
    excludes: Excludes = ()
    intent: Intent = "auto"
    policy: Policy = "code"
    docs: Docs = True
    explain: bool = Field(default=True, description="each hit's score explanation; false leaves it out (a smaller answer)")


class ScoreExplain(BaseModel):
    bm25: float
    symbol_boost: float
    path_boost: float
    phrase_words: int = Field(description="words of the longest error-message run matched verbatim")
    matched_terms: list[str]
    signals: dict[str, float] = Field(default_factory=dict, description="with group=file: the file's ranking signals and prior")


class Span(BaseModel):
    """Where a result or bundle item sits: lines of a file, and the symbol they belong to."""

    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    lang: str


class SearchHit(Span):
    score: float
    snippet: str
    explain: ScoreExplain | None = Field(description="why the hit scored; null when the request set explain: false")
    spans: list[Span] = Field(default_factory=list, description="with group=file: the file's next best spans")


class QueryExplain(BaseModel):
    intent: str = Field(description="the intent the query was read as")
    reason: str = Field(description="why auto chose it (e.g. \"names only\"), or \"requested\"")


class SearchResponse(BaseModel):
    query: str
    generation: str
    terms: list[str] = Field(description="the terms the query was reduced to, in priority order")
    results: list[SearchHit]
    explain: QueryExplain | None = Field(default=None, description="how the query was read")


class AssembleRequest(_Request):
    query: Query
    budget: int = Field(gt=0, le=1_000_000, description="token budget for the bundle's items")
    seeds: int = Field(default=5, ge=1, le=50, description="ranked files whose best spans seed the bundle")
    max_items: int = Field(default=40, ge=1, le=500)
    paths: Filters = Field(default=(), description="glob(s) every item's path must match")
    langs: Filters = ()
    kinds: Filters = ()
    excludes: Excludes = ()
    intent: Intent = "auto"
    policy: Policy = "code"
    docs: Docs = True


class BundleItem(Span):
    mode: Literal["full", "capsule"]
    tokens: int
    reason: str
    text: str


class Evidence(BaseModel):
    path: str
    start_line: int
    symbol: str | None
    role: Literal["seed", "caller", "callee", "test"]
    via: str | None = Field(description="the seed symbol this candidate was reached from")
    edge: str | None = Field(description="the edge kind that led here: call, test-name, test-import, test-call")
    score: float
    decision: Literal["full", "capsule", "dropped"]


class TokenReport(BaseModel):
    budget: int
    used: int
    counter: str


class AssembleResponse(BaseModel):
    query: str
    generation: str
    items: list[BundleItem]
    evidence: list[Evidence]
    stop_reason: Literal["budget_exhausted", "candidates_exhausted", "item_limit", "no_results"]
    tokens: TokenReport
    explain: QueryExplain | None = Field(default=None, description="how the query was read")


class IndexRequest(_Request):
    path: str
    index: str | None = None
    full: bool = Field(default=False, description="reparse every file even when its hash is unchanged")


class IndexReport(BaseModel):
    root: str
    index: str
    generation: str
    engine: str
    files: int
    parsed_files: int
    reused_files: int
    removed_files: int
    skipped: dict[str, int]
    symbols: int
    chunks: int
    edges: int
    test_links: int = Field(description="names test files import (tests named after a name are found by name when asked)")
    bytes: int
    seconds: float


class HealthCheck(BaseModel):
    name: str
    ok: bool
    detail: str
    err_kind: str | None = None


class HealthReport(BaseModel):
    status: Literal["healthy", "degraded", "unhealthy"]
    version: str
    engine: str
    generation: str | None
    index_age_seconds: int | None
    checks: list[HealthCheck]


class CacheWarmRequest(_Request):
    queries: tuple[Query, ...] = Field(default=(), max_length=1_000, description="queries to replay; empty: the index's most-called symbols")
    budget: int = Field(default=8000, gt=0, le=1_000_000, description="budget of the bundles warmed for each query")


class CacheWarmReport(BaseModel):
    generation: str
    queries: int
    written: int
    hits: int


class CacheClearRequest(_Request):
    scope: Literal["search", "bundle", "all"] = "all"


class CacheClearReport(BaseModel):
    scope: str
    removed: int


class SymbolRequest(_Request):
    name: str = Field(min_length=1, max_length=512,
                      description="a symbol name (`filter`) or a qualified name (`QuerySet.filter`); case-sensitive")
    limit: int = Field(default=10, ge=1, le=100, description="definitions to return")
    source: bool = Field(default=True, description="include each definition's source lines")


class Definition(Span):
    signature: str | None
    docstring: str | None
    source: str | None = Field(description="the definition's lines as indexed; null when not requested")


class SymbolResponse(BaseModel):
    name: str
    generation: str
    definitions: list[Definition]


class EdgesRequest(_Request):
    name: str = Field(min_length=1, max_length=512,
                      description="a symbol name (`get_user_by_id`) or a qualified name (`QuerySet.filter`)")
    limit: int = Field(default=50, ge=1, le=500, description="edges to return")


class Edge(BaseModel):
    """One edge of the code graph: where it sits (``path``:``line``) and the symbol at its other end."""

    path: str
    line: int | None = Field(description="the line of the site; null for a test file's import link")
    via: str = Field(description="call, or for tests: test-name, test-import, test-call")
    name: str = Field(description="the name the edge carries, as written at the site (e.g. `USERS.filter`)")
    symbol: Span | None = Field(description="callers and tests: the enclosing symbol; callees: the resolved definition,"
                                            " null for a name the index does not define (a builtin or a library)")


class EdgesResponse(BaseModel):
    name: str
    relation: Literal["callers", "callees", "tests"]
    generation: str
    edges: list[Edge]
    more: bool = Field(description="the index holds more edges than `limit` returned")


class OutlineRequest(_Request):
    path: str = Field(min_length=1, max_length=4096, description="repository-relative file path, e.g. `src/app/models.py`")


class OutlineSymbol(Span):
    signature: str | None
    parent: str | None


class OutlineResponse(BaseModel):
    path: str
    lang: str
    lines: int
    generation: str
    symbols: list[OutlineSymbol]


class ReadSpanRequest(_Request):
    path: str = Field(min_length=1, max_length=4096, description="repository-relative file path")
    start_line: int = Field(default=1, ge=1, description="first line, 1-based")
    end_line: int | None = Field(default=None, ge=1, description="last line, inclusive; default: start_line + 199")


class SpanText(BaseModel):
    path: str
    start_line: int
    end_line: int
    total_lines: int
    generation: str
    text: str


class FileChanges(BaseModel):
    added: list[str]
    modified: list[str]
    removed: list[str]


class IndexStatus(BaseModel):
    root: str
    index: str
    generation: str
    built_at: str | None
    age_seconds: int | None
    watching: bool = Field(description="whether the server refreshes the index when files change")
    changed: FileChanges = Field(description="files that differ from the index (size or mtime) and the next refresh will read")


class StatusRequest(_Request):
    pass


class RefreshRequest(_Request):
    full: bool = Field(default=False, description="reparse every file instead of only the changed ones (slow)")
