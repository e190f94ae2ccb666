"""The warm Lambda process's index: fetched once, verified, reused, and swapped when the pointer moves.

A handler's cold start fetches the current generation to ``runtime.work_dir`` (/tmp in Lambda),
unpacking and hashing it as it streams in (``stores.base``), opens it read-only and checks that it holds
the generation the pointer names. No ``PRAGMA quick_check`` here: ``pampax publish`` ran it on these very
bytes (the sha256s prove it), and a damaged page that got past it anyway fails its query as
``index_corrupt`` (``Index.query``). Each stage's time (pointer, manifest, fetch, open, verify) is logged with the load and
kept in ``IndexAccessor.stages``. A generation is refused, and the loaded one kept, when the work
directory has less free room than its unpacked size: during a swap /tmp holds two generations.
While warm it re-reads the small ``current`` pointer at most every ``runtime.refresh_seconds``; a
new generation is fully fetched and verified before it replaces the old one, so a request never
sees a half-written file. If the new artifact is missing or corrupt, the loaded generation keeps
serving and the failure is logged; only a process with nothing loaded answers 503.

This module holds one of the two module-level mutable objects pampax allows (``_accessor``; the
other is ``deadline``'s), because reusing the open index across invocations is what makes a warm
Lambda fast. Lambda runs one
request at a time per process; the lock covers the local harness.
"""

from __future__ import annotations

import math
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import Config
from .errors import IndexCorrupt, PampaxError, StoreUnavailable
from .index import Index
from .observability import Telemetry
from .stores import ArtifactStore, open_store


class IndexAccessor:
    """Serves one open generation from ``store``; re-reads the pointer at most every ``refresh_seconds``."""

    def __init__(
        self, store: ArtifactStore, work_dir: str | Path, refresh_seconds: float, telemetry: Telemetry,
        clock: Callable[[], float] = time.monotonic,
        free_bytes: Callable[[Path], int] = lambda path: shutil.disk_usage(path).free,
    ):
        self.store = store
        self.work_dir = Path(work_dir)
        self.refresh_seconds = refresh_seconds
        self.telemetry = telemetry
        self._clock = clock
        self._free_bytes = free_bytes
        # Milliseconds per stage of the last load: pointer, manifest, fetch (download, unpack, sha256), open, verify.
        self.stages: dict[str, float] = {}
        # Milliseconds to make ``store`` (boto3's import and an S3 client: most of a cold first request's
        # time outside the load); set by ``accessor``.
        self.store_ms: float | None = None
        self._index: Index | None = None
        self._checked_at = -math.inf
        # A generation whose artifact failed verification, and when. A cold process would otherwise
        # download it on every request; after ``refresh_seconds`` it is tried again, since
        # ``pampax publish`` repairs a generation's objects in place.
        self._rejected: tuple[str, IndexCorrupt, float] | None = None
        # Why the current pointer's generation is not the one served (None when it is): for health.
        self.failure: PampaxError | None = None
        self._lock = threading.Lock()

    @property
    def generation(self) -> str | None:
        """Return the generation being served, or None before the first successful load."""
        return self._index.generation if self._index else None

    def get(self) -> Index:
        """Return the open index of the current generation.

        With nothing loaded yet, raises ``StoreUnavailable`` (no pointer, store failure, missing
        object) or ``IndexCorrupt`` (a size or sha256 that differs from the manifest). Once a generation is loaded,
        such failures are logged and the loaded generation is returned.
        """
        with self._lock:
            now = self._clock()
            if self._index is not None and now - self._checked_at < self.refresh_seconds:
                return self._index
            try:
                self._refresh()
                self.failure = None
            except PampaxError as exc:
                self.failure = exc
                if self._index is None:
                    raise
                message = f"keeping generation {self._index.generation}: {exc.message}"
                if exc.reported:  # a failed load: its ``index`` operation logged and counted it
                    self.telemetry.logger.warning(message, extra={"op": "index", "status": "degraded",
                                                                  "err_kind": exc.kind, "err_code": exc.code})
                else:  # the pointer read failed: count it, or a store outage would never show while warm
                    self.telemetry.count_error(exc.kind, message, op="index")
            self._checked_at = now
            return self._index

    def describe(self) -> str:
        """Return where the pointer points and what is served, for health checks.

        Raises ``StoreUnavailable`` without a pointer, and the last refresh's error when the pointer
        names a generation that could not be loaded (the process may still serve an older one).
        """
        pointer = self.store.pointer()
        if pointer is None:
            raise StoreUnavailable(f"{self.store.location} has no current generation: run `pampax publish`")
        if self.failure is not None and pointer.generation != self.generation:
            raise type(self.failure)(f"{self.store.location} current {pointer.generation} is not servable"
                                     f" ({self.failure.message}); serving {self.generation or 'nothing'}")
        return f"{self.store.location} current {pointer.generation}, serving {self.generation or 'nothing yet'}"

    def close(self) -> None:
        """Close the served index; the next ``get`` starts cold."""
        with self._lock:
            if self._index is not None:
                self._index.close()
            self._index = None
            self._checked_at = -math.inf

    def _refresh(self) -> None:
        started = time.perf_counter()
        pointer = self.store.pointer()
        pointer_ms = (time.perf_counter() - started) * 1000
        if pointer is None:
            raise StoreUnavailable(f"{self.store.location} has no current generation: run `pampax publish`")
        if pointer.generation == self.generation:
            return
        if self._rejected and self._rejected[0] == pointer.generation and (
                self._clock() - self._rejected[2] < self.refresh_seconds):
            raise self._rejected[1]
        with self.telemetry.operation("index"):  # index_refresh_ms: manifest + fetch + open + verify
            fresh, stages = self._load(pointer.generation)
        self.stages = {"pointer": round(pointer_ms, 1), **stages}
        old, self._index = self._index, fresh
        timings = ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in self.stages.items())
        self.telemetry.logger.info(f"serving generation {fresh.generation} (was {old.generation if old else 'none'}):"
                                   f" {timings}", extra={"op": "index", "status": "ok"})
        if old is not None:
            old.close()
            old.path.unlink(missing_ok=True)  # /tmp is small (512 MB by default)

    def _load(self, generation: str) -> tuple[Index, dict[str, float]]:
        stages: dict[str, float] = {}
        clock = _Stopwatch(stages)
        with clock("manifest"):
            manifest = self.store.manifest(generation)
        path = self.work_dir / "generations" / f"{generation}.db"
        self._check_room(manifest.generation, manifest.size, path)
        try:
            with clock("fetch"):
                self.store.fetch(manifest, path)
            with clock("open"):
                index = Index(path)
            with clock("verify"):
                if index.generation != generation:
                    index.close()
                    raise IndexCorrupt(f"artifact of generation {generation} holds generation {index.generation}")
        except IndexCorrupt as exc:
            path.unlink(missing_ok=True)
            self._rejected = (generation, exc, self._clock())
            raise
        return index, stages

    def _check_room(self, generation: str, size: int, path: Path) -> None:
        """Raise ``StoreUnavailable`` unless the work directory can take ``size`` more bytes (or already holds them)."""
        if path.is_file() and path.stat().st_size == size:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            free = self._free_bytes(path.parent)
        except OSError as exc:
            raise StoreUnavailable(f"cannot use {path.parent} for generation {generation}: {exc.strerror or exc}") from exc
        if free < size:
            raise StoreUnavailable(
                f"generation {generation} unpacks to {size / 2**20:.0f} MiB but {path.parent} has {free / 2**20:.0f} MiB"
                " free (a swap holds two generations): raise the EphemeralStorageSize parameter")


class _Stopwatch:
    """``with clock("stage"):`` adds the block's milliseconds to ``stages["stage"]``."""

    def __init__(self, stages: dict[str, float]):
        self.stages = stages

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[stage] = round((time.perf_counter() - started) * 1000, 1)


_accessor: IndexAccessor | None = None


def accessor(config: Config, telemetry: Telemetry) -> IndexAccessor:
    """Return this process's accessor, made on first use from ``config``. Raises ``ConfigInvalid`` without a store."""
    global _accessor
    if _accessor is None:
        started = time.perf_counter()
        store = open_store(config)
        _accessor = IndexAccessor(store, config.runtime.work_dir, config.runtime.refresh_seconds, telemetry)
        _accessor.store_ms = round((time.perf_counter() - started) * 1000, 1)
    return _accessor


@contextmanager
def shared_index(config: Config, telemetry: Telemetry) -> Iterator[Index]:
    """Yield the warm index and leave it open: the index provider of a Lambda ``Service``."""
    yield accessor(config, telemetry).get()


def stages() -> dict[str, float]:
    """Return the milliseconds to make the store and per stage of this process's last index load ({} before one):
    for the benchmarks."""
    if _accessor is None or not _accessor.stages:
        return {}
    return {"store": _accessor.store_ms, **_accessor.stages} if _accessor.store_ms is not None else dict(_accessor.stages)


def reset() -> None:
    """Close and forget the process's index, so the next request starts cold (tests, the local harness)."""
    global _accessor
    if _accessor is not None:
        _accessor.close()
    _accessor = None
