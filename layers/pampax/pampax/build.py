"""Build or refresh the SQLite index of a repository.

A first build (or one replacing an unusable index) writes a new file beside the target and swaps
it in with ``os.replace``. Every later build, a refresh or ``--full``, updates the live file in
place inside one transaction in WAL mode: readers keep reading the previous snapshot until it
commits, and a failed or killed run rolls back, leaving the previous index intact. Copying a large
index aside cost more than the refresh itself (Django: 0.9 s for one changed file). Files whose
size and mtime (or, failing that, sha256) are unchanged are not read again, so a refresh costs the
walk plus the changed files.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import sqlite_utils

from . import __version__, chunk_codec, db, schema
from .analyze import (SNIFF_BYTES, FileRecord, Skipped, analyze_file, decode, fts_parts, is_binary, path_terms,
                      sha256_of)
from .chunk import MERGE_LINES
from .config import IndexSettings
from .errors import IndexCorrupt, NotADirectory, PathNotFound
from .index import Index, default_index_path
from .models import FileChanges, IndexReport
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


class _Skip(NamedTuple):
    """A binary file a build read and left out (``schema.SKIPPED_FILES``); not read again while size and mtime hold."""

    size: int
    mtime_ns: int
    reason: str


# The skip reasons remembered: those the bytes alone decide. ``minified`` also depends on
# ``index.minified_line_chars`` and ``unreadable`` on permissions, which change without size or mtime.
_REMEMBERED = frozenset({"binary"})


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
    root = resolve_root(root)
    target = Path(index_path) if index_path else default_index_path(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)

    previous, skips_before = _read_previous(target)
    reusable, reusable_skips = ({}, {}) if full else (previous, skips_before)
    kept, todo, skipped, skips = _plan(root, target, settings, reusable, reusable_skips)
    stats = {rel: (size, mtime) for rel, size, mtime in todo}

    writer = _Writer(target, previous, full, lambda: chunk_codec.train(_dictionary_samples(root, todo)))
    parsed: set[str] = set()
    touched: list[_Previous] = []
    try:
        # Files gone from the tree (or now too large) lose their rows.
        pending = stats.keys()
        writer.remove([old for path, old in previous.items() if path not in kept and path not in pending])
        # Rows are written while the workers parse: the writer is the main process's only job.
        for result in _analyze_all(root, todo, settings, reusable, progress):
            if isinstance(result, _Previous):
                kept[result.path] = result
                touched.append(result)
                continue
            if result.path in previous:
                writer.remove([previous[result.path]])
            if isinstance(result, Skipped):
                skipped[result.reason] = skipped.get(result.reason, 0) + 1
                if result.reason in _REMEMBERED:
                    skips[result.path] = _Skip(*stats[result.path], result.reason)
            else:
                parsed.add(result.path)
                writer.add(result)
        writer.touch(touched)
        if skips != skips_before:
            writer.record_skips(skips)
        if writer.is_open or not previous:
            # Without a previous index to keep (none, --full, unusable) even an empty tree gets its own generation.
            writer.open()
            generation = writer.commit(skipped)
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
        edges=counts["edges"], test_links=counts["test_imports"], bytes=target.stat().st_size,
        seconds=round(time.perf_counter() - started, 3),
    )


def resolve_root(root: str | Path) -> Path:
    """Return a repository root resolved. Raises ``PathNotFound`` / ``NotADirectory`` for a bad one."""
    root = Path(root)
    if not root.exists():
        raise PathNotFound(f"{root} does not exist")
    if not root.is_dir():
        raise NotADirectory(f"{root} is a file; pampax indexes a directory")
    return root.resolve()


def pending_changes(root: Path, index_path: Path, settings: IndexSettings = IndexSettings()) -> FileChanges:
    """Return the files a refresh of ``index_path`` would read or drop: added, modified (size or mtime), removed."""
    root = root.resolve()
    previous, skips = _read_previous(index_path)
    kept, todo, _, _ = _plan(root, index_path, settings, previous, skips)
    read = [rel for rel, _, _ in todo]
    return FileChanges(added=[rel for rel in read if rel not in previous],
                       modified=[rel for rel in read if rel in previous],
                       removed=sorted(set(previous) - set(kept) - set(read)))


def _plan(root: Path, target: Path, settings: IndexSettings, previous: dict[str, _Previous],
          skips: dict[str, _Skip]):
    """Return (kept, todo, skipped, remembered): files unchanged since ``previous``, files to read as
    (path, size, mtime_ns), skip counts, and the ``skips`` that still hold (counted in skipped, not read)."""
    own = target.resolve()
    own_rel = own.relative_to(root).as_posix() if own.is_relative_to(root) else None
    skipped: dict[str, int] = {}
    todo: list[tuple[str, int, int]] = []
    kept: dict[str, _Previous] = {}
    remembered: dict[str, _Skip] = {}
    base = str(root)
    for rel in iter_files(root):
        if rel == own_rel:
            continue
        stat = os.stat(f"{base}/{rel}")  # not pathlib: its parsing was a third of a Django refresh's walk
        if stat.st_size > settings.max_file_bytes:
            skipped["too_large"] = skipped.get("too_large", 0) + 1
        elif (old := previous.get(rel)) and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            kept[rel] = old
        elif (skip := skips.get(rel)) and (skip.size, skip.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            skipped[skip.reason] = skipped.get(skip.reason, 0) + 1
            remembered[rel] = skip
        else:
            todo.append((rel, stat.st_size, stat.st_mtime_ns))
    return kept, todo, skipped, remembered


def _analyze_all(
    root: Path, todo: list[tuple[str, int, int]], settings: IndexSettings, previous: dict[str, _Previous],
    progress: Progress | None,
) -> Iterable[FileRecord | Skipped | _Previous]:
    # A sniff here keeps binary files (Django: 1,400 locale and image files on a first build) from
    # sizing a process pool.
    text = []
    for rel, _, mtime in todo:
        if _sniff(root / rel):
            yield Skipped(rel, "binary")
        else:
            text.append((rel, mtime))
    jobs = [(root, rel, mtime, settings.minified_line_chars, previous.get(rel)) for rel, mtime in text]
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


def _dictionary_samples(root: Path, todo: list[tuple[str, int, int]]) -> list[str]:
    """Return chunk-sized pieces of ``chunk_codec.SAMPLE_FILES`` text files spread evenly over the tree.

    Spread, not the first files walked: those are one corner of the tree (Django's first 4 MB of
    chunks trained a dictionary that left the text at 0.33 of its size; this sample, 0.28).
    """
    step = max(1.0, len(todo) / chunk_codec.SAMPLE_FILES)
    pieces = []
    for n in range(min(len(todo), chunk_codec.SAMPLE_FILES)):
        try:
            data = (root / todo[int(n * step)][0]).read_bytes()
        except OSError:
            continue
        if not is_binary(data[:SNIFF_BYTES]):
            lines = decode(data).split("\n")
            pieces += ["\n".join(lines[i:i + MERGE_LINES]) for i in range(0, len(lines), MERGE_LINES)]
    return pieces


def _sniff(path: Path) -> bool:
    """Return whether a file is binary by its first bytes; False when unreadable (the job reports that)."""
    try:
        with open(path, "rb") as handle:
            return is_binary(handle.read(SNIFF_BYTES))
    except OSError:
        return False


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


def _read_previous(target: Path) -> tuple[dict[str, _Previous], dict[str, _Skip]]:
    """Return the file table and the skipped files of a usable previous index; ({}, {}) when there is none
    worth patching. An index from before ``skipped_files`` has no skips."""
    if not target.exists():
        return {}, {}
    try:
        with Index(target) as previous:
            if previous.meta.get("pampax_version") != __version__:
                return {}, {}
            rows = previous.query("SELECT path, id, sha256, size, mtime_ns FROM files")
            has_skips = previous.query("SELECT 1 FROM sqlite_master WHERE name = 'skipped_files'")
            skips = previous.query("SELECT path, size, mtime_ns, reason FROM skipped_files") if has_skips else []
    except (IndexCorrupt, db.Error):
        return {}, {}
    return {row[0]: _Previous(*row) for row in rows}, {row[0]: _Skip(*row[1:]) for row in skips}


class _Writer:
    """Writes the next generation, opened on first change: in place when there is a previous index, else
    into a private new file that ``commit`` swaps in.

    Bulk rows go through ``executemany`` with tuples: sqlite-utils' ``insert_all`` (dict rows, per-value
    JSON checks) took 15 of the 25 seconds of a Django build. The schema still comes from sqlite-utils.

    Chunk text is written compressed (``chunk_codec``): a new file with a dictionary ``train`` returns,
    a refresh in place with the dictionary the file already has.
    """

    def __init__(self, target: Path, previous: dict[str, _Previous], full: bool = False,
                 train: Callable[[], bytes | None] = lambda: None):
        self.target = target
        self.in_place = bool(previous)
        self.full = full
        self.temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        self.conn = None
        self.next_id: dict[str, int] = {}
        self.train = train
        self.encode: Callable[[str], bytes] | None = None
        self.decode: Callable[[bytes], str] | None = None

    @property
    def is_open(self) -> bool:
        return self.conn is not None

    def open(self):
        if self.conn is None:
            if self.in_place:
                conn = db.connect(self.target)
                # WAL: readers keep their snapshot while this transaction writes; a crash before COMMIT
                # leaves only uncommitted frames, which the next open ignores. NORMAL syncs at checkpoints.
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute("SELECT data FROM text_dictionary").fetchone()
                self.encode = chunk_codec.encoder(row[0] if row else None)
                self.decode = chunk_codec.decoder(row[0] if row else None)
            else:
                conn = db.connect(self.temporary)
                # The new file is private until the swap: a crash leaves only garbage for the next run to
                # delete. (journal_mode=OFF corrupted FTS5 segments here; MEMORY keeps rollback working.)
                conn.execute("PRAGMA journal_mode = MEMORY")
                conn.execute("PRAGMA synchronous = OFF")
                schema.create(sqlite_utils.Database(conn))
                conn.execute("BEGIN")
                dictionary = self.train()
                if dictionary is not None:
                    conn.execute("INSERT INTO text_dictionary (data) VALUES (?)", (dictionary,))
                self.encode = chunk_codec.encoder(dictionary)
                self.decode = chunk_codec.decoder(dictionary)
            self.next_id = {t: conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {t}").fetchone()[0]
                            for t in ("files", "symbols", "chunks", "call_edges", "call_names")}
            self.name_ids: dict[str, int] = {}
            self.conn = conn
        return self.conn

    def remove(self, files: list[_Previous]) -> None:
        if not files:
            return
        conn = self.open()
        columns = ", ".join(schema.FTS_COLUMNS)
        for file in files:
            # A contentless FTS5 row is deleted by restating what it indexed: the same values ``add`` wrote.
            path_text = path_terms(file.path)
            indexed = []
            for chunk_id, names, blob in conn.execute("SELECT id, names, text FROM chunks WHERE file_id = ?",
                                                      (file.id,)).fetchall():
                text = self.decode(blob)
                indexed.append((chunk_id, names, path_text, text, fts_parts(names, text)))
            conn.executemany(
                f"INSERT INTO chunks_fts (chunks_fts, rowid, {columns}) VALUES ('delete', ?, ?, ?, ?, ?)", indexed)
            first_call, call_count = conn.execute("SELECT first_call, call_count FROM files WHERE id = ?",
                                                  (file.id,)).fetchone()
            conn.execute("DELETE FROM call_edges WHERE id BETWEEN ? AND ?", (first_call, first_call + call_count - 1))
            for table in ("chunks", "imports", "test_imports", "symbols"):
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
        calls = [e for e in record.edges if e.kind == "call"]
        first_call = self._take("call_edges", len(calls))
        conn.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (file_id, record.path, record.lang, record.sha256, record.size, record.mtime_ns, record.lines,
                      int(record.is_test), first_call, len(calls)))
        conn.executemany("INSERT INTO symbols VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (symbol_id, file_id, s.name, s.name.lower(), s.qualname, s.kind, s.start_line, s.end_line, s.signature,
             s.docstring, schema.parent_stored(s.qualname, s.parent))
            for symbol_id, s in zip(symbol_ids, record.symbols)])

        def scope(edge) -> int | None:
            return by_qualname.get(edge.scope) if edge.scope else None

        conn.executemany("INSERT INTO call_edges VALUES (?, ?, ?, ?, ?, ?)", [
            (call_id, file_id, scope(e), self._name_id(e.name), schema.callee_stored(e.name, e.detail), e.line)
            for call_id, e in enumerate(calls, start=first_call)])
        conn.executemany("INSERT INTO imports (file_id, symbol_id, name, module, line) VALUES (?, ?, ?, ?, ?)", [
            (file_id, scope(e), e.name, None if e.detail == e.name else e.detail, e.line)
            for e in record.edges if e.kind == "import"])
        conn.executemany("INSERT INTO test_imports (file_id, name) VALUES (?, ?)",
                         [(file_id, name) for name in record.test_imports])
        chunk_ids = range(first_chunk, first_chunk + len(record.chunks))
        conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            (chunk_id, file_id, None if c.symbol_index is None else symbol_ids[c.symbol_index], c.start_line,
             c.end_line, c.kind, c.names, self.encode(c.text)) for chunk_id, c in zip(chunk_ids, record.chunks)])
        path_text = path_terms(record.path)
        conn.executemany(
            f"INSERT INTO chunks_fts (rowid, {', '.join(schema.FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
            [(chunk_id, c.names, path_text, c.text, c.parts) for chunk_id, c in zip(chunk_ids, record.chunks)])

    def touch(self, kept: list[_Previous]) -> None:
        """Record the new mtime of files that were touched but not changed, so they are not hashed again."""
        if kept:
            self.open().executemany("UPDATE files SET mtime_ns = ? WHERE id = ?", [(k.mtime_ns, k.id) for k in kept])

    def record_skips(self, skips: dict[str, _Skip]) -> None:
        """Replace the remembered skipped files (a few thousand rows at most: cheaper than diffing them)."""
        conn = self.open()
        conn.execute(schema.SKIPPED_FILES)  # a schema 2 index from before the table
        conn.execute("DELETE FROM skipped_files")
        conn.executemany("INSERT INTO skipped_files VALUES (?, ?, ?, ?)",
                         [(path, *skip) for path, skip in sorted(skips.items())])

    def commit(self, skipped: dict[str, int]) -> str:
        conn = self.conn
        if not self.in_place:
            schema.create_indexes(sqlite_utils.Database(conn))
        generation = _generation(conn)
        sqlite_utils.Database(conn)["meta"].upsert_all(
            [{"key": "generation", "value": generation},
             {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
             {"key": "pampax_version", "value": __version__},
             {"key": "engine", "value": db.engine()},
             {"key": "built_at", "value": datetime.now(timezone.utc).isoformat(timespec="seconds")},
             # Read or remembered (``skipped_files``), every skipped file is counted: this is the whole tree's count.
             {"key": "skipped", "value": json.dumps(dict(sorted(skipped.items())))}],
            pk="key",
        )
        conn.commit()
        if self.full or not self.in_place:
            # One b-tree per term makes queries fastest; a refresh of a few files is not worth
            # rewriting the whole FTS index for (FTS5 merges its small segments as it goes).
            conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
            conn.commit()  # the INSERT opened a transaction of its own (closing without this rolled it back)
        if not self.in_place:
            # The FTS merges leave 7 % of a new file free (Django: 5 of 70 MiB); it is private, so compact
            # it before it is swapped in.
            conn.execute("VACUUM")
        conn.execute("PRAGMA optimize")
        if not self.in_place:
            conn.execute("PRAGMA journal_mode = WAL")  # so that the next build can refresh it in place
        conn.close()
        self.conn = None
        if not self.in_place:
            # The WAL sidecars of an unusable file the new one replaces must not be read as the new one's.
            for sidecar in db.sidecars(self.target):
                sidecar.unlink(missing_ok=True)
            os.replace(self.temporary, self.target)
        return generation

    def discard(self) -> None:
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None
        if not self.in_place:
            self.temporary.unlink(missing_ok=True)

    def _name_id(self, name: str) -> int:
        """Return the ``call_names`` id of ``name``, adding the name when the index lacks it.

        Names a refresh no longer calls stay: an unused name costs a few bytes and answers nothing.
        """
        found = self.name_ids.get(name)
        if found is None:
            row = self.conn.execute("SELECT id FROM call_names WHERE name = ?", (name,)).fetchone()
            if row is None:
                found = self._take("call_names", 1)
                self.conn.execute("INSERT INTO call_names VALUES (?, ?)", (found, name))
            else:
                found = row[0]
            self.name_ids[name] = found
        return found

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
        counts = {t: index.query(f"SELECT count(*) FROM {t}")[0][0]
                  for t in ("files", "symbols", "chunks", "calls", "imports", "test_imports")}
    return {**counts, "edges": counts["calls"] + counts["imports"]}
