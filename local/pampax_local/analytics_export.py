"""``pampax analytics export``: usage analytics from the metrics pampax emitted (``pampax.analytics``)."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from pampax.analytics import parse_since, to_csv, usage_report
from pampax.dashboard import metric_lines, read_documents
from pampax.errors import InvalidArgument, PathNotFound
from pampax_local.command import IndexOption, config_of, find_index, metrics_path, print_json, run

analytics_app = typer.Typer(help="Export usage analytics from the metrics pampax emitted.", no_args_is_help=True)


class CsvOrJson(str, Enum):
    csv = "csv"
    json = "json"


@analytics_app.command("export")
def export(
    ctx: typer.Context,
    source: Annotated[Optional[Path], typer.Option("--from", metavar="FILE", help="EMF lines: a metrics file or a CloudWatch Logs export, .gz too (default: metrics.jsonl beside the index, and its rotated part)")] = None,
    index: IndexOption = None,
    since: Annotated[Optional[str], typer.Option("--since", metavar="ISO|DURATION", help="only documents from then on: 2026-01-31T00:00:00Z, or 90 (seconds), 30m, 24h, 7d, 2w before now")] = None,
    format: Annotated[CsvOrJson, typer.Option("--format", help="csv (one tidy table) or json")] = CsvOrJson.csv,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="FILE", help="write here instead of stdout")] = None,
    include_queries: Annotated[bool, typer.Option("--include-queries", help="show query text (its recorded first 200 characters) instead of its sha256 prefix")] = False,
    bucket: Annotated[str, typer.Option("--bucket", metavar="DURATION", help="width of the cache hit ratio's time buckets")] = "1h",
    top: Annotated[int, typer.Option("--top", metavar="N", min=1, help="query terms to list")] = 20,
) -> None:
    """Report requests by op, status and intent, latency percentiles per op, the cache hit ratio over time,
    zero-result queries, errors by kind and the top query terms.

    Example: pampax analytics export --since 7d --format csv --out usage.csv
    """
    json_out = format is CsvOrJson.json

    def action():
        path = source or metrics_path(config_of(ctx).config.observability, find_index(index))
        if not path.is_file():
            raise PathNotFound(f"no metrics file at {path} (give --from FILE or --index)")
        now_ms = int(time.time() * 1000)
        since_ms = parse_since(since, now_ms) if since is not None else None
        width = (now_ms - parse_since(bucket, now_ms)) // 1000
        if width < 1:
            raise InvalidArgument(f"--bucket {bucket!r} is under a second")
        documents, skipped = read_documents(metric_lines(path), since_ms)
        return usage_report(documents, skipped_lines=skipped, since_ms=since_ms, bucket_seconds=width,
                            include_queries=include_queries, top=top)

    report = run(action, json_errors=json_out)
    if out is not None:
        out.write_text(report.model_dump_json(indent=2) + "\n" if json_out else to_csv(report), encoding="utf-8")
    elif json_out:
        print_json(report)
    else:
        sys.stdout.write(to_csv(report))
