"""The ``pampax`` command: thin Typer wrappers that build core requests and print core responses.

Every command prints the same JSON as the HTTP API (``--format json``) or a human form, and every
failure ends in one line on stderr and the exit code of its error kind (``pampax.errors``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from pydantic import BaseModel

from pampax import assemble as bundles
from pampax import search as searching
from pampax.config import ResolvedConfig, load_config
from pampax.errors import InvalidArgument, PampaxError, exit_code_for
from pampax.index import DEFAULT_INDEX, build_index, open_index
from pampax.models import AssembleRequest, SearchRequest, validate

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Index a repository, search it, and assemble token-budgeted context bundles.",
)


class SearchFormat(str, Enum):
    json = "json"
    text = "text"


class BundleFormat(str, Enum):
    json = "json"
    md = "md"


IndexOption = Annotated[
    Optional[Path],
    typer.Option("--index", help="index file (default: the nearest .pampax/index.db above the working directory)"),
]


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[Optional[Path], typer.Option("--config", help="pampax.toml to read (else $PAMPAX_CONFIG, else ./pampax.toml)")] = None,
) -> None:
    ctx.obj = config


def _config(ctx: typer.Context, flags: dict[str, Any] | None = None) -> ResolvedConfig:
    return load_config(ctx.find_root().obj, flags=flags)


def _run(action: Callable[[], Any], json_errors: bool = False) -> Any:
    """Run ``action``; turn a ``PampaxError`` into one stderr line (plus the JSON body) and its exit code."""
    try:
        return action()
    except PampaxError as exc:
        if json_errors:
            _print_json(exc.to_dict())
        typer.echo(f"pampax: {exc.kind}: {exc.message}", err=True)
        raise typer.Exit(exc.code) from None
    except KeyboardInterrupt:
        typer.echo("pampax: interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:  # the last line of defence: one line, never a traceback
        typer.echo(f"pampax: internal: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(exit_code_for("internal")) from None


def _print_json(data: BaseModel | dict) -> None:
    body = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")


def _find_index(index: Path | None) -> Path:
    """Return ``--index``, else the nearest ``.pampax/index.db`` in the working directory or above it."""
    if index is not None:
        return index
    here = Path.cwd().resolve()
    for directory in (here, *here.parents):
        if (directory / DEFAULT_INDEX).is_file():
            return directory / DEFAULT_INDEX
    return here / DEFAULT_INDEX


def _progress_bar():
    """Return a (progress callback, context manager) pair: a rich bar on a TTY, nothing when piped."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress("parsing", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
    task = bar.add_task("parse", total=None)
    return (lambda done, total: bar.update(task, completed=done, total=total)), bar


@app.command()
def index(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="repository root to index")],
    index: Annotated[Optional[Path], typer.Option("--index", help="index file (default: PATH/.pampax/index.db)")] = None,
    full: Annotated[bool, typer.Option("--full", help="reparse every file, even unchanged ones")] = False,
) -> None:
    """Build or refresh the index of a repository; prints a JSON report.

    Example: pampax index ~/src/django
    """
    def action():
        settings = _config(ctx).config.index
        progress, bar = _progress_bar()
        if bar is None:
            return build_index(path, index, settings, full=full)
        with bar:
            return build_index(path, index, settings, full=full, progress=progress)

    _print_json(_run(action))


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="identifier, error text, question or a whole bug report")],
    index: IndexOption = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="results to return (default: search.limit)")] = None,
    path: Annotated[Optional[list[str]], typer.Option("--path", help="glob a result's path must match; repeatable")] = None,
    lang: Annotated[Optional[list[str]], typer.Option("--lang", help="language to keep, e.g. python; repeatable")] = None,
    kind: Annotated[Optional[list[str]], typer.Option("--kind", help="symbol kind to keep, e.g. function; repeatable")] = None,
    format: Annotated[SearchFormat, typer.Option("--format", help="json or text")] = SearchFormat.json,
) -> None:
    """Search the index; every hit says why it scored (``explain``).

    Example: pampax search "QuerySet.filter" --lang python --limit 5
    """
    json_out = format is SearchFormat.json

    def action():
        settings = _config(ctx).config.search
        request = validate(SearchRequest, {
            "query": query, "limit": settings.limit if limit is None else limit, "paths": path or (), "langs": lang or (),
            "kinds": kind or (),
        }, InvalidArgument)
        with open_index(_find_index(index)) as opened:
            return searching.search(opened, request, settings)

    response = _run(action, json_errors=json_out)
    if json_out:
        _print_json(response)
        return
    for hit in response.results:
        typer.echo(f"{hit.path}:{hit.start_line}-{hit.end_line}  {hit.symbol or '-'}  ({hit.kind}, {hit.score})")
        for line in hit.snippet.splitlines():
            typer.echo(f"    {line}")


@app.command()
def assemble(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="what the bundle should let an agent work on")],
    budget: Annotated[int, typer.Option("--budget", help="token budget for the bundle's items")],
    index: IndexOption = None,
    seeds: Annotated[Optional[int], typer.Option("--seeds", help="search hits that seed the bundle")] = None,
    max_items: Annotated[Optional[int], typer.Option("--max-items", help="items the bundle may hold")] = None,
    format: Annotated[BundleFormat, typer.Option("--format", help="json or md")] = BundleFormat.json,
) -> None:
    """Assemble a token-budgeted context bundle with evidence, stop reason and token report.

    Example: pampax assemble "why does get_object_or_404 raise Http404" --budget 8000 --format md
    """
    json_out = format is BundleFormat.json

    def action():
        config = _config(ctx).config
        request = validate(AssembleRequest, {
            "query": query, "budget": budget, "seeds": config.assemble.seeds if seeds is None else seeds,
            "max_items": config.assemble.max_items if max_items is None else max_items,
        }, InvalidArgument)
        with open_index(_find_index(index)) as opened:
            return bundles.assemble(opened, request, config.search)

    bundle = _run(action, json_errors=json_out)
    if json_out:
        _print_json(bundle)
    else:
        sys.stdout.write(bundles.to_markdown(bundle))


config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective config and where each value came from.

    Example: PAMPAX_SEARCH_LIMIT=20 pampax config show
    """
    resolved = _run(lambda: _config(ctx))
    config = resolved.config.model_dump(mode="json")
    _print_json({
        "file": resolved.file,
        "settings": {
            f"{section}.{key}": {"value": value, "source": resolved.sources[f"{section}.{key}"]}
            for section, values in config.items() for key, value in values.items()
        },
    })


def main() -> None:
    app()
