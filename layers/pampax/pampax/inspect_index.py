"""What an index holds and how SQLite reads it: sizes, row counts, FTS5 segments, query plans, advice.

``inspect_index`` answers ``pampax analyze``. Bytes per table and index come from SQLite's
``dbstat`` virtual table; pysqlite3's build lacks it, so the stdlib ``sqlite3`` module reads the
same pages when it has it (``dbstat`` needs no FTS5), and the report says when neither does.

The query plans are those of the SQL search, file ranking, assemble and the code graph really run:
a fixed probe workload (a name the index defines, a bug report naming it, a bundle, the graph
tools) runs against the index through a recording ``Index``, and every distinct statement is then
``EXPLAIN QUERY PLAN``-ed with the parameters it ran with. No SQL is copied here, so a changed
query shows up in the next report.
"""

from __future__ import annotations

import json
import re
import sqlite3 as stdlib_sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from . import db, graph
from .assemble import assemble
from .config import SearchSettings
from .filters import check_filters
from .index import Index, open_index
from .models import AssembleRequest, EdgesRequest, OutlineRequest, SearchRequest, SymbolRequest
from .search import search

# VACUUM pays off once this share of the file is free pages (a refresh leaves ~1.5 %: runbooks/sqlite-tuning.md).
FREE_SHARE = 0.10
# FTS5 reads every segment for every term; its automerge keeps ~4 per level, so more than twice that
# means merges fell behind (many small refreshes) and 'optimize' is worth its one rewrite.
FTS_SEGMENTS = 8
# A scan of a table this large costs milliseconds on every request that runs it (Django: 30 k chunks).
LARGE_TABLE_ROWS = 10_000
# A -wal this large against its database means checkpoints are starved by long readers.
WAL_SHARE = 0.25
TOP = 10
_STRUCTURE_ROWID = 10  # FTS5's structure record in %_data (ext/fts5/fts5_index.c, FTS5_STRUCTURE_ROWID)
_IN_LIST = re.compile(r"\?(?:\s*,\s*\?)+")
# ``x IN ()`` is false before any row is read, though EXPLAIN still shows the loop as a SCAN.
_EMPTY_IN = re.compile(r"\bIN\s*\(\s*\)", re.I)
_TABLE_REF = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", re.I)
_NOT_ALIAS = {"on", "where", "join", "left", "inner", "cross", "group", "order", "limit", "using", "natural", "as"}


class TableSize(BaseModel):
    name: str
    type: str = Field(description="table or index")
    table: str = Field(description="the table an index belongs to (itself for a table)")
    rows: int | None = Field(description="rows of a table; null for an index")
    bytes: int | None = Field(description="bytes of its b-tree pages (dbstat); null without dbstat")
    pages: int | None


class Storage(BaseModel):
    engine: str
    page_size: int
    page_count: int
    freelist_count: int
    journal_mode: str
    file_bytes: int
    wal_bytes: int
    dbstat: str = Field(description="the engine that read dbstat, or why sizes are missing")


class FtsStats(BaseModel):
    segments: int
    levels: int
    rows: int
    terms: int


class LargeFile(BaseModel):
    path: str
    lang: str
    bytes: int
    lines: int
    chunks: int


class LargeChunk(BaseModel):
    path: str
    start_line: int
    end_line: int
    kind: str
    stored_bytes: int = Field(description="bytes of the stored chunk text column (compressed, when it is)")


class QueryPlanReport(BaseModel):
    source: str = Field(description="the function that ran the statement, e.g. pampax.search.find_candidates")
    sql: str = Field(description="the statement, whitespace collapsed, IN lists shown as `?, ...`")
    calls: int = Field(description="times the probe workload ran it")
    plan: list[str] = Field(description="EXPLAIN QUERY PLAN, indented by depth")
    full_scans: list[str] = Field(description="tables read whole (SCAN without an index search)")
    warning: str | None = Field(description="set when a full scan reads a table of LARGE_TABLE_ROWS rows or more")


class Advice(BaseModel):
    code: str
    message: str
    command: str | None


class IndexAnalysis(BaseModel):
    index: str
    generation: str
    schema_version: str | None
    pampax_version: str | None
    built_at: str | None
    storage: Storage
    tables: list[TableSize] = Field(description="every b-tree, largest first")
    fts: FtsStats
    languages: dict[str, int] = Field(description="files per language")
    skipped: dict[str, int] | None = Field(description="files the last build skipped, by reason; null for an index built before pampax recorded them")
    edges: dict[str, int] = Field(description="edges by kind")
    test_links: dict[str, int] = Field(description="stored test links by kind: the names test files import"
                                                   " (tests named after a name are found in symbols when asked)")
    largest_files: list[LargeFile]
    largest_chunks: list[LargeChunk]
    queries: list[QueryPlanReport]
    advice: list[Advice]


def inspect_index(path: str | Path, settings: SearchSettings = SearchSettings()) -> IndexAnalysis:
    """Return the analysis of the index at ``path``. Raises ``IndexMissing`` / ``IndexCorrupt`` as opening it does.

    Read-only: nothing is written to the index (the probe requests bypass every cache).
    """
    path = Path(path)
    open_index(path).close()  # the usual errors for a missing, foreign or corrupt file
    with _RecordingIndex(path) as index:
        rows = _row_counts(index)
        storage, sizes = _storage(index, path)
        tables = sorted(
            (TableSize(name=name, type=kind, table=table, rows=rows.get(name) if kind == "table" else None,
                       bytes=sizes[name][1] if name in sizes else None, pages=sizes[name][0] if name in sizes else None)
             for name, kind, table in _btrees(index)),
            key=lambda t: (-(t.bytes or 0), t.name))
        fts = _fts(index, rows)
        analysis = IndexAnalysis(
            index=str(path), generation=index.generation, schema_version=index.meta.get("schema_version"),
            pampax_version=index.meta.get("pampax_version"), built_at=index.meta.get("built_at"),
            storage=storage, tables=tables, fts=fts,
            languages=_grouped(index, "files", "lang"),
            skipped=json.loads(index.meta["skipped"]) if "skipped" in index.meta else None,
            edges={kind: index.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                   for kind, table in (("call", "calls"), ("import", "imports"))},
            test_links={"import": index.conn.execute("SELECT count(*) FROM test_imports").fetchone()[0]},
            largest_files=[LargeFile(path=p, lang=lang, bytes=size, lines=lines, chunks=n) for p, lang, size, lines, n in
                           index.conn.execute(
                               """SELECT f.path, f.lang, f.size, f.lines, (SELECT count(*) FROM chunks c WHERE c.file_id = f.id)
                                  FROM files f ORDER BY f.size DESC, f.path LIMIT ?""", (TOP,))],
            largest_chunks=[LargeChunk(path=p, start_line=s, end_line=e, kind=k, stored_bytes=n) for p, s, e, k, n in
                            index.conn.execute(
                                """SELECT f.path, c.start_line, c.end_line, c.kind, length(CAST(c.text AS BLOB)) AS n
                                   FROM chunks c JOIN files f ON f.id = c.file_id
                                   ORDER BY n DESC, f.path, c.start_line LIMIT ?""", (TOP,))],
            queries=_query_plans(index, rows, settings), advice=[],
        )
    analysis.advice = advise(analysis, has_statistics="sqlite_stat1" in rows)
    return analysis


@dataclass(slots=True)
class _Statement:
    source: str
    sql: str
    params: tuple
    calls: int = 1


class _RecordingIndex(Index):
    """An ``Index`` that remembers every distinct statement run through ``query``, and who ran it."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.statements: dict[tuple[str, str], _Statement] = {}

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        caller = sys._getframe(1)
        source = f"{caller.f_globals.get('__name__')}.{caller.f_code.co_qualname}"
        key = (source, _IN_LIST.sub("?, ...", " ".join(sql.split())))
        if key in self.statements:
            self.statements[key].calls += 1
        else:
            self.statements[key] = _Statement(source, sql, tuple(params))
        return super().query(sql, params)


def _btrees(index: Index) -> list[tuple[str, str, str]]:
    """Return (name, table|index, owning table) of every b-tree, the schema table included."""
    rows = index.conn.execute(
        "SELECT name, type, tbl_name FROM sqlite_master WHERE type IN ('table', 'index') AND rootpage > 0").fetchall()
    return [("sqlite_schema", "table", "sqlite_schema"), *rows]


def _row_counts(index: Index) -> dict[str, int]:
    """Return {table: rows} for every ordinary table (FTS5's shadow tables included; virtual tables hold no rows of their own)."""
    names = [n for (n,) in index.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND rootpage > 0 ORDER BY name")]
    return {n: index.conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _storage(index: Index, path: Path) -> tuple[Storage, dict[str, tuple[int, int]]]:
    """Return the file's page figures and {b-tree: (pages, bytes)} from dbstat ({} when no engine has it)."""
    pragma = lambda name: index.conn.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    sizes, source = _dbstat(index.conn, db.engine())
    if sizes is None:
        sizes, source = {}, "no dbstat in pampax's engine"
        try:
            conn = stdlib_sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except stdlib_sqlite3.Error as exc:
            source += f"; the sqlite3 module cannot open the file ({exc})"
        else:
            try:
                found, label = _dbstat(conn, f"sqlite3 {stdlib_sqlite3.sqlite_version}")
            finally:
                conn.close()
            sizes, source = (found, label) if found is not None else ({}, source + " nor in the sqlite3 module's: bytes per table unavailable")
    wal = db.sidecars(path)[0]
    storage = Storage(engine=db.engine(), page_size=pragma("page_size"), page_count=pragma("page_count"),
                      freelist_count=pragma("freelist_count"), journal_mode=pragma("journal_mode"),
                      file_bytes=path.stat().st_size, wal_bytes=wal.stat().st_size if wal.is_file() else 0,
                      dbstat=source)
    return storage, sizes


def _dbstat(conn, label: str) -> tuple[dict[str, tuple[int, int]] | None, str]:
    try:
        rows = conn.execute("SELECT name, pageno, pgsize FROM dbstat WHERE aggregate = TRUE").fetchall()
    except Exception as exc:  # pysqlite3 and sqlite3 raise their own OperationalError: "no such table: dbstat"
        if "dbstat" not in str(exc):
            raise
        return None, label
    return {name: (pages, size) for name, pages, size in rows}, label


def _fts(index: Index, rows: dict[str, int]) -> FtsStats:
    """Return the FTS5 segment and level counts from its structure record, plus its rows and distinct terms."""
    found = index.conn.execute("SELECT block FROM chunks_fts_data WHERE id = ?", (_STRUCTURE_ROWID,)).fetchone()
    levels = segments = 0
    if found:
        # A 4-byte cookie, then varints: levels, segments, write counter, ...
        record = bytes(found[0])
        levels, at = _varint(record, 4)
        segments, _ = _varint(record, at)
    terms = index.conn.execute("SELECT count(*) FROM chunks_vocab").fetchone()[0]
    return FtsStats(segments=segments, levels=levels, rows=rows.get("chunks_fts_docsize", 0), terms=terms)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """Return (value, next offset) of the SQLite varint at ``at``: 7 bits a byte, big-endian, a 9th byte of 8."""
    value = 0
    for n in range(9):
        byte = data[at + n]
        if n == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + n + 1
    raise AssertionError("unreachable")


def _grouped(index: Index, table: str, column: str) -> dict[str, int]:
    return {str(k): n for k, n in index.conn.execute(
        f"SELECT {column}, count(*) FROM {table} GROUP BY {column} ORDER BY {column}")}


def _query_plans(index: _RecordingIndex, rows: dict[str, int], settings: SearchSettings) -> list[QueryPlanReport]:
    _probe(index, settings)
    return [_explain(index, s, rows) for s in index.statements.values() if not _EMPTY_IN.search(s.sql)]


def _probe(index: _RecordingIndex, settings: SearchSettings) -> None:
    """Run the requests whose SQL the report explains: derived from the index, so the same index probes the same way."""
    names = graph.popular_names(index, 30) or [n for (n,) in index.conn.execute(
        "SELECT name FROM symbols ORDER BY id LIMIT 30")]
    if not names:
        return
    name = names[0]
    definitions = graph.symbol(index, SymbolRequest(name=name, limit=1)).definitions
    where = definitions[0] if definitions else None
    search(index, SearchRequest(query=name), settings)
    if where is not None:
        filtered = SearchRequest(query=name, langs=(where.lang,), paths=(where.path.rsplit("/", 1)[0] if "/" in where.path else where.path,))
        check_filters(index, filtered)
        search(index, filtered, settings)
    frame = f'  File "{where.path}", line {where.start_line}, in {name}\n' if where else ""
    report = (f"{name} fails with an unexpected value\n\nCalling `{name}()` breaks:\n\n"
              f"Traceback (most recent call last):\n{frame}ValueError: {name} got an unexpected value\n\n"
              f"It also touches {', '.join(names[1:])}.")
    search(index, SearchRequest(query=report, group="file"), settings)
    assemble(index, AssembleRequest(query=report, budget=8000), settings)
    for tool in (graph.callers, graph.callees, graph.tests_for):
        tool(index, EdgesRequest(name=name))
    if where is not None:
        graph.outline(index, OutlineRequest(path=where.path))


def _explain(index: Index, statement: _Statement, rows: dict[str, int]) -> QueryPlanReport:
    plan = index.conn.execute(f"EXPLAIN QUERY PLAN {statement.sql}", statement.params).fetchall()
    depth: dict[int, int] = {0: -1}
    lines, scans = [], []
    aliases = {table.lower(): table for table in rows}
    for table, alias in _TABLE_REF.findall(statement.sql):
        if alias and alias.lower() not in _NOT_ALIAS:
            aliases[alias.lower()] = table
    for node, parent, _, detail in plan:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
        words = detail.split()
        if words[0] == "SCAN" and len(words) > 1 and "VIRTUAL TABLE" not in detail:
            table = aliases.get(words[1].lower())
            if table is not None and table not in scans:
                scans.append(table)
    large = [t for t in scans if rows.get(t, 0) >= LARGE_TABLE_ROWS]
    warning = "; ".join(f"full scan of {t} ({rows[t]} rows)" for t in large) or None
    return QueryPlanReport(source=statement.source, sql=_IN_LIST.sub("?, ...", " ".join(statement.sql.split())),
                           calls=statement.calls, plan=lines, full_scans=scans, warning=warning)


def advise(analysis: IndexAnalysis, has_statistics: bool = True) -> list[Advice]:
    """Return what to do about the analysis, most space or time saved first; [] for a healthy index."""
    storage, out = analysis.storage, []
    if storage.page_count and storage.freelist_count / storage.page_count > FREE_SHARE:
        free = storage.freelist_count * storage.page_size
        out.append(Advice(code="vacuum", message=(
            f"{storage.freelist_count} of {storage.page_count} pages are free ({free} bytes): VACUUM gives them back"
            " (needs the index to itself: no `pampax index`, `watch` or `mcp` on it meanwhile)"),
            command=f"sqlite3 {analysis.index} 'VACUUM'"))
    if analysis.fts.segments > FTS_SEGMENTS:
        out.append(Advice(code="fts_optimize", message=(
            f"the FTS index has {analysis.fts.segments} segments (more than {FTS_SEGMENTS}): every term is read from"
            " each of them; 'optimize' merges them into one; `pampax index PATH --full` rebuilds them as"
            " one"),
            command=f"sqlite3 {analysis.index} \"INSERT INTO chunks_fts(chunks_fts) VALUES('optimize')\""))
    if storage.page_size < 4096:
        out.append(Advice(code="page_size", message=(
            f"page size {storage.page_size} is below SQLite's default 4096: more pages, deeper b-trees"),
            command=(f"sqlite3 {analysis.index} 'PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; VACUUM;"
                     " PRAGMA journal_mode=WAL'")))
    if storage.wal_bytes > WAL_SHARE * storage.file_bytes:
        out.append(Advice(code="wal_checkpoint", message=(
            f"the -wal file holds {storage.wal_bytes} bytes against {storage.file_bytes}: a reader kept open across"
            " refreshes starves checkpoints"), command=f"sqlite3 {analysis.index} 'PRAGMA wal_checkpoint(TRUNCATE)'"))
    if not has_statistics:
        out.append(Advice(code="analyze", message=(
            "no sqlite_stat1: the planner guesses at index selectivity (`pampax index` runs PRAGMA optimize after a build)"),
            command=f"sqlite3 {analysis.index} 'ANALYZE'"))
    for query in analysis.queries:
        if query.warning:
            out.append(Advice(code="full_scan", message=f"{query.source}: {query.warning}; an index on its filter columns, or"
                                                       " remembering the answer per generation, would avoid it",
                              command=None))
    return out


def render_text(analysis: IndexAnalysis) -> str:
    """Return the analysis as fixed-width text; identical analyses give identical text."""
    s = analysis.storage
    free = f"{100 * s.freelist_count / s.page_count:.1f}%" if s.page_count else "n/a"
    out = [f"index {analysis.index}  generation {analysis.generation}  schema {analysis.schema_version}"
           f"  pampax {analysis.pampax_version}  built {analysis.built_at}",
           f"{s.engine}: {s.file_bytes} bytes ({s.page_count} pages of {s.page_size}, {s.freelist_count} free = {free});"
           f" journal {s.journal_mode}; wal {s.wal_bytes} bytes; dbstat: {s.dbstat}",
           f"fts: {analysis.fts.segments} segments on {analysis.fts.levels} levels, {analysis.fts.rows} rows,"
           f" {analysis.fts.terms} terms", "",
           f"{'b-tree':<34}{'type':<7}{'rows':>10}{'bytes':>13}{'share':>8}"]
    total = sum(t.bytes or 0 for t in analysis.tables) or 1
    for t in analysis.tables:
        size = "n/a" if t.bytes is None else str(t.bytes)
        share = "" if t.bytes is None else f"{100 * t.bytes / total:.1f}%"
        out.append(f"{t.name:<34}{t.type:<7}{'' if t.rows is None else t.rows:>10}{size:>13}{share:>8}")
    pairs = lambda d: ", ".join(f"{k}={v}" for k, v in d.items()) or "none"  # noqa: E731
    out += ["", f"languages: {pairs(analysis.languages)}",
            f"skipped: {'not recorded by this build' if analysis.skipped is None else pairs(analysis.skipped)}",
            f"edges: {pairs(analysis.edges)}", f"test links: {pairs(analysis.test_links)}", "", "largest files:"]
    out += [f"  {f.bytes:>10}  {f.lines:>6} lines  {f.chunks:>4} chunks  {f.path}" for f in analysis.largest_files]
    out.append("largest chunks:")
    out += [f"  {c.stored_bytes:>10}  {c.path}:{c.start_line}-{c.end_line} ({c.kind})" for c in analysis.largest_chunks]
    out += ["", "query plans:"]
    for q in analysis.queries:
        out.append(f"  {q.source} (x{q.calls}){'  WARNING: ' + q.warning if q.warning else ''}")
        out += [f"      {line}" for line in q.plan]
    out += ["", "advice:"]
    out += [f"  [{a.code}] {a.message}" + (f"\n      {a.command}" if a.command else "") for a in analysis.advice] or ["  none"]
    return "\n".join(out) + "\n"
