"""The ``pampax`` command: thin Typer wrappers that build core requests and print core responses.

Every command prints the same JSON as the HTTP API (``--format json``) or a human form, and every
failure ends in one line on stderr and the exit code of its error kind (``pampax.errors``).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from pampax import __version__
from pampax.cache import ReadThroughCache
from pampax.config import Config, ResolvedConfig
from pampax.dashboard import metric_lines, render_text, summarize
from pampax.errors import ConfigInvalid, InvalidArgument, PampaxError, PathNotFound, exit_code_for
from pampax.index import DEFAULT_INDEX, open_index
from pampax.markdown import to_markdown
from pampax.models import (
    AssembleRequest,
    CacheClearRequest,
    CacheWarmRequest,
    SearchRequest,
    validate,
)
from pampax.observability import MetricsSink, Telemetry, make_logger
from pampax.service import IndexProvider, Service
from pampax.stores import open_cache_store
from pampax_local.analytics_export import analytics_app
from pampax_local.analyze_index import analyze_app
from pampax_local.background import jobs_command, spawn
from pampax_local.cloud import cloud_app
from pampax_local.command import (
    IndexOption, JsonOrText, OneLineErrors, config_of, find_index, metrics_path, print_json, run,
)
from pampax_local.knobs import (
    DocsOption, ExcludeOption, Intent, IntentOption, KindOption, LangOption, PathOption, Policy, PolicyOption, knob_fields,
)
from pampax_local.local_commands import local_app

app = typer.Typer(
    cls=OneLineErrors, rich_markup_mode=None, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Index a repository, search it, and assemble token-budgeted context bundles.",
)


class BundleFormat(str, Enum):
    json = "json"
    md = "md"


class Group(str, Enum):
    chunk = "chunk"
    file = "file"


class Scope(str, Enum):
    search = "search"
    bundle = "bundle"
    all = "all"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"pampax {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[Optional[Path], typer.Option("--config", metavar="FILE", help="pampax.toml to read (else $PAMPAX_CONFIG, else the nearest pampax.toml in the working directory or above it)")] = None,
    log_format: Annotated[Optional[JsonOrText], typer.Option("--log-format", help="stderr log lines: json or text (default: JSON when piped)")] = None,
    log_level: Annotated[Optional[str], typer.Option("--log-level", metavar="LEVEL", help="DEBUG, INFO, WARNING or ERROR")] = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="print the pampax version and exit")] = False,
) -> None:
    flags = {"observability.log_format": log_format.value if log_format else None, "observability.log_level": log_level}
    ctx.obj = (config, flags)


def _telemetry(resolved: ResolvedConfig, index_path: Path, read_only: bool = False) -> Telemetry:
    """Return CLI telemetry: schema log lines on stderr, EMF documents appended to the metrics file.

    A ``read_only`` command (health, cache clear) appends only to a metrics file that exists.
    """
    settings = resolved.config.observability
    metrics = metrics_path(settings, index_path)
    # Unless a log level was asked for, a failure is reported once: by `run`'s one line, not also as a log line.
    quiet = resolved.sources.get("observability.log_level", "default") == "default"
    logger = make_logger(settings, "cli", sys.stderr, drop_failures=quiet)
    return Telemetry(settings, logger, MetricsSink(path=metrics, create=not read_only, max_bytes=settings.metrics_max_bytes))


def _service(resolved: ResolvedConfig, index: Path | None, provider: IndexProvider | None = None,
             read_only: bool = False, cached: bool = True) -> Service:
    """Return the local service: the index file opened per call (unless a provider keeps one warm), the cache
    file beside it (or DynamoDB). A read-only service creates no cache or metrics file.

    ``cached=False`` answers without the read-through cache: a one-shot search would pay ~300 ms to import
    its machinery (Powertools idempotency imports boto3), more than any hit saves, and a warm index (MCP)
    answers in milliseconds while a miss would add two cache writes."""
    if not cached:
        resolved = resolved.model_copy(update={"config": resolved.config.model_copy(
            update={"cache": resolved.config.cache.model_copy(update={"enabled": False})})})
    index_path = find_index(index)
    telemetry = _telemetry(resolved, index_path, read_only)
    cache = ReadThroughCache(open_cache_store(resolved.config, index_path.parent / "cache.db"),
                             resolved.config.cache, telemetry)
    return Service(resolved.config, provider or (lambda: open_index(index_path)), telemetry, cache)


def _progress_bar():
    """Return a (progress callback, context manager) pair: a rich bar on a TTY, nothing when piped."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress("parsing", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
    task = bar.add_task("parse", total=None)
    return (lambda done, total: bar.update(task, completed=done, total=total)), bar


def _interrupt(signum: int, frame) -> None:
    raise KeyboardInterrupt


@app.command()
def index(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="repository root to index")],
    index: Annotated[Optional[Path], typer.Option("--index", metavar="FILE", help="index file (default: PATH/.pampax/index.db)")] = None,
    full: Annotated[bool, typer.Option("--full", help="reparse every file, even unchanged ones")] = False,
    background: Annotated[bool, typer.Option("--background", help="return at once with a job id; `pampax jobs ID` follows it")] = False,
    format: Annotated[JsonOrText, typer.Option("--format", help="with --background: json (the queued job) or text (its bare id)")] = JsonOrText.json,
) -> None:
    """Build or refresh the index of a repository; prints a JSON report (--background: the queued job).

    Example: pampax index ~/src/django ; pampax index ~/src/django --background
    """
    from pampax.build import build_index  # the parser and writer load only for this command

    if background:
        job = run(lambda: spawn(config_of(ctx), path, index, full), json_errors=format is JsonOrText.json)
        if format is JsonOrText.json:
            print_json(job)
        else:
            typer.echo(job.job_id)
        return

    def action():
        resolved = config_of(ctx)
        telemetry = _telemetry(resolved, index or path / DEFAULT_INDEX)
        progress, bar = _progress_bar()
        signal.signal(signal.SIGTERM, _interrupt)  # so the build's cleanup runs: no .tmp copy is left behind
        with telemetry.operation("index"), bar or nullcontext():
            return build_index(path, index, resolved.config.index, full=full, progress=progress)

    print_json(run(action))


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(metavar="QUERY", help="identifier, error text, question or a whole bug report; - reads it from stdin")],
    index: IndexOption = None,
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", help="results to return (default: search.limit)")] = None,
    path: PathOption = None,
    lang: LangOption = None,
    kind: KindOption = None,
    group: Annotated[Group, typer.Option("--group", help="chunk: ranked spans; file: each file once, with its best spans")] = Group.chunk,
    exclude: ExcludeOption = None,
    intent: IntentOption = Intent.auto,
    policy: PolicyOption = Policy.code,
    docs: DocsOption = True,
    explain: Annotated[bool, typer.Option("--explain/--no-explain", help="--no-explain: leave each hit's score breakdown out (a smaller answer)")] = True,
    format: Annotated[JsonOrText, typer.Option("--format", help="json or text")] = JsonOrText.json,
) -> None:
    """Search the index; every hit says why it scored (its explain field) unless --no-explain.

    Example: pampax search "QuerySet.filter" --lang python --limit 5 ; pampax search - --group file < bug-report.txt
    """
    json_out = format is JsonOrText.json

    def action():
        service = _service(config_of(ctx), index, cached=False)
        request = validate(SearchRequest, {
            "query": sys.stdin.read() if query == "-" else query, "limit": service.config.search.limit if limit is None else limit,
            "group": group.value, "explain": explain, **knob_fields(index, path, exclude, lang, kind, intent, policy, docs),
        }, InvalidArgument)
        return service.search(request)

    response = run(action, json_errors=json_out)
    if json_out:
        print_json(response)
        return
    for hit in response.results:
        typer.echo(f"{hit.path}:{hit.start_line}-{hit.end_line}  {hit.symbol or '-'}  ({hit.kind}, {hit.score})")
        for line in hit.snippet.splitlines():
            typer.echo(f"    {line}")
        for span in hit.spans:
            typer.echo(f"  also {span.start_line}-{span.end_line}  {span.symbol or '-'}")


@app.command()
def assemble(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(metavar="QUERY", help="what the bundle should let an agent work on")],
    budget: Annotated[int, typer.Option("--budget", metavar="TOKENS", help="token budget for the bundle's items")],
    index: IndexOption = None,
    seeds: Annotated[Optional[int], typer.Option("--seeds", metavar="N", help="ranked files whose best spans seed the bundle")] = None,
    max_items: Annotated[Optional[int], typer.Option("--max-items", metavar="N", help="items the bundle may hold")] = None,
    format: Annotated[BundleFormat, typer.Option("--format", help="json or md")] = BundleFormat.json,
    evidence: Annotated[bool, typer.Option("--evidence", help="md: append the evidence table (not counted in the budget)")] = False,
    path: PathOption = None,
    lang: LangOption = None,
    kind: KindOption = None,
    exclude: ExcludeOption = None,
    intent: IntentOption = Intent.auto,
    policy: PolicyOption = Policy.code,
    docs: DocsOption = True,
) -> None:
    """Assemble a token-budgeted context bundle with evidence, stop reason and token report.

    The Markdown printed (without --evidence) is tokens.used tokens long, header included.

    Example: pampax assemble "why does get_object_or_404 raise Http404" --budget 8000 --format md
    """
    json_out = format is BundleFormat.json

    def action():
        service = _service(config_of(ctx), index, cached=False)
        config = service.config
        request = validate(AssembleRequest, {
            "query": query, "budget": budget, "seeds": config.assemble.seeds if seeds is None else seeds,
            "max_items": config.assemble.max_items if max_items is None else max_items,
            **knob_fields(index, path, exclude, lang, kind, intent, policy, docs),
        }, InvalidArgument)
        return service.assemble(request)

    bundle = run(action, json_errors=json_out)
    if json_out:
        print_json(bundle)
    else:
        sys.stdout.write(to_markdown(bundle, evidence=evidence))


@app.command()
def mcp(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="repository root to serve")] = Path("."),
    index: Annotated[Optional[Path], typer.Option("--index", metavar="FILE", help="index file (default: PATH/.pampax/index.db)")] = None,
    http: Annotated[Optional[int], typer.Option("--http", metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT instead of stdio")] = None,
    watch: Annotated[bool, typer.Option("--watch/--no-watch", help="refresh the index when files change")] = True,
) -> None:
    """Serve the index to a coding agent over MCP (stdio), opened once and kept fresh as files change.

    Tools: search, assemble, symbol, callers, callees, tests_for, outline, read_span, index_status, refresh.

    Client config for Claude Code (.mcp.json), Claude Desktop or Cursor (~/.cursor/mcp.json); use the full path of pampax if it is not on the client's PATH:

    \b
    {
      "mcpServers": {
        "pampax": {"command": "pampax", "args": ["mcp", "/path/to/repo"]}
      }
    }

    Example: pampax mcp ~/src/django
    """
    def action():
        from pampax.live import LiveIndex  # the parser, the writer and the MCP SDK load only for this command

        serve = _extra("pampax_local.mcp_server").serve
        resolved = config_of(ctx)
        live = LiveIndex(path, index or path / DEFAULT_INDEX, resolved.config.index)
        serve(_service(resolved, live.path, live.snapshot, cached=False), live, http=http, watch=watch)

    run(action)


@app.command("watch")
def watch_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="PATH", help="repository root to keep indexed")],
    index: Annotated[Optional[Path], typer.Option("--index", metavar="FILE", help="index file (default: PATH/.pampax/index.db)")] = None,
) -> None:
    """Keep the index fresh while files change; prints one JSON line per refresh (Ctrl-C stops).

    Example: pampax watch ~/src/django
    """
    def action():
        import anyio

        from pampax.live import LiveIndex

        keep_fresh = _extra("pampax_local.watch").keep_fresh
        resolved = config_of(ctx)
        live = LiveIndex(path, index or path / DEFAULT_INDEX, resolved.config.index)

        def report(done) -> None:
            sys.stdout.write(done.model_dump_json() + "\n")
            sys.stdout.flush()

        anyio.run(keep_fresh, live, _telemetry(resolved, live.path), report)

    run(action)


def _extra(module: str):
    """Return a module that needs the ``mcp`` extra; a one-line error naming the fix when it is not installed."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise PampaxError(f"{exc.name} is not installed: pip install 'pampax[mcp]'") from None


config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective config and where each value came from.

    Example: PAMPAX_SEARCH_LIMIT=20 pampax config show
    """
    resolved = run(lambda: config_of(ctx))
    config = resolved.config.model_dump(mode="json")
    print_json({
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
            resolved, error = config_of(ctx), None
        except ConfigInvalid as exc:  # still check the index and the cache, on default settings
            resolved, error = ResolvedConfig(config=Config(), sources={}, file=None), exc
        return _service(resolved, index, read_only=True).health(config_error=error)

    report = run(action)
    print_json(report)
    failed = next((c for c in report.checks if not c.ok), None)
    if failed is not None:
        raise typer.Exit(exit_code_for(failed.err_kind or "internal"))


cache_app = typer.Typer(help="Warm or clear the read-through cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("warm")
def cache_warm(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(metavar="SOURCE", help="a repository (warms its most-called names) or a query file (JSON query set or one query per line)")],
    index: IndexOption = None,
    budget: Annotated[int, typer.Option("--budget", metavar="TOKENS", help="budget of the bundles warmed")] = 8000,
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
        return _service(config_of(ctx), where).warm(request)

    print_json(run(action))


@cache_app.command("clear")
def cache_clear(
    ctx: typer.Context,
    index: IndexOption = None,
    all_: Annotated[bool, typer.Option("--all", help="clear every scope (the default)")] = False,
    scope: Annotated[Optional[Scope], typer.Option("--scope", help="clear one scope (search or bundle) or all, as POST /cache/clear takes")] = None,
) -> None:
    """Delete cached entries and print how many were removed.

    Example: pampax cache clear --scope search
    """
    def action():
        if all_ and scope not in (None, Scope.all):
            raise InvalidArgument("--all and --scope exclude each other")
        return _service(config_of(ctx), index, read_only=True).clear(CacheClearRequest(scope=scope.value if scope else "all"))

    print_json(run(action))


metrics_app = typer.Typer(help="Read the metrics pampax emitted.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")


@metrics_app.command("summary")
def metrics_summary(
    ctx: typer.Context,
    file: Annotated[Optional[Path], typer.Argument(metavar="FILE", help="EMF metrics file (default: metrics.jsonl beside the index, found as every command finds it)")] = None,
    index: IndexOption = None,
    since: Annotated[Optional[float], typer.Option("--since", metavar="SECONDS", help="only the last N seconds")] = None,
    format: Annotated[JsonOrText, typer.Option("--format", help="text or json")] = JsonOrText.text,
) -> None:
    """Print p50/p95/max per latency metric, the cache hit ratio and errors by kind (FILE.1, the rotated part, too).

    Example: pampax metrics summary --since 3600
    """
    def action():
        path = file or metrics_path(config_of(ctx).config.observability, find_index(index))
        if not path.is_file():
            raise PathNotFound(f"no metrics file at {path} (none beside an index here or above: give FILE or --index)")
        since_ms = int((time.time() - since) * 1000) if since is not None else None
        return summarize(metric_lines(path), since_ms)

    summary = run(action, json_errors=format is JsonOrText.json)
    if format is JsonOrText.json:
        print_json(summary)
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


app.command("jobs")(jobs_command)
app.add_typer(cloud_app)  # publish, rollback
app.add_typer(analyze_app)  # analyze
app.add_typer(analytics_app, name="analytics")
app.add_typer(local_app, name="local")


def main() -> None:
    app()
