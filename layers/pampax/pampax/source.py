"""Read lines of a file under the repository root: the one place a request's path reaches the disk.

The path is the caller's data. It is resolved (symlinks included) and must land inside the root,
so ``../../etc/passwd``, an absolute path or a link out of the tree is refused, never read.
"""

from __future__ import annotations

from pathlib import Path

from .analyze import decode
from .errors import InvalidArgument, PathNotFound
from .models import ReadSpanRequest, SpanText

# Lines returned when a request names no end: a screenful of context, not a whole module.
DEFAULT_SPAN_LINES = 200
MAX_SPAN_LINES = 2000


def resolve_inside(root: Path, path: str) -> Path:
    """Return ``root/path`` resolved. Raises ``InvalidArgument`` when it lies outside the root."""
    root = root.resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root):
        raise InvalidArgument(f"{path}: outside the repository root; paths are repository-relative")
    return candidate


def read_span(root: Path, request: ReadSpanRequest, generation: str) -> SpanText:
    """Return lines ``start_line``..``end_line`` of a file as it is on disk now.

    Raises ``InvalidArgument`` for a path outside the root or an inverted or oversized range,
    ``PathNotFound`` when the file does not exist.
    """
    target = resolve_inside(root, request.path)
    end = request.end_line if request.end_line is not None else request.start_line + DEFAULT_SPAN_LINES - 1
    if end < request.start_line:
        raise InvalidArgument(f"end_line {end} is before start_line {request.start_line}")
    if end - request.start_line + 1 > MAX_SPAN_LINES:
        raise InvalidArgument(f"at most {MAX_SPAN_LINES} lines per read")
    if not target.is_file():
        raise PathNotFound(f"{request.path} is not a file under the repository root")
    lines = decode(target.read_bytes()).split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start another
    end = min(end, len(lines))
    text = "\n".join(lines[request.start_line - 1: end])
    return SpanText(path=target.relative_to(root.resolve()).as_posix(), start_line=request.start_line, end_line=end,
                    total_lines=len(lines), generation=generation, text=text)
