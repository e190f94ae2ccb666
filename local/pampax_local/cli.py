"""The ``pampax`` command: thin Typer wrappers that build core requests and print core responses.

Every command prints the same JSON as the HTTP API (``--format json``) or a human form, and every
failure ends in one line on stderr and the exit code of its error kind (``pampax.errors``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from pydantic import BaseModel

from pampax import assemble as bundles
from pampax.cache import ReadThroughCache
from pampax.config import Config, ResolvedConfig, load_config
from pampax.dashboard import render_text, summarize
from pampax.errors import ConfigInvalid, InvalidArgument, PampaxError, PathNotFound, exit_code_for
from pampax.index import DEFAULT_INDEX, open_index
from pampax.models import (
    AssembleRequest,
    CacheClearRequest,
    CacheWarmRequest,
    SearchRequest,
    validate,
)
from pampax.observability import MetricsSink, Telemetry, make_logger
from pampax.service import Service
from pampax.stores import open_cache_store
from pampax_local.cloud import cloud_app
from pampax_local.harness import local_app

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Index a repository, search it, and assemble token-budgeted context bundles.",
)


class JsonOrText(str, Enum):
    json = "json"
    text = "text"


class BundleFormat(str, Enum):
    json = "json"
    md = "md"


class Scope(str, Enum):
    search = "search"
    bundle = "bundle"


IndexOption = Annotated[
    Optional[Path],
    typer.Option("--index", help="index file (default: the nearest .pampax/index.db above the working directory)"),
]


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[Optional[Path], typer.Option("--config", help="pampax.toml to read (else $PAMPAX_CONFIG, else ./pampax.toml)")] = None,
    log_format: Annotated[Optional[JsonOrText], typer.Option("--log-format", help="stderr log lines: json or text (default: JSON when piped)")] = None,
    log_level: Annotated[Optional[str], typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR")] = None,
) -> None:
    flags = {"observability.log_format": log_format.value if log_format else None, "observability.log_level": log_level}
    ctx.obj = (config, flags)


def _config(ctx: typer.Context) -> ResolvedConfig:
    path, flags = ctx.find_root().obj
    return load_config(path, flags=flags)


def _telemetry(resolved: ResolvedConfig, index_path: Path) -> Telemetry:
    """Return CLI telemetry: schema log lines on stderr, EMF documents appended to the metrics file."""
    settings = resolved.config.observability
    metrics = Path(settings.metrics_file) if settings.metrics_file else index_path.parent / "metrics.jsonl"
    return Telemetry(settings, make_logger(settings, "cli", sys.stderr), MetricsSink(path=metrics))


def _service(resolved: ResolvedConfig, index: Path | None) -> Service:
    """Return the local service: the index file opened per call, the cache file beside it (or DynamoDB)."""
    index_path = _find_index(index)
    telemetry = _telemetry(resolved, index_path)
    cache = ReadThroughCache(open_cache_store(resolved.config, index_path.parent / "cache.db"),
                             resolved.config.cache, telemetry)
    return Service(resolved.config, lambda: open_index(index_path), telemetry, cache)


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
    from pampax.build import build_index  # the parser and writer load only for this command

    def action():
        resolved = _config(ctx)
        telemetry = _telemetry(resolved, index or path / DEFAULT_INDEX)
        progress, bar = _progress_bar()
        with telemetry.operation("index"), bar or nullcontext():
            return build_index(path, index, resolved.config.index, full=full, progress=progress)

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
    format: Annotated[JsonOrText, typer.Option("--format", help="json or text")] = JsonOrText.json,
) -> None:
    """Search the index; every hit says why it scored (``explain``).

    Example: pampax search "QuerySet.filter" --lang python --limit 5
    """
    json_out = format is JsonOrText.json

    def action():
        service = _service(_config(ctx), index)
        request = validate(SearchRequest, {
            "query": query, "limit": service.config.search.limit if limit is None else limit, "paths": path or (),
            "langs": lang or (), "kinds": kind or (),
        }, InvalidArgument)
        return service.search(request)

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
        service = _service(_config(ctx), index)
        config = service.config
        request = validate(AssembleRequest, {
            "query": query, "budget": budget, "seeds": config.assemble.seeds if seeds is None else seeds,
            "max_items": config.assemble.max_items if max_items is None else max_items,
        }, InvalidArgument)
        return service.assemble(request)

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


@app.command()
def health(ctx: typer.Context, index: IndexOption = None) -> None:
    """Print a JSON health report; exit 0 when healthy, else the exit code of the first failed check.

    Example: pampax health --index ~/src/django/.pampax/index.db
    """
    def action():
        try:
            resolved, error = _config(ctx), None
        except ConfigInvalid as exc:  # still check the index and the cache, on default settings
            resolved, error = ResolvedConfig(config=Config(), sources={}, file=None), exc
        return _service(resolved, index).health(config_error=error)

    report = _run(action)
    _print_json(report)
    failed = next((c for c in report.checks if not c.ok), None)
    if failed is not None:
        raise typer.Exit(exit_code_for(failed.err_kind or "internal"))


cache_app = typer.Typer(help="Warm or clear the read-through cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("warm")
def cache_warm(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="a repository (warms its most-called names) or a query file (JSON query set or one query per line)")],
    index: IndexOption = None,
    budget: Annotated[int, typer.Option("--budget", help="budget of the bundles warmed")] = 8000,
) -> None:
    """Replay queries against the current generation so later identical requests hit the cache.

    Example: pampax cache warm benchmarks/queries/django.json --index ~/src/django/.pampax/index.db
    """
    def action():
        if source.is_dir():
            queries, where = (), index or source / DEFAULT_INDEX
        else:
            queries, where = _read_queries(source), index
        request = validate(CacheWarmRequest, {"queries": queries, "budget": budget}, InvalidArgument)
        return _service(_config(ctx), where).warm(request)

    _print_json(_run(action))


@cache_app.command("clear")
def cache_clear(
    ctx: typer.Context,
    index: IndexOption = None,
    all_: Annotated[bool, typer.Option("--all", help="clear every scope (the default)")] = False,
    scope: Annotated[Optional[Scope], typer.Option("--scope", help="clear one scope: search or bundle")] = None,
) -> None:
    """Delete cached entries and print how many were removed.

    Example: pampax cache clear --scope search
    """
    def action():
        if all_ and scope:
            raise InvalidArgument("--all and --scope exclude each other")
        return _service(_config(ctx), index).clear(CacheClearRequest(scope=scope.value if scope else "all"))

    _print_json(_run(action))


metrics_app = typer.Typer(help="Read the metrics pampax emitted.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")


@metrics_app.command("summary")
def metrics_summary(
    ctx: typer.Context,
    file: Annotated[Optional[Path], typer.Argument(help="EMF metrics file (default: metrics.jsonl beside the index)")] = None,
    index: IndexOption = None,
    since: Annotated[Optional[float], typer.Option("--since", help="only the last N seconds")] = None,
    format: Annotated[JsonOrText, typer.Option("--format", help="text or json")] = JsonOrText.text,
) -> None:
    """Print p50/p95/max per latency metric, the cache hit ratio and errors by kind.

    Example: pampax metrics summary --since 3600
    """
    def action():
        settings = _config(ctx).config.observability
        path = file or (Path(settings.metrics_file) if settings.metrics_file else _find_index(index).parent / "metrics.jsonl")
        if not path.is_file():
            raise PathNotFound(f"no metrics file at {path}")
        since_ms = int((time.time() - since) * 1000) if since is not None else None
        with path.open(encoding="utf-8") as lines:
            return summarize(lines, since_ms)

    summary = _run(action)
    if format is JsonOrText.json:
        _print_json(summary)
    else:
        sys.stdout.write(render_text(summary))


def _read_queries(path: Path) -> tuple[str, ...]:
    """Return the queries of a JSON query set (``{"queries": [{"query": ...}]}``) or a one-per-line text file."""
    if not path.is_file():
        raise PathNotFound(f"{path} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            return tuple(q["query"] for q in json.loads(text)["queries"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidArgument(f"{path}: not a query set ({exc})") from exc
    return tuple(line.strip() for line in text.splitlines() if line.strip())


app.add_typer(cloud_app)  # publish, rollback
app.add_typer(local_app, name="local")


def main() -> None:
    app()
