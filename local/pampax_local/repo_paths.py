"""``--path`` read as ``rg`` and ``git`` read paths: from the working directory, as well as from the root.

The index stores repository-relative paths. From a working directory inside the repository, a
pattern is also rebased from there (``users.py`` in ``shop/`` is ``shop/users.py``; ``../web``
is ``web``), and both forms are kept, so a repository-relative pattern keeps working too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def rebased(patterns: Iterable[str], index: Path, cwd: Path) -> tuple[str, ...]:
    """Return ``patterns`` plus each one rebased from ``cwd`` onto the root of ``index``.

    The root is known only for a repository's own index (``ROOT/.pampax/index.db``); for any other
    index file, and for a pattern that leads out of the root, the pattern is kept as given.
    """
    patterns = tuple(patterns)
    if index.parent.name != ".pampax":
        return patterns
    root, here = index.parent.parent.resolve(), cwd.resolve()
    out = list(patterns)
    for pattern in patterns:
        target = Path(os.path.normpath(here / pattern))
        if target == root:
            out.append("*")
        elif target.is_relative_to(root):
            out.append(target.relative_to(root).as_posix())
    return tuple(dict.fromkeys(out))
