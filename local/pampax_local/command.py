"""What every ``pampax`` command shares: option types, config, error handling and JSON output.

``cli.py``, ``cloud.py`` and ``harness.py`` all build on these, so a failure looks the same from
every command: one line on stderr and the exit code of its error kind.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from pydantic import BaseModel

from pampax.config import ResolvedConfig, load_config
from pampax.errors import PampaxError
from pampax.index import DEFAULT_INDEX


class JsonOrText(str, Enum):
    json = "json"
    text = "text"


IndexOption = Annotated[
    Optional[Path],
    typer.Option("--index", help="index file (default: the nearest .pampax/index.db above the working directory)"),
]


def config_of(ctx: typer.Context) -> ResolvedConfig:
    """Return the effective config for the root options (``--config``, log flags) of this invocation."""
    path, flags = ctx.find_root().obj
    return load_config(path, flags=flags)


def run(action: Callable[[], Any], json_errors: bool = False) -> Any:
    """Run ``action``; turn a ``PampaxError`` into one stderr line (plus the JSON body) and its exit code."""
    try:
        return action()
    except KeyboardInterrupt:
        typer.echo("pampax: interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:
        # Anything else is the last line of defence: still one line and the body, never a traceback.
        error = exc if isinstance(exc, PampaxError) else PampaxError(f"{type(exc).__name__}: {exc}")
        if json_errors:
            print_json(error.to_dict())
        typer.echo(f"pampax: {error.kind}: {error.message}", err=True)
        raise typer.Exit(error.code) from None


def print_json(data: BaseModel | dict) -> None:
    body = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")


def find_index(index: Path | None) -> Path:
    """Return ``--index``, else the nearest ``.pampax/index.db`` in the working directory or above it."""
    if index is not None:
        return index
    here = Path.cwd().resolve()
    for directory in (here, *here.parents):
        if (directory / DEFAULT_INDEX).is_file():
            return directory / DEFAULT_INDEX
    return here / DEFAULT_INDEX
