"""The artifact store in a local directory: the second implementation of the port, for tests and the local harness."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from ..errors import InvalidArgument, StoreUnavailable
from .base import ArtifactStore


class LocalArtifactStore(ArtifactStore):
    """Keys are paths below ``root``; writes go to a temporary file and are renamed into place."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def location(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise InvalidArgument(f"key {key!r} leaves the store {self.root}")
        return path

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {path}: {exc.strerror}") from exc

    def _write(self, key: str, data: bytes) -> None:
        self._replace(key, lambda temporary: temporary.write_bytes(data))

    def _upload(self, key: str, path: Path) -> None:
        self._replace(key, lambda temporary: shutil.copyfile(path, temporary))

    def _size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable(f"cannot stat {path}: {exc.strerror}") from exc

    def _download(self, key: str, out: BinaryIO) -> bool:
        source = self._path(key)
        try:
            handle = open(source, "rb")
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {source}: {exc.strerror}") from exc
        with handle:
            shutil.copyfileobj(handle, out, 1 << 20)
        return True

    def _replace(self, key: str, write) -> None:
        target = self._path(key)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write(temporary)
            os.replace(temporary, target)
        except OSError as exc:
            raise StoreUnavailable(f"cannot write {target}: {exc.strerror}") from exc
        finally:
            temporary.unlink(missing_ok=True)
