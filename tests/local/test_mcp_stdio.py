"""The thread-free stdio transport of ``pampax mcp``, driven by the SDK's own client."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

# A server whose tool writes to stdout three ways a handler or a library might, and returns a big answer.
SERVER = textwrap.dedent("""
    import os, subprocess, sys
    import anyio
    from mcp.server.mcpserver import MCPServer
    from pampax_local.mcp_stdio import stdio_streams

    server = MCPServer("stray")

    @server.tool()
    def noisy(size: int) -> dict:
        print("stray print")
        sys.stdout.flush()
        os.write(1, b"stray write\\n")
        subprocess.run([sys.executable, "-c", "print('stray child')"], check=True)
        return {"text": "x" * size, "stdin": sys.stdin.read()}

    async def main():
        async with stdio_streams() as (read, write):
            await server._lowlevel_server.run(read, write, server._lowlevel_server.create_initialization_options())

    anyio.run(main)
""")


def test_stray_output_misses_the_wire_and_large_answers_arrive_whole(tmp_path: Path):
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    errors = tmp_path / "stderr.txt"

    async def scenario():
        params = StdioServerParameters(command=sys.executable, args=[str(script)])
        with errors.open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                # 1 MiB: many times a pipe's buffer, so the answer is written across several drains
                return [await session.call_tool("noisy", {"size": size}) for size in (10, 1 << 20)]

    small, large = (json.loads(result.content[0].text) for result in anyio.run(scenario))
    # THEN each answer arrives whole although the tool wrote to fd 1 meanwhile, and stdin reads the null device
    assert small == {"text": "x" * 10, "stdin": ""}
    assert large["text"] == "x" * (1 << 20)
    # AND what it wrote went to stderr instead
    assert errors.read_text().count("stray print") == 2
    assert errors.read_text().count("stray write") == 2
    assert errors.read_text().count("stray child") == 2
