"""The search knobs and filters ``pampax search`` and ``pampax assemble`` share, as CLI options.

Each becomes the request field of the same name (``pampax.models``), so the CLI, HTTP and MCP take
the same values; ``--path`` and ``--exclude`` are also read from the working directory (``repo_paths``).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from pampax_local.command import find_index
from pampax_local.repo_paths import rebased


class Intent(str, Enum):
    auto = "auto"
    identifier = "identifier"
    error = "error"
    question = "question"
    bug_report = "bug_report"


class Policy(str, Enum):
    code = "code"
    code_tests = "code+tests"
    all = "all"


PathOption = Annotated[Optional[list[str]], typer.Option("--path", metavar="GLOB", help="glob a result's path must match, from the repository root or the working directory; repeatable")]
ExcludeOption = Annotated[Optional[list[str]], typer.Option("--exclude", metavar="GLOB", help="glob a result's path must not match, read as --path is; repeatable")]
LangOption = Annotated[Optional[list[str]], typer.Option("--lang", metavar="L", help="language to keep, e.g. python; repeatable")]
KindOption = Annotated[Optional[list[str]], typer.Option("--kind", metavar="K", help="symbol kind to keep, e.g. function; repeatable")]
IntentOption = Annotated[Intent, typer.Option("--intent", help="how to read the query; auto detects it (the response's explain says which)")]
PolicyOption = Annotated[Policy, typer.Option("--policy", help="code: tests, docs and scripts rank below code; code+tests: tests rank as code; all: nothing is demoted")]
DocsOption = Annotated[bool, typer.Option("--docs/--no-docs", help="--no-docs: leave docs, data and config (files in no parsed language) out")]


def knob_fields(index: Optional[Path], path: Optional[list[str]], exclude: Optional[list[str]], lang: Optional[list[str]],
                kind: Optional[list[str]], intent: Intent, policy: Policy, docs: bool) -> dict:
    """Return the request fields of the shared options."""
    where = find_index(index) if path or exclude else None
    return {
        "paths": rebased(path, where, Path.cwd()) if path else (),
        "excludes": rebased(exclude, where, Path.cwd()) if exclude else (),
        "langs": lang or (), "kinds": kind or (), "intent": intent.value, "policy": policy.value, "docs": docs,
    }
