"""The artifact store port: immutable index generations, a small ``current`` pointer, and source archives.

Layout under the store's root (a directory or ``s3://bucket/prefix``)::

    generations/<id>/index.db        the index file, never overwritten
    generations/<id>/manifest.json   sha256, size, schema and pampax versions; written last
    current.json                     {"generation", "previous", "updated_at"}: the one mutable object
    sources/...                      archives that index jobs build from

``<id>`` is the index's own generation: a digest of every source file's hash plus the schema and
pampax versions, so the id names the content. The manifest is written only after the index file, so
a generation without a manifest was never published and nothing reads it. Rollback is a pointer
flip. Everything here is concrete; an adapter fills in the byte-moving methods at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, StringConstraints, ValidationError

from .. import db
from ..errors import IndexCorrupt, InvalidArgument, StoreUnavailable
from ..index import Index, open_index

POINTER_KEY = "current.json"
GENERATIONS = "generations"
SOURCES = "sources/"
_CHUNK = 1 << 20


# Generation ids are hex digests; anything else (``../../x``) could walk the key space. Named by a
# caller it is a bad argument; named by a stored pointer or manifest, a broken store.
_GENERATION = r"^[A-Za-z0-9]{1,128}$"
GenerationId = Annotated[str, StringConstraints(pattern=_GENERATION)]


class Manifest(BaseModel):
    """What a published generation is: the bytes' digest and size, and what built them."""

    generation: GenerationId
    sha256: str
    size: int
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


def open_verified(path: Path) -> Index:
    """Return the index at ``path`` opened read-only after ``PRAGMA quick_check`` passed.

    Raises ``IndexMissing`` or ``IndexCorrupt`` (unreadable, foreign schema, failed check). Used before
    publishing and after fetching, so a damaged file is neither uploaded nor served.
    """
    index = open_index(path)
    try:
        rows = index.conn.execute("PRAGMA quick_check").fetchall()
    except db.Error as exc:
        index.close()
        raise IndexCorrupt(f"{path} fails PRAGMA quick_check: {exc}") from exc
    if rows != [("ok",)]:
        index.close()
        raise IndexCorrupt(f"{path} fails PRAGMA quick_check: {rows[0][0]}")
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
        if manifest is None or self._size(self._generation_key(generation, "index.db")) != manifest.size:
            manifest = Manifest(
                generation=generation, sha256=sha256_file(index_path), size=index_path.stat().st_size,
                schema_version=meta.get("schema_version", ""), pampax_version=meta.get("pampax_version", ""),
                engine=meta.get("engine", ""), published_at=_now(),
            )
            # Index first, manifest second: the manifest is the commit marker of a generation.
            self._upload(self._generation_key(generation, "index.db"), index_path)
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
        """Return ``dest`` holding the generation's index, its size and sha256 verified.

        The download goes to a temporary name beside ``dest`` and is renamed only once verified, so
        ``dest`` is never a half-written file. A ``dest`` that already matches is kept (a warm
        sandbox's /tmp survives a process restart). Raises ``StoreUnavailable`` when the object is
        missing or the store fails, ``IndexCorrupt`` when the bytes do not match the manifest.
        """
        dest = Path(dest)
        if dest.is_file() and dest.stat().st_size == manifest.size and sha256_file(dest) == manifest.sha256:
            return dest
        partial = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not self._download(self._generation_key(manifest.generation, "index.db"), partial):
                raise StoreUnavailable(f"{self.location} has a manifest but no index file for generation {manifest.generation}")
            size, digest = partial.stat().st_size, sha256_file(partial)
            if (size, digest) != (manifest.size, manifest.sha256):
                raise IndexCorrupt(
                    f"generation {manifest.generation} from {self.location} is corrupt: "
                    f"{size} bytes with sha256 {digest[:12]}…, manifest says {manifest.size} bytes, {manifest.sha256[:12]}…"
                )
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
        if not self._download(key, dest):
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
    def _download(self, key: str, path: Path) -> bool:
        """Copy ``key`` to ``path``; return False when it does not exist. Raises ``StoreUnavailable``."""
