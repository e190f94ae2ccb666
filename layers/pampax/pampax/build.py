"""Build or refresh the SQLite index of a repository.

A build never writes the live file: it copies the previous index aside (or starts an empty one),
applies the changed files, commits, and only then swaps the result in with ``os.replace``. An
interrupted or failed run leaves the previous index byte-for-byte intact. Files whose size and
mtime (or, failing that, sha256) are unchanged are not read again, so a refresh costs the walk plus
the changed files.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import signal
import shutil
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from . import __version__, db, schema
from .analyze import FileRecord, Skipped, analyze_file, path_terms, sha256_of
from .config import IndexSettings
from .errors import IndexCorrupt, NotADirectory, PathNotFound
from .index import Index, default_index_path
from .models import IndexReport
from .walk import iter_files

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Below this many changed files a process pool costs more than it saves (fork + grammar loading).
_POOL_MIN_FILES = 64

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True, slots=True)
class _Previous:
    path: str
    id: int
    sha256: str
    size: int
    mtime_ns: int


def build_index(
    root: str | Path,
    index_path: str | Path | None = None,
    settings: IndexSettings = IndexSettings(),
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> IndexReport:
    """Index ``root`` into ``index_path`` (default ``root/.pampax/index.db``) and return what was done.

    Raises ``PathNotFound`` / ``NotADirectory`` for a bad root. A previous index that is corrupt or
    from another schema or pampax version is rebuilt from scratch rather than patched.
    """
    started = time.perf_counter()
    root = Path(root)
    if not root.exists():
        raise PathNotFound(f"{root} does not exist")
    if not root.is_dir():
        raise NotADirectory(f"{root} is a file; pampax indexes a directory")
    root = root.resolve()
    target = Path(index_path) if index_path else default_index_path(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)

    previous = {} if full else _read_previous(target)
    own = target.resolve()
    own_rel = own.relative_to(root).as_posix() if own.is_relative_to(root) else None
    paths = [p for p in iter_files(root) if p != own_rel]
    skipped: dict[str, int] = {}
    todo: list[tuple[str, int]] = []
    kept: dict[str, _Previous] = {}
    for rel in paths:
        stat = (root / rel).stat()
        if stat.st_size > settings.max_file_bytes:
            skipped["too_large"] = skipped.get("too_large", 0) + 1
        elif (old := previous.get(rel)) and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            kept[rel] = old
        else:
            todo.append((rel, stat.st_mtime_ns))

    writer = _Writer(target, previous)
    parsed: set[str] = set()
    try:
        # Files gone from the tree (or now too large) lose their rows.
        pending = {rel for rel, _ in todo}
        writer.remove([old for path, old in previous.items() if path not in kept and path not in pending])
        # Rows are written while the workers parse: the writer is the main process's only job.
        for result in _analyze_all(root, todo, settings, previous, progress):
            if isinstance(result, _Previous):
                kept[result.path] = result
                continue
            if result.path in previous:
                writer.remove([previous[result.path]])
            if isinstance(result, Skipped):
                skipped[result.reason] = skipped.get(result.reason, 0) + 1
            else:
                parsed.add(result.path)
                writer.add(result)
        if writer.is_open or not previous:
            # Without a previous index to keep (none, --full, unusable) even an empty tree gets its own generation.
            writer.open()
            writer.touch([k for k in kept.values() if k.path in previous])
            generation = writer.commit()
        else:
            with Index(target) as live:  # nothing changed: keep the live file untouched
                generation = live.generation
    except BaseException:
        writer.discard()
        raise
    removed = [p for p in previous if p not in kept and p not in parsed]
    counts = _counts(target)
    return IndexReport(
        root=str(root), index=str(target), generation=generation, engine=db.engine(),
        files=counts["files"], parsed_files=len(parsed), reused_files=len(kept), removed_files=len(removed),
        skipped=dict(sorted(skipped.items())), symbols=counts["symbols"], chunks=counts["chunks"],
        edges=counts["edges"], test_links=counts["test_links"], bytes=target.stat().st_size,
        seconds=round(time.perf_counter() - started, 3),
    )


def _analyze_all(
    root: Path, todo: list[tuple[str, int]], settings: IndexSettings, previous: dict[str, _Previous],
    progress: Progress | None,
) -> Iterable[FileRecord | Skipped | _Previous]:
    jobs = [(root, rel, mtime, settings.minified_line_chars, previous.get(rel)) for rel, mtime in todo]
    workers = settings.workers or os.cpu_count() or 1
    if len(jobs) < _POOL_MIN_FILES or workers == 1:
        results = map(_analyze_job, jobs)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),))
        results = pool.map(_analyze_job, jobs, chunksize=16)
    try:
        for done, result in enumerate(results, start=1):
            if progress:
                progress(done, len(jobs))
            yield result
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)


def _die_with_parent(parent: int) -> None:
    """Make this pool worker die when the build process does, even by ``kill -9`` (Linux; a no-op elsewhere).

    Without it a killed build leaves its workers blocked on the task queue forever, adopted by init.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _analyze_job(job: tuple[Path, str, int, int, _Previous | None]) -> FileRecord | Skipped | _Previous:
    root, rel, mtime_ns, minified_line_chars, old = job
    try:
        data = (root / rel).read_bytes()
    except OSError:
        return Skipped(rel, "unreadable")
    if old is not None and old.sha256 == sha256_of(data):
        # Touched but unchanged (a checkout, a `touch`): keep the rows, remember the new mtime.
        return _Previous(rel, old.id, old.sha256, old.size, mtime_ns)
    return analyze_file(rel, data, mtime_ns, minified_line_chars)


def _read_previous(target: Path) -> dict[str, _Previous]:
    """Return the file table of a usable previous index, or {} when there is none worth patching."""
    if not target.exists():
        return {}
    try:
        with Index(target) as previous:
            if previous.meta.get("pampax_version") != __version__:
                return {}
            rows = previous.query("SELECT path, id, sha256, size, mtime_ns FROM files")
    except (IndexCorrupt, db.Error):
        return {}
    return {row[0]: _Previous(*row) for row in rows}


class _Writer:
    """Writes the next generation into a private copy beside the live index, opened on first change.

    ``commit`` swaps the copy in with ``os.replace``; ``discard`` deletes it. Bulk rows go through
    ``executemany`` with tuples: sqlite-utils' ``insert_all`` (dict rows, per-value JSON checks)
    took 15 of the 25 seconds of a Django build. The schema still comes from sqlite-utils.
    """

    def __init__(self, target: Path, previous: dict[str, _Previous]):
        self.target = target
        self.previous = previous
        self.temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        self.conn = None
        self.next_id: dict[str, int] = {}

    @property
    def is_open(self) -> bool:
        return self.conn is not None

    def open(self):
        if self.conn is None:
            if self.previous:
                shutil.copyfile(self.target, self.temporary)
            conn = db.connect(self.temporary)
            # The copy is private until the swap: a crash leaves only garbage for the next run to delete.
            # (journal_mode=OFF corrupted FTS5 segments here; MEMORY keeps rollback working.)
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA synchronous = OFF")
            if not self.previous:
                schema.create(sqlite_utils.Database(conn))
            conn.execute("BEGIN")
            self.next_id = {t: conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {t}").fetchone()[0]
                            for t in ("files", "symbols", "chunks")}
            self.conn = conn
        return self.conn

    def remove(self, files: list[_Previous]) -> None:
        if not files:
            return
        conn = self.open()
        for file in files:
            conn.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)", (file.id,))
            for table in ("chunks", "edges", "test_links", "symbols"):
                conn.execute(f"DELETE FROM {table} WHERE file_id = ?", (file.id,))
            conn.execute("DELETE FROM files WHERE id = ?", (file.id,))

    def add(self, record: FileRecord) -> None:
        conn = self.open()
        file_id = self._take("files", 1)
        first_symbol = self._take("symbols", len(record.symbols))
        first_chunk = self._take("chunks", len(record.chunks))
        symbol_ids = range(first_symbol, first_symbol + len(record.symbols))
        by_qualname: dict[str, int] = {}
        for symbol_id, s in zip(symbol_ids, record.symbols):
            by_qualname.setdefault(s.qualname, symbol_id)
        conn.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (file_id, record.path, record.lang, record.sha256, record.size, record.mtime_ns, record.lines,
                      int(record.is_test)))
        conn.executemany("INSERT INTO symbols VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (symbol_id, file_id, s.name, s.name.lower(), s.qualname, s.kind, s.start_line, s.end_line, s.signature,
             s.docstring, s.parent) for symbol_id, s in zip(symbol_ids, record.symbols)])
        conn.executemany("INSERT INTO edges (file_id, symbol_id, kind, name, detail, line) VALUES (?, ?, ?, ?, ?, ?)", [
            (file_id, by_qualname.get(e.scope) if e.scope else None, e.kind, e.name, e.detail, e.line)
            for e in record.edges])
        conn.executemany("INSERT INTO test_links (file_id, symbol_id, target, via) VALUES (?, ?, ?, ?)", [
            (file_id, None if index is None else symbol_ids[index], target, via)
            for index, target, via in record.test_targets])
        chunk_ids = range(first_chunk, first_chunk + len(record.chunks))
        conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            (chunk_id, file_id, None if c.symbol_index is None else symbol_ids[c.symbol_index], c.start_line,
             c.end_line, c.kind, c.names, c.text) for chunk_id, c in zip(chunk_ids, record.chunks)])
        path_text = path_terms(record.path)
        conn.executemany(
            f"INSERT INTO chunks_fts (rowid, {', '.join(schema.FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
            [(chunk_id, c.names, path_text, c.text, c.parts) for chunk_id, c in zip(chunk_ids, record.chunks)])

    def touch(self, kept: list[_Previous]) -> None:
        self.conn.executemany("UPDATE files SET mtime_ns = ? WHERE id = ?", [(k.mtime_ns, k.id) for k in kept])

    def commit(self) -> str:
        conn = self.conn
        generation = _generation(conn)
        sqlite_utils.Database(conn)["meta"].upsert_all(
            [{"key": "generation", "value": generation},
             {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
             {"key": "pampax_version", "value": __version__},
             {"key": "engine", "value": db.engine()},
             {"key": "built_at", "value": datetime.now(timezone.utc).isoformat(timespec="seconds")}],
            pk="key",
        )
        conn.commit()
        if not self.previous:
            # One b-tree per term makes queries fastest; a refresh of a few files is not worth
            # rewriting the whole FTS index for (FTS5 merges its small segments as it goes).
            conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
        conn.execute("PRAGMA optimize")
        conn.close()
        self.conn = None
        os.replace(self.temporary, self.target)
        return generation

    def discard(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.temporary.unlink(missing_ok=True)

    def _take(self, table: str, count: int) -> int:
        first = self.next_id[table]
        self.next_id[table] += count
        return first


def _generation(conn) -> str:
    """Return the generation id: a digest of every file's path and hash plus the schema and pampax versions.

    The same tree indexed by the same release gets the same generation, so caches stay valid across
    a no-op rebuild and outputs are byte-identical.
    """
    digest = hashlib.sha256(f"{schema.SCHEMA_VERSION}:{__version__}".encode())
    for path, sha in conn.execute("SELECT path, sha256 FROM files ORDER BY path"):
        digest.update(f"\n{path}\0{sha}".encode())
    return digest.hexdigest()[:16]


def _remove_stale_temporaries(target: Path) -> None:
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        pid = leftover.name.rsplit(".", 2)[-2]
        if not (pid.isdigit() and _is_running(int(pid))):
            leftover.unlink(missing_ok=True)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _counts(target: Path) -> dict[str, int]:
    with Index(target) as index:
        return {t: index.query(f"SELECT count(*) FROM {t}")[0][0]
                for t in ("files", "symbols", "chunks", "edges", "test_links")}
