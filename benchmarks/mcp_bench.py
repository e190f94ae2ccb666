"""``pampax mcp`` through the MCP SDK's own client: warm round trips, a 1-file refresh, RSS over many calls.

Round trips are timed in the client from ``call_tool`` to its parsed result, so they include the
stdio transport, JSON encoding on both sides and the SDK's output-schema validation. Queries come
from the corpus's query set (identifiers and bug reports), interleaved; ``symbol`` and ``callers``
use the identifier queries' last name part. A refresh is timed end to end: append a comment line to
``Corpus.edit_file``, call ``refresh``, then restore the file and refresh again (two samples).
RSS is the server process's ``VmRSS`` after ``--calls`` and after ``10 × --calls`` mixed calls.
``sdk_floor`` is the baseline of the same run: a one-line tool on the SDK's own ``MCPServer`` and
stdio transport, called as often as ``symbol``: what any Python MCP server pays per round trip.

    python -m benchmarks.mcp_bench --corpus medium
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from benchmarks import corpora, stats
from pampax.build import build_index


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _server_pid(parent: int) -> int:
    """Return the pid of the ``pampax mcp`` child of this process."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"PPid:\t{parent}\n" in status and b"mcp" in (entry / "cmdline").read_bytes():
                return int(entry.name)
    raise RuntimeError("server process not found")


async def _timed_calls(session: ClientSession, calls) -> list[float]:
    seconds = []
    for tool, arguments in calls:
        started = time.perf_counter()
        result = await session.call_tool(tool, arguments)
        seconds.append(time.perf_counter() - started)
        if result.is_error:
            raise RuntimeError(f"{tool} {arguments}: {result.content[0].text}")
    return seconds


# The SDK's minimal server: its round trip is the floor under every tool's.
_FLOOR_SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("floor", log_level="WARNING")


@server.tool()
def echo(n: int) -> dict:
    return {"n": n}


server.run()
"""


async def _floor(calls: int, rounds: int) -> list[float]:
    params = StdioServerParameters(command=sys.executable, args=["-c", _FLOOR_SERVER])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        await _timed_calls(session, [("echo", {"n": n}) for n in range(calls)])
        return await _timed_calls(session, [("echo", {"n": n}) for n in range(calls * rounds)])


async def run(corpus: corpora.Corpus, rounds: int, calls: int) -> dict:
    root = corpora.fetch(corpus)
    build_index(root)
    queries = json.loads((corpora.QUERIES / corpus.queries).read_text())["queries"]
    identifiers = [q["query"] for q in queries if q["type"] == "identifier"]
    reports = [q["query"] for q in queries if q["type"] == "bug_report"]
    names = [q.rsplit(".", 1)[-1] for q in identifiers]
    params = StdioServerParameters(command=sys.executable, cwd=str(root),
                                   args=["-c", "from pampax_local.cli import main; main()", "mcp", str(root),
                                         "--no-watch"])
    out: dict = {"corpus": corpus.requirement}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        pid = _server_pid(os.getpid())
        groups = {
            "search_identifier": [("search", {"query": q}) for q in identifiers],
            "search_bug_report": [("search", {"query": q}) for q in reports],
            "symbol": [("symbol", {"name": n}) for n in names],
            "callers": [("callers", {"name": n}) for n in names],
        }
        for group in groups.values():  # one untimed pass: the page cache and SQLite's caches warm up
            await _timed_calls(session, group)
        samples = {name: [] for name in groups}
        for _ in range(rounds):
            for name, group in groups.items():
                samples[name] += await _timed_calls(session, group)
        out.update({name: stats.summarize(seconds) for name, seconds in samples.items()})
        out["sdk_floor"] = stats.summarize(await _floor(len(names), rounds))

        edited = root / corpus.edit_file
        original = edited.read_bytes()
        refresh = []
        for n in range(3):
            for content in (original + f"\n# pampax benchmark edit {n}\n".encode(), original):
                edited.write_bytes(content)
                refresh += await _timed_calls(session, [("refresh", {})])
        out["refresh_one_file"] = stats.summarize(refresh)

        mix = itertools.cycle([call for group in groups.values() for call in group])
        await _timed_calls(session, [next(mix) for _ in range(calls)])
        after_small = _rss_kib(pid)
        await _timed_calls(session, [next(mix) for _ in range(9 * calls)])
        after_large = _rss_kib(pid)
        out["rss"] = {"calls": [calls, 10 * calls], "kib": [after_small, after_large],
                      "growth_pct": round(100 * (after_large - after_small) / after_small, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="medium", choices=sorted(corpora.CORPORA))
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over each query group")
    parser.add_argument("--calls", type=int, default=1000, help="calls before the first RSS reading (x10 for the second)")
    args = parser.parse_args()
    print(json.dumps(anyio.run(run, corpora.CORPORA[args.corpus], args.rounds, args.calls), indent=2))


if __name__ == "__main__":
    main()
