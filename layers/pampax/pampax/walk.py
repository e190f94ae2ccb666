"""Find the files of a repository worth indexing: honour .gitignore, skip junk, stay inside the root.

Yields paths relative to the root in sorted order, so every build sees the tree the same way.
Files are judged by name here; content checks (binary, size, minified) happen where the bytes are read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

# Directories no one wants in a code index: VCS metadata, virtualenvs, dependency and build output.
IGNORED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", "env", ".env", "node_modules", "bower_components",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".eggs", "build", "dist",
    "target", ".gradle", ".idea", ".vscode", ".pampax", ".aws-sam", ".next", ".cache", "coverage", "htmlcov",
})
IGNORED_SUFFIXES = (".egg-info", ".dist-info")


@dataclass(frozen=True, slots=True)
class _Ignore:
    base: str  # directory (relative to root, "" for root) whose .gitignore this is
    spec: pathspec.GitIgnoreSpec


def iter_files(root: Path) -> Iterator[str]:
    """Yield the repository's candidate files as sorted POSIX paths relative to ``root``.

    Symlinked files are kept only when they resolve inside ``root``; symlinked directories are never
    entered, which rules out both escapes and cycles. A directory that cannot be read (or whose
    ``.gitignore`` cannot) is skipped, not fatal. The walk keeps its own stack, so no nesting depth
    can exhaust Python's recursion limit.
    """
    root = root.resolve()
    # Entries are pushed in reverse, so popping yields them in sorted order, depth first. Directories
    # travel as strings: pathlib's parsing was most of a Django refresh's walk.
    stack: list[tuple[os.DirEntry | None, str, list[_Ignore]]] = [(None, "", [])]
    while stack:
        entry, rel, ignores = stack.pop()
        if entry is not None and not entry.is_dir(follow_symlinks=False):
            yield rel
            continue
        directory = entry.path if entry is not None else str(root)
        ignores = ignores + _load_gitignore(directory, rel)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        children = []
        for child_entry in entries:
            child = f"{rel}/{child_entry.name}" if rel else child_entry.name
            if child_entry.is_dir(follow_symlinks=False):
                if not (child_entry.name in IGNORED_DIRS or child_entry.name.endswith(IGNORED_SUFFIXES)
                        or _is_ignored(child + "/", ignores)):
                    children.append((child_entry, child, ignores))
            elif child_entry.is_file(follow_symlinks=False) or (
                    child_entry.is_symlink() and _is_inside_file(root, child_entry.path)):
                if not _is_ignored(child, ignores):
                    children.append((child_entry, child, ignores))
        stack.extend(reversed(children))


def _load_gitignore(directory: str, rel: str) -> list[_Ignore]:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:  # absent, a directory, or unreadable: no rules from here
        return []
    return [_Ignore(rel, pathspec.GitIgnoreSpec.from_lines(lines))]


def _is_ignored(child: str, ignores: list[_Ignore]) -> bool:
    for ignore in ignores:
        local = child[len(ignore.base) + 1:] if ignore.base else child
        if ignore.spec.match_file(local):
            return True
    return False


def _is_inside_file(root: Path, link: str) -> bool:
    target = Path(os.path.realpath(link))
    return target.is_file() and target.is_relative_to(root)

