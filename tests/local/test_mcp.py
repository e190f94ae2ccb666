"""``pampax mcp`` driven by the MCP SDK's own client over stdio, on the shop fixture repository."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from jsonschema.validators import validator_for

from pampax.build import build_index
from pampax.graph import callees, symbol
from pampax.index import open_index
from pampax.models import (EdgesRequest, EdgesResponse, SearchRequest, SearchResponse, SymbolRequest,
                           SymbolResponse)
from pampax.search import search
from pampax_local.mcp_server import TOOLS as SPECS
from pampax_local.mcp_server import flat_schema

TOOLS = {"search", "assemble", "symbol", "callers", "callees", "tests_for", "outline", "read_span", "index_status",
         "refresh"}


@asynccontextmanager
async def served(root: Path, *flags: str):
    """Yield a client session to a ``pampax mcp ROOT`` child process."""
    params = StdioServerParameters(command=sys.executable, cwd=str(root),
                                   args=["-c", "from pampax_local.cli import main; main()", "mcp", str(root), *flags])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments) -> dict:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    assert json.loads(result.content[0].text) == result.structured_content  # text mirrors the structured body
    return result.structured_content


async def error_of(session: ClientSession, tool: str, **arguments) -> dict:
    result = await session.call_tool(tool, arguments)
    assert result.is_error
    return json.loads(result.content[0].text)["error"]


@pytest.fixture
def indexed_shop(shop_repo: Path) -> Path:
    build_index(shop_repo)
    return shop_repo


def test_tools_are_listed_with_the_core_models_schemas(indexed_shop):
    async def scenario():
        async with served(indexed_shop, "--no-watch") as session:
            return {tool.name: tool for tool in (await session.list_tools()).tools}

    tools = anyio.run(scenario)
    # THEN every tool is there, read-only but for refresh, each described for an agent
    assert set(tools) == TOOLS
    assert [name for name, tool in tools.items() if not tool.annotations.read_only_hint] == ["refresh"]
    assert all(len(tool.description) > 80 for tool in tools.values())
    # AND search's input schema is SearchRequest's own (a field added to the model appears here), stating the
    # defaults the server applies: the configured limit, no per-hit score breakdown unless asked
    schema = SearchRequest.model_json_schema()
    schema["properties"]["explain"]["default"] = False
    assert tools["search"].input_schema == schema
    assert {tools[name].input_schema["properties"]["limit"]["default"] for name in ("callers", "callees", "tests_for")} == {20}
    knobs = {"intent", "policy", "docs", "excludes"}
    assert knobs <= set(tools["search"].input_schema["properties"])
    assert knobs | {"paths", "langs", "kinds"} <= set(tools["assemble"].input_schema["properties"])
    assert tools["search"].input_schema["required"] == ["query"]
    assert tools["search"].output_schema == flat_schema(SearchResponse)


def test_flat_output_schemas_accept_what_the_models_accept(shop_index_path):
    # GIVEN real responses of the core, and each tool's flattened output schema
    with open_index(shop_index_path) as index:
        responses = {SearchResponse: search(index, SearchRequest(query="get_user_by_id", group="file")),
                     SymbolResponse: symbol(index, SymbolRequest(name="QuerySet.filter")),
                     EdgesResponse: callees(index, EdgesRequest(name="place_order"))}
    for spec in SPECS:
        schema = flat_schema(spec.response)
        text = json.dumps(schema)
        # THEN no reference, simple null union or generated title is left for a client to resolve
        assert '"$ref"' not in text and '"$defs"' not in text and '"title"' not in text
        assert '{"type": "string"}, {"type": "null"}' not in text and '{"type": "integer"}, {"type": "null"}' not in text
        validator_for(schema).check_schema(schema)
    for model, response in responses.items():
        validator = validator_for(schema := flat_schema(model))(schema)
        body = response.model_dump(mode="json")
        assert list(validator.iter_errors(body)) == []
        # AND what the model refuses, the schema refuses: a wrong type, a null where none is allowed, a missing field
        first = {SearchResponse: "results", SymbolResponse: "definitions", EdgesResponse: "edges"}[model]
        for broken in ({**body, "generation": 7}, {**body, first: [{**body[first][0], "path": None}]},
                       {k: v for k, v in body.items() if k != "generation"}):
            assert list(validator.iter_errors(broken)), broken
    # AND an optional object (a callee's definition) takes the object or null, nothing else, and only whole
    edges = responses[EdgesResponse].model_dump(mode="json")
    validator = validator_for(schema := flat_schema(EdgesResponse))(schema)
    resolved = next(e for e in edges["edges"] if e["symbol"])
    assert any(e["symbol"] is None for e in edges["edges"]) and not list(validator.iter_errors(edges))
    partial = {k: v for k, v in resolved["symbol"].items() if k != "kind"}
    for symbol_value in ("place_order", partial, {**resolved["symbol"], "start_line": "8"}):
        assert list(validator.iter_errors({**edges, "edges": [{**resolved, "symbol": symbol_value}]})), symbol_value


def test_each_tool_answers_from_the_index(indexed_shop):
    async def scenario():
        async with served(indexed_shop, "--no-watch") as session:
            return {
                "search": await call(session, "search", query="get_user_by_id", limit=3),
                "explained": await call(session, "search", query="get_user_by_id", limit=3, explain=True),
                "filtered": await call(session, "search", query="user", langs=["typescript"]),
                "assemble": await call(session, "assemble", query="place an order for a user", budget=600),
                "symbol": await call(session, "symbol", name="QuerySet.filter"),
                "callers": await call(session, "callers", name="get_user_by_id"),
                "callees": await call(session, "callees", name="place_order"),
                "tests_for": await call(session, "tests_for", name="get_user_by_id"),
                "outline": await call(session, "outline", path="shop/query.py"),
                "read_span": await call(session, "read_span", path="shop/orders.py", start_line=8, end_line=9),
                "index_status": await call(session, "index_status"),
                "refresh": await call(session, "refresh"),
            }

    answers = anyio.run(scenario)
    generation = answers["search"]["generation"]
    # THEN every answer names the generation it came from
    assert {a["generation"] for a in answers.values()} == {generation}
    top = answers["search"]["results"][0]
    assert (top["path"], top["symbol"]) == ("shop/users.py", "get_user_by_id")
    # AND a hit's score breakdown comes only when asked for, with the same ranking
    assert {hit["explain"] for hit in answers["search"]["results"]} == {None}
    explained = answers["explained"]["results"]
    assert [h["path"] for h in explained] == [h["path"] for h in answers["search"]["results"]]
    assert all("get_user_by_id" in h["explain"]["matched_terms"] for h in explained[:1])
    assert {r["lang"] for r in answers["filtered"]["results"]} == {"typescript"}
    bundle = answers["assemble"]
    assert bundle["items"] and bundle["tokens"]["used"] <= bundle["tokens"]["budget"] == 600
    (definition,) = answers["symbol"]["definitions"]
    assert (definition["path"], definition["start_line"], definition["end_line"]) == ("shop/query.py", 10, 12)
    assert definition["signature"] == "def filter(self, **conditions)"
    assert definition["source"].startswith("    def filter(self, **conditions):") and "_matches" in definition["source"]
    callers = {(e["path"], e["line"], e["symbol"]["symbol"]) for e in answers["callers"]["edges"]}
    assert ("shop/orders.py", 10, "place_order") in callers
    callees = {e["name"]: e["symbol"] for e in answers["callees"]["edges"]}
    assert callees["get_user_by_id"]["path"] == "shop/users.py" and callees["ValueError"] is None
    tests = {(e["via"], e["symbol"]["symbol"]) for e in answers["tests_for"]["edges"] if e["symbol"]}
    assert ("test-call", "test_get_user_by_id_raises_for_unknown_id") in tests
    assert [s["symbol"] for s in answers["outline"]["symbols"]][:3] == ["QuerySet", "QuerySet.__init__",
                                                                        "QuerySet.filter"]
    assert answers["read_span"]["text"] == ('def place_order(user_id, amount):\n'
                                            '    """Place an order for a user after checking the amount."""')
    status = answers["index_status"]
    assert status["watching"] is False and status["changed"] == {"added": [], "modified": [], "removed": []}
    assert (answers["refresh"]["parsed_files"], answers["refresh"]["reused_files"]) == (0, 10)


def test_failures_are_tool_errors_with_the_error_tables_kind(indexed_shop, tmp_path):
    (tmp_path / "secret.txt").write_text("outside\n")
    (indexed_shop / "escape.txt").symlink_to(tmp_path / "secret.txt")

    async def scenario():
        async with served(indexed_shop, "--no-watch") as session:
            return [
                await error_of(session, "read_span", path="../secret.txt"),
                await error_of(session, "read_span", path=str(tmp_path / "secret.txt")),
                await error_of(session, "read_span", path="escape.txt"),
                await error_of(session, "read_span", path="shop/orders.py", start_line=9, end_line=2),
                await error_of(session, "read_span", path="shop/missing.py"),
                await error_of(session, "search", query="   "),
                await error_of(session, "search", query="x", limit=0),
                await error_of(session, "search", qurey="x"),
                await error_of(session, "assemble", query="x"),
                await error_of(session, "outline", path="nope.py"),
            ]

    errors = anyio.run(scenario)
    kinds = [e["kind"] for e in errors]
    assert kinds == ["invalid_argument"] * 4 + ["path_not_found", "invalid_argument"] + ["invalid_request"] * 3 + [
        "path_not_found"]
    assert all(e["code"] in (2, 3) for e in errors)
    assert "outside the repository root" in errors[0]["message"]
    assert errors[7]["message"] == "query: required field is missing"
    assert errors[8]["message"] == "budget: required field is missing"


def test_missing_index_is_an_index_missing_error(shop_repo):
    async def scenario():
        async with served(shop_repo, "--no-watch") as session:
            return await error_of(session, "symbol", name="place_order")

    assert anyio.run(scenario)["kind"] == "index_missing"


def test_a_file_edited_on_disk_shows_up_in_the_next_search(indexed_shop):
    async def scenario():
        async with served(indexed_shop) as session:
            before = await call(session, "search", query="refund_everything")
            (indexed_shop / "shop" / "orders.py").write_text("def refund_everything(order):\n    return order\n")
            with anyio.fail_after(30):  # the watcher refreshes within a debounce; polling keeps the test deterministic
                while not (after := await call(session, "search", query="refund_everything"))["results"]:
                    await anyio.sleep(0.05)
            status = await call(session, "index_status")
            return before, after, status

    before, after, status = anyio.run(scenario)
    assert before["results"] == [] or all(r["symbol"] != "refund_everything" for r in before["results"])
    assert after["results"][0]["symbol"] == "refund_everything"
    assert after["generation"] != before["generation"]
    assert status["watching"] is True and status["generation"] == after["generation"]


def test_streamable_http_serves_the_same_tools_on_loopback(indexed_shop):
    # GIVEN `pampax mcp --http PORT` on a free loopback port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", "from pampax_local.cli import main; main()", "mcp",
                               str(indexed_shop), "--http", str(port), "--no-watch"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:  # the SDK takes a while to import; the port opens when it serves
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()
            time.sleep(0.1)

        async def scenario():
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write), \
                    ClientSession(read, write) as session:
                await session.initialize()
                tools = {tool.name for tool in (await session.list_tools()).tools}
                return tools, await call(session, "search", query="get_user_by_id", limit=1)

        tools, found = anyio.run(scenario)
    finally:
        server.terminate()
        server.wait(timeout=30)
    # WHEN a client lists and calls tools over HTTP THEN it sees the stdio server's tools and answers
    assert tools == TOOLS
    assert found["results"][0]["path"] == "shop/users.py"


def test_flat_schema_keeps_a_null_union_whose_branch_constrains_every_type():
    from typing import Literal

    from pydantic import BaseModel

    class Answer(BaseModel):
        mode: Literal["full", "capsule"] | None
        count: int | None

    validator = validator_for(schema := flat_schema(Answer))(schema)
    # an enum applies to null too, so that union stays a union; a plain type merges
    assert schema["properties"]["count"] == {"type": ["integer", "null"]}
    for good in ({"mode": None, "count": None}, {"mode": "full", "count": 3}):
        assert not list(validator.iter_errors(good)), good
    for bad in ({"mode": "partial", "count": 3}, {"mode": "full", "count": "3"}, {"mode": "full"}):
        assert list(validator.iter_errors(bad)), bad
