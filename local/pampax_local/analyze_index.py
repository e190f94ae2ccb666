"""``pampax analyze``: what an index holds and how SQLite reads it (``pampax.inspect_index``)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pampax.inspect_index import inspect_index, render_text
from pampax_local.command import IndexOption, JsonOrText, config_of, find_index, print_json, run

analyze_app = typer.Typer()


@analyze_app.command()
def analyze(
    ctx: typer.Context,
    index: IndexOption = None,
    format: Annotated[JsonOrText, typer.Option("--format", help="json or text")] = JsonOrText.json,
) -> None:
    """Report bytes and rows per table and index, FTS5 segments, pages, the largest files and chunks, languages,
    skipped files, edges, the query plans of the hot queries and what to tune. Read-only.

    Example: pampax analyze --index ~/src/django/.pampax/index.db --format text
    """
    json_out = format is JsonOrText.json
    analysis = run(lambda: inspect_index(find_index(index), config_of(ctx).config.search), json_errors=json_out)
    if json_out:
        print_json(analysis)
    else:
        sys.stdout.write(render_text(analysis))
