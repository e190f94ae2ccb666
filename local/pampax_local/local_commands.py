"""``pampax local serve`` and ``pampax local invoke``: the commands over ``harness.py``.

Kept apart so that every other command's start does not import the harness, the handlers' event
resolver and the template reader: they load when one of these commands runs.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from contextlib import ExitStack, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from pampax.config import Config
from pampax.errors import InvalidArgument, PampaxError
from pampax_local.command import config_of, find_index, print_json, run

if TYPE_CHECKING:
    from pampax_local.harness import LocalApi
    from pampax_local.sam import FunctionSpec

local_app = typer.Typer(help="Run the Lambda handlers on this machine (no Docker, no AWS account).",
                        no_args_is_help=True)

TemplateOption = Annotated[Optional[Path], typer.Option("--template", metavar="FILE", help="SAM template (default: the nearest template.yaml)")]
ServeIndexOption = Annotated[
    Optional[Path],
    typer.Option("--index", metavar="FILE", help="serve this index file (default: the configured store, else the nearest .pampax/index.db)"),
]


@local_app.command("serve")
def serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", metavar="N", help="port on 127.0.0.1")] = 3000,
    index: ServeIndexOption = None,
    template: TemplateOption = None,
    poll: Annotated[bool, typer.Option("--poll/--no-poll", help="deliver aws.queue_url's jobs to the index function")] = True,
) -> None:
    """Serve the HTTP API on 127.0.0.1 through the template's handlers, until Ctrl-C.

    Example: pampax local serve --port 3000 --index .pampax/index.db
    """

    from pampax_local.harness import apply_environment, load_api
    from pampax_local.sam import find_template, read_template

    with ExitStack() as cleanup:
        def start() -> LocalApi:
            functions = read_template(template or find_template())
            apply_environment(functions)
            config = _configure_handlers(ctx, index, cleanup)
            server = load_api(functions, port, config.runtime.max_body_bytes)
            cleanup.callback(server.server_close)
            queue_functions = [s for s in functions.values() if s.queue_batch_size]
            if poll and config.aws.queue_url and queue_functions:
                _start_polling(config, queue_functions[0])
            return server

        server = run(start)
        typer.echo(f"pampax local: http://127.0.0.1:{server.server_port} ({len(server.routes)} routes); Ctrl-C stops",
                   err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


@local_app.command("invoke")
def invoke(
    ctx: typer.Context,
    function: Annotated[str, typer.Argument(metavar="FUNCTION", help="logical id (SearchFunction) or code directory (search)")],
    event: Annotated[Path, typer.Option("--event", metavar="FILE", help="event JSON file, e.g. from `sam local generate-event`")],
    index: ServeIndexOption = None,
    template: TemplateOption = None,
) -> None:
    """Invoke one function of the template on an event, like `sam local invoke`; print its response.

    Handler logs go to stderr, the response to stdout.

    Example: sam local generate-event apigateway aws-proxy --method POST --path search
    --body '{"query": "get_user_by_id"}' > e.json && pampax local invoke search --event e.json
    """

    from pampax_local.harness import LocalContext, apply_environment
    from pampax_local.sam import find_template, import_handler, pick_function, read_template

    def action() -> Any:
        spec = pick_function(read_template(template or find_template()), function)
        try:
            payload = json.loads(event.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"cannot read event {event}: {exc}") from exc
        apply_environment({spec.logical_id: spec})
        with ExitStack() as cleanup:
            _configure_handlers(ctx, index, cleanup)
            with redirect_stdout(sys.stderr):
                return import_handler(spec)(payload, LocalContext(spec.logical_id))

    print_json(run(action))


def _configure_handlers(ctx: typer.Context, index: Path | None, cleanup: ExitStack) -> Config:
    """Point the handlers at what this invocation names, and return the effective config.

    The config file the CLI found (``--config``, say) is handed on, since handlers read only the
    environment. ``--index``, or with no store configured the nearest ``.pampax/index.db``, is
    published into a throwaway store that ``cleanup`` removes.
    """
    from pampax_local.harness import serving_file

    resolved = config_of(ctx)
    if resolved.file is not None:
        os.environ["PAMPAX_CONFIG"] = str(Path(resolved.file).resolve())
    config = resolved.config
    if index is not None or not (config.runtime.store_dir or config.aws.bucket):
        cleanup.enter_context(serving_file(find_index(index)))
    return config


def _start_polling(config: Config, spec: FunctionSpec) -> None:
    from pampax.stores import open_queue
    from pampax_local.harness import deliver_jobs
    from pampax_local.sam import import_handler

    queue, handler = open_queue(config), import_handler(spec)

    def poll() -> None:
        while True:
            try:
                deliver_jobs(queue, spec, handler)
            except PampaxError as exc:
                sys.stderr.write(f"pampax local: queue: {exc.kind}: {exc.message}\n")
                time.sleep(5)

    threading.Thread(target=poll, name="pampax-queue", daemon=True).start()
