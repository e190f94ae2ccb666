"""The index a long-lived local process serves (``pampax mcp``, ``pampax watch``): opened once, kept
warm, refreshed while files change, and followed across refreshes.

Reads and refreshes never share a connection. A refresh writes in place through its own
connection (``build.py``), and a reader's next ``snapshot`` sees the committed generation; a full
rebuild swaps in a new file, which ``snapshot`` notices by its inode and reopens.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from .build import build_index, pending_changes, resolve_root
from .config import IndexSettings
from .errors import IndexMissing
from .index import Index
from .models import IndexReport, IndexStatus


class LiveIndex:
    def __init__(self, root: Path, path: Path, settings: IndexSettings = IndexSettings()):
        """Raises ``PathNotFound`` / ``NotADirectory`` for a bad root; the index itself may not exist yet."""
        self.root = resolve_root(root)
        self.path = path
        self.settings = settings
        self.watching = False
        self._index: Index | None = None
        self._inode: int | None = None
        self._refreshing = threading.Lock()  # one refresh at a time: the watcher's and the refresh tool's

    @contextmanager
    def snapshot(self) -> Iterator[Index]:
        """Yield the current index inside one read transaction (an ``IndexProvider`` for ``Service``)."""
        index = self._current()
        with index.snapshot():
            yield index

    def refresh(self, full: bool = False) -> IndexReport:
        """Bring the index up to date with the tree and return the build report (thread-safe)."""
        with self._refreshing:
            return build_index(self.root, self.path, self.settings, full=full)

    def status(self) -> IndexStatus:
        """Return the generation, its age and the files a refresh would read now."""
        with self.snapshot() as index:
            generation, built_at = index.generation, index.meta.get("built_at")
        age = int(time.time() - datetime.fromisoformat(built_at).timestamp()) if built_at else None
        return IndexStatus(root=str(self.root), index=str(self.path), generation=generation, built_at=built_at,
                           age_seconds=age, watching=self.watching,
                           changed=pending_changes(self.root, self.path, self.settings))

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def _current(self) -> Index:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            raise IndexMissing(f"no index at {self.path}: run `pampax index {self.root}` first") from None
        if self._index is None or inode != self._inode:
            self.close()
            self._index, self._inode = Index(self.path), inode
        return self._index
