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
from pampax.errors import PampaxError, exit_code_for
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
    except PampaxError as exc:
        if json_errors:
            print_json(exc.to_dict())
        typer.echo(f"pampax: {exc.kind}: {exc.message}", err=True)
        raise typer.Exit(exc.code) from None
    except KeyboardInterrupt:
        typer.echo("pampax: interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:  # the last line of defence: one line, never a traceback
        typer.echo(f"pampax: internal: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(exit_code_for("internal")) from None


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
