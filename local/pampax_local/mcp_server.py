"""``pampax mcp``: the core as MCP tools, over stdio (or streamable HTTP on 127.0.0.1).

As thin as a Lambda handler: each tool validates its arguments into a core request model, calls
the core through the same ``Service`` the CLI holds (or the graph/source functions beside it) and
returns the response model as structured content. Input and output schemas are the models' own
JSON schemas, so a field added to ``SearchRequest`` appears in the tool without touching this file.
A failure is an MCP tool error whose content is the error table's body, ``{"error": {"code",
"kind", "message"}}``.

Imported only by the ``mcp`` command: the SDK costs about a second to import.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict

from pampax import __version__, graph, source
from pampax.errors import PampaxError
from pampax.index import Index
from pampax.live import LiveIndex
from pampax.models import (
    AssembleRequest,
    AssembleResponse,
    EdgesRequest,
    EdgesResponse,
    IndexReport,
    IndexStatus,
    OutlineRequest,
    OutlineResponse,
    ReadSpanRequest,
    RefreshRequest,
    SearchRequest,
    SearchResponse,
    SpanText,
    StatusRequest,
    SymbolRequest,
    SymbolResponse,
    validate,
)
from pampax.service import Service
from pampax_local.mcp_stdio import stdio_streams
from pampax_local.watch import keep_fresh

INSTRUCTIONS = """pampax indexes this repository (symbols, call graph, tests, full-text) and answers from a warm index
that refreshes itself as files change; every answer names the index generation it came from.
Start with `search` (an identifier, an error message or a whole bug report), then `symbol`, `callers`,
`callees` and `tests_for` to walk the code graph, `outline` for a file's structure and `read_span` for exact
lines. `assemble` packs the relevant code into one token-budgeted bundle."""
EDGE_LIMIT = 20  # callers, callees, tests_for: a screenful of sites


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    request: type[BaseModel]
    response: type[BaseModel]
    description: str
    read_only: bool = True


TOOLS = (
    ToolSpec("search", SearchRequest, SearchResponse,
             "Ranked code search. `query` may be an identifier (`get_user_by_id`, `QuerySet.filter`), an error "
             "message, a question or a whole pasted bug report with its traceback. Returns spans (path, lines, "
             "symbol, snippet) best first; `explain: true` adds each hit's score breakdown. Narrow with `paths` (globs such as "
             "`django/db/*`), `excludes`, `langs` or `kinds`. For a bug report set `group: \"file\"`: each file "
             "once, best first, with its best spans. `intent` (default auto) and `policy` (`code+tests` to rank "
             "tests as code, `docs: false` to leave docs out) steer the ranking. Follow up with `read_span` or "
             "`symbol` on a hit."),
    ToolSpec("assemble", AssembleRequest, AssembleResponse,
             "Build a context bundle for a task within a token `budget`: search hits plus their callers, callees "
             "and tests, full text first, then capsules (signature, docstring, matching lines). Use it when you "
             "want the code to read for a bug or feature in one call; `evidence` says why each item is there. "
             "Takes search's filters and knobs (`paths`, `excludes`, `langs`, `kinds`, `intent`, `policy`, `docs`)."),
    ToolSpec("symbol", SymbolRequest, SymbolResponse,
             "Definitions of a symbol: `name` is a bare name (`filter`) or a qualified one (`QuerySet.filter`). "
             "Returns each definition's path, line span, kind, signature, docstring and source lines."),
    ToolSpec("callers", EdgesRequest, EdgesResponse,
             "Call sites of a function or method: each edge gives the file and line of the call, the text called "
             "there (e.g. `USERS.filter`) and the enclosing symbol's span. Calls are matched by the last name part, "
             "so check `name` at each site when the method name is common. At most `limit` edges (default "
             f"{EDGE_LIMIT}); `more: true` says the index holds more."),
    ToolSpec("callees", EdgesRequest, EdgesResponse,
             "What a function or method calls: each edge gives the call's line and the definition it most likely "
             "reaches (same file first), or `symbol: null` for builtins and libraries. At most `limit` (default "
             f"{EDGE_LIMIT}); `more: true` says there are more."),
    ToolSpec("tests_for", EdgesRequest, EdgesResponse,
             "Tests of a symbol: test functions named after it (`test-name`), test files importing it "
             "(`test-import`) and calls to it from test files (`test-call`). Use before changing the symbol. At most "
             f"`limit` (default {EDGE_LIMIT}); `more: true` says there are more."),
    ToolSpec("outline", OutlineRequest, OutlineResponse,
             "A file's symbols in source order (classes, methods, functions, constants) with spans and signatures. "
             "`path` is repository-relative, as search results give it."),
    ToolSpec("read_span", ReadSpanRequest, SpanText,
             "Exact lines of a file as it is on disk now: `path` (repository-relative, inside the repository only) "
             "and `start_line`/`end_line` (1-based, inclusive; at most 2000 lines)."),
    ToolSpec("index_status", StatusRequest, IndexStatus,
             "The index's generation, when it was built, whether the server is watching for changes, and the files "
             "that differ from the index right now (the next refresh reads them)."),
    ToolSpec("refresh", RefreshRequest, IndexReport,
             "Bring the index up to date with the files on disk now and return the build report. The server "
             "already refreshes on file changes; call this after a bulk change (a checkout) to wait for it.",
             read_only=False),
)


class _Arguments(ArgModelBase):
    """Hands a call's arguments over untouched: the core request model validates them, so a bad field fails with
    the error table's kind and message instead of the SDK's pydantic report."""

    model_config = ConfigDict(extra="allow")

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"arguments": dict(self.model_extra or {})}


Handler = Callable[[BaseModel], Awaitable[BaseModel]]


def build_server(service: Service, live: LiveIndex) -> MCPServer:
    """Return the MCP server whose tools answer from ``live`` through ``service``."""
    config = service.config
    defaults: dict[str, dict[str, Any]] = {
        # An agent reads every byte it is sent: the per-hit score breakdown is there when asked for.
        "search": {"limit": config.search.limit, "explain": False},
        "assemble": {"seeds": config.assemble.seeds, "max_items": config.assemble.max_items},
        **{tool: {"limit": EDGE_LIMIT} for tool in ("callers", "callees", "tests_for")},
    }

    def on_index(op: str, answer: Callable[[Index, Any], BaseModel]) -> Handler:
        async def handle(request):
            with service.telemetry.operation(op), service.index() as index:
                return answer(index, request)
        return handle

    async def search(request):
        return service.search(request)

    async def assemble(request):
        return service.assemble(request)

    async def index_status(request):
        with service.telemetry.operation("index_status"):
            return await anyio.to_thread.run_sync(live.status)

    async def refresh(request):
        with service.telemetry.operation("index"):
            return await anyio.to_thread.run_sync(lambda: live.refresh(full=request.full))

    handlers: dict[str, Handler] = {
        "search": search,
        "assemble": assemble,
        "symbol": on_index("symbol", graph.symbol),
        "callers": on_index("callers", graph.callers),
        "callees": on_index("callees", graph.callees),
        "tests_for": on_index("tests_for", graph.tests_for),
        "outline": on_index("outline", graph.outline),
        "read_span": on_index("read_span", lambda index, r: source.read_span(live.root, r, index.generation)),
        "index_status": index_status,
        "refresh": refresh,
    }
    tools = [_tool(spec, handlers[spec.name], defaults.get(spec.name, {})) for spec in TOOLS]
    return MCPServer("pampax", version=__version__, instructions=INSTRUCTIONS, tools=tools, log_level="WARNING")


def _tool(spec: ToolSpec, handle: Handler, defaults: dict[str, Any]) -> Tool:
    async def call(arguments: dict[str, Any]) -> CallToolResult:
        try:
            response = await handle(validate(spec.request, {**defaults, **arguments}))
        except PampaxError as error:
            return _error(error)
        except Exception as exc:  # the last line of defence: an error body, never a traceback
            return _error(PampaxError(f"{spec.name} failed: {type(exc).__name__}: {exc}"))
        body = response.model_dump(mode="json")
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(body, ensure_ascii=False))],
                              structured_content=body)

    parameters = spec.request.model_json_schema()
    for field, value in defaults.items():  # the schema states the defaults this server applies
        parameters["properties"][field]["default"] = value
    return Tool(
        fn=call, name=spec.name, description=spec.description, parameters=parameters,
        fn_metadata=FuncMetadata(arg_model=_Arguments, output_schema=flat_schema(spec.response)),
        is_async=True, annotations=ToolAnnotations(read_only_hint=spec.read_only, open_world_hint=False),
    )


# JSON Schema keywords that constrain an instance of any type: a branch holding one cannot take null in.
_ANY_TYPE_KEYWORDS = frozenset({"enum", "const", "allOf", "anyOf", "oneOf", "not", "if", "then", "else"})


def flat_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Return the model's JSON schema in the form clients check fastest, accepting exactly the same documents.

    Clients validate every result against the output schema (the SDK's client: most of a warm round
    trip), so ``$ref``s into ``$defs`` are inlined (the models are not recursive), ``anyOf: [S, null]``
    becomes ``S`` with ``type: [T, "null"]`` and pydantic's generated titles go; descriptions stay for
    agents to read (a field's own description wins over its type's).
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def flat(node):
        if isinstance(node, list):
            return [flat(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        node = {key: flat(value) for key, value in node.items() if key != "title"}
        options = node.get("anyOf", ())
        other = [o for o in options if o != {"type": "null"}]
        if (len(options) == 2 and len(other) == 1 and isinstance(other[0].get("type"), str)
                and not _ANY_TYPE_KEYWORDS & other[0].keys()):
            # Keywords of one type (an object's properties and required, a string's pattern) let null
            # pass: one schema instead of two branches, which jsonschema validates by descending into each.
            rest = {key: value for key, value in node.items() if key != "anyOf"}
            node = {**other[0], **rest, "type": [other[0]["type"], "null"]}
        return node

    return flat(schema)


def _error(error: PampaxError) -> CallToolResult:
    body = error.to_dict()
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(body, ensure_ascii=False))],
                          structured_content=body, is_error=True)


def serve(service: Service, live: LiveIndex, *, http: int | None = None, watch: bool = True) -> None:
    """Run the server until the client hangs up (stdio) or the process is stopped (HTTP)."""
    server = build_server(service, live)

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            if watch:
                tasks.start_soon(keep_fresh, live, service.telemetry)
            if http is None:
                # run_stdio_async() with our transport: MCPServer has no public way to serve given streams.
                async with stdio_streams() as (read, write):
                    await server._lowlevel_server.run(read, write, server._lowlevel_server.create_initialization_options())
            else:
                await server.run_streamable_http_async(host="127.0.0.1", port=http)
            tasks.cancel_scope.cancel()

    try:
        anyio.run(main)
    finally:
        live.close()
