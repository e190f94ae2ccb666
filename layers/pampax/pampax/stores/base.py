"""The artifact store port: immutable index generations, a small ``current`` pointer, and source archives.

Layout under the store's root (a directory or ``s3://bucket/prefix``)::

    generations/<id>/index.db.zst    the index file, zstd-compressed; never overwritten
    generations/<id>/manifest.json   both forms' sha256 and size, schema and pampax versions; written last
    current.json                     {"generation", "previous", "updated_at"}: the one mutable object
    sources/...                      archives that index jobs build from

``<id>`` is the index's own generation: a digest of every source file's hash plus the schema and
pampax versions, so the id names the content. The manifest is written only after the index file, so
a generation without a manifest was never published and nothing reads it. Rollback is a pointer
flip. Everything here is concrete; an adapter fills in the byte-moving methods at the end.

The artifact travels compressed (Django: 28 of 67 MB) and is checked as it arrives: one pass hashes
the compressed bytes, decompresses them and hashes and writes the file, refusing the first byte
beyond either size the manifest gives. Nothing is opened, or renamed into place, before both
digests match.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from abc import ABC, abstractmethod
from typing import BinaryIO
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import zstandard
from pydantic import BaseModel, StringConstraints, ValidationError

from .. import db
from ..errors import IndexCorrupt, InvalidArgument, StoreUnavailable
from ..index import Index, open_index

POINTER_KEY = "current.json"
GENERATIONS = "generations"
SOURCES = "sources/"
ARTIFACT = "index.db.zst"
_CHUNK = 1 << 20
# zstd level of a published artifact: 9 packs Django's index to 0.41 in 3 s (3: 0.45; 19: 0.39 in a minute);
# decompressing costs 0.15 s at any level.
_LEVEL = 9


# Generation ids are hex digests; anything else (``../../x``) could walk the key space. Named by a
# caller it is a bad argument; named by a stored pointer or manifest, a broken store.
_GENERATION = r"^[A-Za-z0-9]{1,128}$"
GenerationId = Annotated[str, StringConstraints(pattern=_GENERATION)]


class Manifest(BaseModel):
    """What a published generation is: its file's digest and size, as opened and as stored, and what built it."""

    generation: GenerationId
    sha256: str  # of the SQLite file a handler opens
    size: int  # its bytes: the room it needs in the work directory
    compressed_sha256: str  # of the stored object, ``ARTIFACT``
    compressed_size: int
    schema_version: str
    pampax_version: str
    engine: str
    published_at: str


class Pointer(BaseModel):
    """The ``current`` pointer; ``previous`` lets ``rollback`` undo the last flip without naming it."""

    generation: GenerationId
    previous: GenerationId | None
    updated_at: str


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks (indexes can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Counted:
    """A write-only file that hashes and counts what passes through it on its way to ``inner`` (None: nowhere)."""

    def __init__(self, inner: BinaryIO | None = None):
        self.inner = inner
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        if self.inner is not None:
            self.inner.write(data)
        return len(data)


class _Unpacking:
    """Where a download streams to: hashes the compressed bytes, decompresses them into ``out`` (hashed too).

    Raises ``IndexCorrupt`` from ``write`` at the first byte beyond a size the manifest gives, or when
    the bytes are not zstd, and from ``verify`` when a size or digest differs (a truncated object).
    """

    def __init__(self, manifest: Manifest, out: BinaryIO):
        self.manifest = manifest
        self.packed = _Counted()
        self.file = _Counted(out)
        self._decompress = zstandard.ZstdDecompressor().decompressobj()

    def seekable(self) -> bool:
        return False  # s3transfer then hands over its parallel ranged parts in order

    def write(self, data: bytes) -> int:
        self.packed.write(data)
        if self.packed.size > self.manifest.compressed_size:
            raise self._corrupt(f"more than the manifest's {self.manifest.compressed_size} bytes")
        try:
            out = self._decompress.decompress(data)
        except zstandard.ZstdError as exc:
            raise self._corrupt(f"not a zstd stream ({exc})") from exc
        if self.file.size + len(out) > self.manifest.size:
            raise self._corrupt(f"unpacks to more than the manifest's {self.manifest.size} bytes")
        self.file.write(out)
        return len(data)

    def verify(self) -> None:
        got = (self.packed.size, self.packed.digest.hexdigest(), self.file.size, self.file.digest.hexdigest())
        m = self.manifest
        if got != (m.compressed_size, m.compressed_sha256, m.size, m.sha256):
            raise self._corrupt(f"{got[0]} bytes with sha256 {got[1][:12]}… unpacking to {got[2]}, manifest says"
                                f" {m.compressed_size} bytes, {m.compressed_sha256[:12]}…, unpacking to {m.size}")

    def _corrupt(self, detail: str) -> IndexCorrupt:
        return IndexCorrupt(f"generation {self.manifest.generation} is corrupt: {detail}")


def compress(path: Path, out: Path) -> tuple[_Counted, _Counted]:
    """Write ``path`` zstd-compressed to ``out``; return the counts of (the file, the compressed bytes)."""
    raw = _Counted()
    with open(path, "rb") as source, open(out, "wb") as target:
        packed = _Counted(target)
        compressor = zstandard.ZstdCompressor(level=_LEVEL, threads=-1)
        with compressor.stream_writer(packed, size=path.stat().st_size, closefd=False) as writer:
            while chunk := source.read(_CHUNK):
                raw.write(chunk)
                writer.write(chunk)
    return raw, packed


def open_verified(path: Path) -> Index:
    """Return the index at ``path`` opened read-only after ``PRAGMA quick_check`` passed.

    Raises ``IndexMissing`` or ``IndexCorrupt`` (unreadable, foreign schema, failed check). Used before
    publishing, so a damaged file is never uploaded; a fetch then proves by sha256 that it holds these bytes.
    """
    index = open_index(path)
    try:
        rows = index.conn.execute("PRAGMA quick_check").fetchall()
    except db.Error as exc:
        index.close()
        raise IndexCorrupt(f"{index.path} fails PRAGMA quick_check: {exc}") from exc
    if rows != [("ok",)]:
        index.close()
        raise IndexCorrupt(f"{index.path} fails PRAGMA quick_check: {rows[0][0]}")
    return index


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ArtifactStore(ABC):
    """Publishes, points at and fetches index generations; subclasses only move bytes."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Return where the store lives, for messages (e.g. ``s3://bucket/prefix``)."""

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, index_path: Path, *, flip: bool = True) -> Manifest:
        """Upload a built index as its generation (unless that generation exists intact) and flip the pointer to it.

        Raises ``IndexMissing``/``IndexCorrupt`` when the file fails verification (nothing is
        uploaded) and ``StoreUnavailable`` when the store fails (the pointer is then unchanged).
        """
        with db.self_contained(Path(index_path)) as artifact:  # a live WAL index ships as a rollback-journal copy
            return self._publish(artifact, flip)

    def _publish(self, index_path: Path, flip: bool) -> Manifest:
        with open_verified(index_path) as index:
            meta = dict(index.meta)
        generation = meta["generation"]
        manifest = self._read_manifest(generation)
        # An existing generation is kept as it is, unless the object behind its manifest is gone or
        # the wrong size: then it is repaired, so cold handlers stop answering 503.
        key = self._generation_key(generation, ARTIFACT)
        if manifest is None or self._size(key) != manifest.compressed_size:
            packed_path = index_path.with_name(f".{index_path.name}.{os.getpid()}.zst")
            try:
                raw, packed = compress(index_path, packed_path)
                manifest = Manifest(
                    generation=generation, sha256=raw.digest.hexdigest(), size=raw.size,
                    compressed_sha256=packed.digest.hexdigest(), compressed_size=packed.size,
                    schema_version=meta.get("schema_version", ""), pampax_version=meta.get("pampax_version", ""),
                    engine=meta.get("engine", ""), published_at=_now(),
                )
                # Index first, manifest second: the manifest is the commit marker of a generation.
                self._upload(key, packed_path)
            finally:
                packed_path.unlink(missing_ok=True)
            self._write(self._generation_key(generation, "manifest.json"), manifest.model_dump_json(indent=2).encode())
        if flip:
            self.flip(generation)
        return manifest

    def flip(self, generation: str) -> Pointer:
        """Point ``current`` at a published generation and return the new pointer.

        Raises ``InvalidArgument`` when no such generation was published, ``StoreUnavailable`` on failure.
        """
        if self._read_manifest(generation) is None:
            raise InvalidArgument(f"no generation {generation!r} in {self.location}")
        old = self.pointer()
        if old is not None and old.generation == generation:
            return old
        pointer = Pointer(generation=generation, previous=old.generation if old else None, updated_at=_now())
        self._write(POINTER_KEY, pointer.model_dump_json().encode())
        return pointer

    def rollback(self, to: str | None = None) -> Pointer:
        """Flip the pointer to ``to``, or back to the generation it pointed at before the last flip.

        Raises ``InvalidArgument`` when there is nothing to roll back to or ``to`` was never published.
        """
        if to is None:
            current = self.pointer()
            if current is None or current.previous is None:
                raise InvalidArgument(f"{self.location} has no previous generation to roll back to")
            to = current.previous
        return self.flip(to)

    # -- reading ------------------------------------------------------------------------------

    def pointer(self) -> Pointer | None:
        """Return the current pointer, or None before the first publish. Raises ``StoreUnavailable``."""
        return self._read_model(POINTER_KEY, Pointer)

    def manifest(self, generation: str) -> Manifest:
        """Return a published generation's manifest. Raises ``StoreUnavailable`` when it is missing."""
        manifest = self._read_manifest(generation)
        if manifest is None:
            raise StoreUnavailable(f"{self.location} has no manifest for generation {generation}")
        return manifest

    def fetch(self, manifest: Manifest, dest: Path) -> Path:
        """Return ``dest`` holding the generation's index, unpacked, its sizes and sha256s verified on the way.

        The download streams into a temporary name beside ``dest`` and is renamed only once verified,
        so ``dest`` is never a half-written file; a refused download is deleted. A ``dest`` that
        already matches is kept (a warm sandbox's /tmp survives a process restart). Raises
        ``StoreUnavailable`` when the object is missing or the store fails, ``IndexCorrupt`` when the
        bytes do not match the manifest (too many, too few, not zstd, another digest).
        """
        dest = Path(dest)
        if dest.is_file() and dest.stat().st_size == manifest.size and sha256_file(dest) == manifest.sha256:
            return dest
        partial = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as out:
                sink = _Unpacking(manifest, out)
                if not self._download(self._generation_key(manifest.generation, ARTIFACT), sink):
                    raise StoreUnavailable(f"{self.location} has a manifest but no index file for generation {manifest.generation}")
            sink.verify()
            os.replace(partial, dest)
        except OSError as exc:  # a full or unwritable /tmp: nothing usable was fetched
            raise StoreUnavailable(f"cannot fetch generation {manifest.generation} to {dest}: {exc.strerror or exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
        return dest

    def fetch_source(self, key: str, dest: Path) -> Path:
        """Return ``dest`` holding the source archive stored at ``key`` (which must start with ``sources/``).

        Raises ``InvalidArgument`` for a key outside ``sources/`` or a missing archive, ``StoreUnavailable`` on failure.
        """
        if not key.startswith(SOURCES) or ".." in key.split("/"):
            raise InvalidArgument(f"source {key!r} must be a key under {SOURCES}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "wb") as out:
            found = self._download(key, out)
        if not found:
            dest.unlink(missing_ok=True)
            raise InvalidArgument(f"no source archive {key!r} in {self.location}")
        return dest

    # -- keys and parsing ---------------------------------------------------------------------

    def _generation_key(self, generation: str, name: str) -> str:
        if not re.fullmatch(_GENERATION, generation):
            raise InvalidArgument(f"{generation!r} is not a generation id")
        return f"{GENERATIONS}/{generation}/{name}"

    def _read_manifest(self, generation: str) -> Manifest | None:
        return self._read_model(self._generation_key(generation, "manifest.json"), Manifest)

    def _read_model(self, key: str, model: type[BaseModel]):
        data = self._read(key)
        if data is None:
            return None
        try:
            return model.model_validate(json.loads(data))
        except (ValueError, ValidationError) as exc:
            raise StoreUnavailable(f"{self.location}: {key} is unreadable: {type(exc).__name__}") from exc

    # -- the adapter's part -------------------------------------------------------------------

    @abstractmethod
    def _read(self, key: str) -> bytes | None:
        """Return a small object's bytes, or None when it does not exist. Raises ``StoreUnavailable``."""

    @abstractmethod
    def _write(self, key: str, data: bytes) -> None:
        """Replace a small object atomically (readers see the old or the new bytes). Raises ``StoreUnavailable``."""

    @abstractmethod
    def _upload(self, key: str, path: Path) -> None:
        """Store a (large) file under ``key``. Raises ``StoreUnavailable``."""

    @abstractmethod
    def _size(self, key: str) -> int | None:
        """Return a stored object's size in bytes, or None when it does not exist. Raises ``StoreUnavailable``."""

    @abstractmethod
    def _download(self, key: str, out: BinaryIO) -> bool:
        """Write the bytes of ``key`` to ``out`` in order; return False when it does not exist.

        Raises ``StoreUnavailable``; what ``out.write`` raises (``IndexCorrupt``, ``OSError``) passes through.
        """
