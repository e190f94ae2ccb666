"""Turn one file's bytes into rows: language, symbols, edges, test imports and FTS-ready chunks.

Runs in parser worker processes, so it takes plain values and returns a picklable record; nothing
here touches the database.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from . import parse
from .chunk import chunk_file
from .languages import is_parsed, language_for
from .parse import Edge, Symbol
from .terms import expand_parts, split_identifier

# Bytes sniffed for NUL to call a file binary, as git does.
SNIFF_BYTES = 8192
# A minified file has a very long line *and* long lines on average; one long literal is not enough.
_MINIFIED_MEAN_LINE = 200

_TEST_FILE = re.compile(
    r"(^|/)(tests?|__tests__|spec)/|(^|/)test_[^/]*\.py$|_test\.(py|go)$|\.(test|spec)\.[cm]?[jt]sx?$|Tests?\.java$"
)


@dataclass(frozen=True, slots=True)
class ChunkRow:
    start_line: int
    end_line: int
    symbol_index: int | None  # index into FileRecord.symbols
    kind: str
    names: str  # space-separated qualnames
    text: str
    parts: str  # FTS ``parts`` column: identifier parts and joined forms


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str
    lang: str
    sha256: str
    size: int
    mtime_ns: int
    lines: int
    is_test: bool
    symbols: tuple[Symbol, ...]
    edges: tuple[Edge, ...]
    test_imports: tuple[str, ...]
    chunks: tuple[ChunkRow, ...]


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str  # binary | too_large | minified | unreadable


def is_test_path(path: str) -> bool:
    """Return whether ``path`` is a test file by the usual conventions of the supported languages."""
    return bool(_TEST_FILE.search(path))


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_binary(head: bytes) -> bool:
    """Return whether a file's first bytes (``SNIFF_BYTES`` suffice) hold a NUL outside a UTF-16 BOM text, as git judges."""
    return b"\0" in head[:SNIFF_BYTES] and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def analyze_file(path: str, data: bytes, mtime_ns: int, minified_line_chars: int) -> FileRecord | Skipped:
    """Return the rows of one file, or why it was skipped."""
    if is_binary(data):
        return Skipped(path, "binary")
    text = decode(data)
    lines = text.splitlines()
    if lines and max(map(len, lines)) >= minified_line_chars and len(text) / len(lines) >= _MINIFIED_MEAN_LINE:
        return Skipped(path, "minified")
    lang = language_for(path) or "text"
    # The parser reads UTF-8: re-encode what was decoded from UTF-16 or Latin-1 (line numbers are unchanged).
    parsed = parse.parse(text.encode("utf-8"), lang) if is_parsed(lang) else parse.ParsedFile((), ())
    is_test = is_test_path(path)
    chunks = tuple(_chunk_rows(lines, parsed.symbols, lang))
    return FileRecord(
        path=path, lang=lang, sha256=sha256_of(data), size=len(data), mtime_ns=mtime_ns, lines=len(lines),
        is_test=is_test, symbols=parsed.symbols, edges=parsed.edges,
        test_imports=_test_imports(parsed) if is_test else (), chunks=chunks,
    )


def decode(data: bytes) -> str:
    """Return ``data`` as text: UTF-8 (BOM optional), UTF-16 with a BOM, else Latin-1, which never fails."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def path_terms(path: str) -> str:
    """Return the FTS ``path`` column text: path components and their identifier parts."""
    pieces = re.split(r"[/.\-]", path)
    return " ".join(pieces + [p for piece in pieces for p in split_identifier(piece)])


def _chunk_rows(lines: list[str], symbols: tuple[Symbol, ...], lang: str):
    index_of = {id(s): i for i, s in enumerate(symbols)}
    default_kind = "module" if is_parsed(lang) else "text"
    for chunk in chunk_file(len(lines), symbols):
        text = "\n".join(lines[chunk.start_line - 1:chunk.end_line])
        if not text.strip():
            continue
        symbol = chunk.symbol
        yield ChunkRow(
            start_line=chunk.start_line, end_line=chunk.end_line,
            symbol_index=index_of[id(symbol)] if symbol else None,
            kind=symbol.kind if symbol else default_kind,
            names=" ".join(chunk.names), text=text, parts=fts_parts(" ".join(chunk.names), text),
        )


def fts_parts(names: str, text: str) -> str:
    """Return a chunk's FTS ``parts`` column (deleting its FTS row later needs the very same value)."""
    return expand_parts(names + "\n" + text)


def _test_imports(parsed: parse.ParsedFile) -> tuple[str, ...]:
    """Return the names a test file imports, lowercase to match ``symbols.lname`` (its tests' own names
    say what else it tests: ``testnames``)."""
    return tuple(sorted({e.name.lower() for e in parsed.edges if e.kind == "import"}))
