"""What every ``pampax`` command shares: option types, config, error handling and JSON output.

``cli.py``, ``cloud.py`` and ``harness.py`` all build on these, so a failure looks the same from
every command: one line on stderr and the exit code of its error kind.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer
from pydantic import BaseModel
from typer._click import Context
# Typer vendors click from 0.29 on; its usage errors are these, not the click package's.
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from pampax.config import ObservabilitySettings, ResolvedConfig, load_config
from pampax.errors import InvalidArgument, PampaxError, RouteNotFound
from pampax.index import DEFAULT_INDEX


class JsonOrText(str, Enum):
    json = "json"
    text = "text"


IndexOption = Annotated[
    Optional[Path],
    typer.Option("--index", metavar="FILE", help="index file (default: the nearest .pampax/index.db above the working directory)"),
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
        fail(error)


def fail(error: PampaxError) -> NoReturn:
    """Print ``error``'s one line on stderr and exit with its kind's code."""
    typer.echo(f"pampax: {error.kind}: {error.message}", err=True)
    raise typer.Exit(error.code) from None


@contextmanager
def _usage_errors() -> Iterator[None]:
    try:
        yield
    except NoArgsIsHelpError:
        raise  # a bare group: its help, as asked for
    except UsageError as exc:
        # click has no type of its own for an unknown command, only this message.
        kind = RouteNotFound if exc.message.startswith("No such command") else InvalidArgument
        fail(kind(exc.format_message()))


class OneLineErrors(TyperGroup):
    """The root command group: a usage error (a bad or missing flag, an unknown command) is one line
    ``pampax: <kind>: <message>`` and its kind's exit code, like every other failure, not click's box.

    Subcommands' arguments are parsed inside the root's ``invoke``, so the root alone catches them all.
    """

    def make_context(self, info_name, args, parent=None, **extra) -> Context:
        with _usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        with _usage_errors():
            return super().invoke(ctx)


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


def metrics_path(settings: ObservabilitySettings, index_path: Path) -> Path:
    """Return where the CLI's metrics go: ``observability.metrics_file``, else ``metrics.jsonl`` beside the index."""
    return Path(settings.metrics_file) if settings.metrics_file else index_path.parent / "metrics.jsonl"
