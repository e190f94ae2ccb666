"""MCP over stdio without worker threads, for ``pampax mcp``.

The SDK's ``stdio_server`` wraps stdin and stdout with ``anyio.wrap_file``, so every line read and
every write and flush is a hop to a worker thread: about 0.7 ms of each warm round trip here, a
quarter of the SDK's own floor. When both ends are pipes or sockets (what an MCP client spawns us
with) this module reads and writes them on the event loop instead, through asyncio's pipe
transports; for anything else (a file, a TTY) it falls back to the SDK's transport. We wrote it
ourselves because the SDK takes custom streams but ships none that avoid threads.

Like the SDK's transport it claims the standard descriptors while serving: fd 0 reads the null
device and fd 1 writes to stderr, so a stray ``print`` or a child process cannot corrupt the wire.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.stdio import stdio_server

# A message is one line; a bug report pasted into a query is far below this, a runaway client is not.
_MAX_LINE = 64 * 1024 * 1024


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Lines:
    """The ``async for line in stdin`` half of ``anyio.AsyncFile[str]`` that ``stdio_server`` reads."""

    def __init__(self, reader: asyncio.StreamReader):
        self._reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _Writer:
    """The ``write``/``flush`` half of ``anyio.AsyncFile[str]`` that ``stdio_server`` writes; flush waits for
    the pipe to drain, so a slow client applies back-pressure instead of growing our buffer."""

    def __init__(self, writer: asyncio.StreamWriter):
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


@asynccontextmanager
async def _claimed(fd: int, diversion: int) -> AsyncIterator[int]:
    """Yield a private duplicate of ``fd`` while ``fd`` itself points at ``diversion``; restore it after."""
    private = os.dup(fd)
    os.dup2(diversion, fd)
    os.close(diversion)
    try:
        yield private
    finally:
        os.dup2(private, fd)
        os.close(private)


@asynccontextmanager
async def stdio_streams():
    """Yield the (read, write) message streams of an MCP session on this process's stdin and stdout."""
    if not (_is_pipe(0) and _is_pipe(1)):
        async with stdio_server() as streams:
            yield streams
        return
    loop = asyncio.get_running_loop()
    async with _claimed(0, os.open(os.devnull, os.O_RDONLY)) as wire_in, _claimed(1, os.dup(2)) as wire_out:
        reader = asyncio.StreamReader(limit=_MAX_LINE)
        # Each transport owns (and closes) a duplicate of its own, so the claims can restore fd 0 and fd 1.
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(os.dup(wire_in), "rb", buffering=0))
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(os.dup(wire_out), "wb", buffering=0))
        writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
        try:
            async with stdio_server(_Lines(reader), _Writer(writer)) as streams:
                yield streams
        finally:
            read_transport.close()
            write_transport.close()
