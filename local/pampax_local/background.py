"""Background index builds: ``pampax index PATH --background`` and ``pampax jobs [ID]``.

``spawn`` takes the job's lock, writes the ``queued`` record to ``jobs/`` beside the index and
starts a detached worker (``python -m pampax_local.background``: its own session, no terminal, the
lock inherited), then returns at once. The worker runs the same build as ``pampax index`` and
writes the record as it goes: ``running`` with its pid, progress at most every half second, then
``done`` with the report or ``failed`` with the error. A failed or killed build leaves the previous
index as it was (``pampax.build`` commits in one transaction), and a worker that dies without a
word is found out by its free lock (``pampax.jobstore``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Optional

import typer

from pampax.config import ResolvedConfig, load_config
from pampax.errors import BuildRunning, PampaxError, exit_code_for
from pampax.index import DEFAULT_INDEX
from pampax.jobstore import Job, LocalJobStore
from pampax.observability import Telemetry

from .command import IndexOption, JsonOrText, find_index, print_json, run

# The record is rewritten at most this often while the build parses: a Django build calls back 5,000 times.
_PROGRESS_SECONDS = 0.5
_WAIT_POLL_SECONDS = 0.2
# The lock (``build.lock`` beside the job records) a running background build of the index holds.
_BUILD_LOCK = "build"
# Finished jobs whose records a new one keeps (the newest); older ones are deleted as it starts.
KEPT_JOBS = 50


def jobs_of(index_path: Path) -> LocalJobStore:
    """Return the job store of an index: ``jobs/`` in the index's directory."""
    return LocalJobStore(Path(index_path).parent / "jobs")


def spawn(resolved: ResolvedConfig, path: Path, index: Path | None, full: bool) -> Job:
    """Queue a build of ``path`` and start its detached worker; return the queued record.

    Raises ``PathNotFound`` / ``NotADirectory`` at once for a bad root, before any job exists, and
    ``BuildRunning`` while another background build of the same index runs: its worker holds the
    index's build lock (``_BUILD_LOCK`` in its job directory) as it holds its own job's.
    """
    from pampax.build import resolve_root  # the parser and writer load only for the commands that build

    root = resolve_root(path)
    target = (index or root / DEFAULT_INDEX).resolve()
    store = jobs_of(target)
    job = Job.queued(str(root))
    with ExitStack() as held:
        try:
            build_lock = held.enter_context(store.hold(_BUILD_LOCK))
        except BlockingIOError:
            running = [j.job_id for j in store.list() if not j.is_finished] or ["ID"]  # ID: one still starting
            raise BuildRunning(f"a background build of {target} is already running (job {', '.join(running)}):"
                               f" wait for it with pampax jobs {running[0]} --index {target} --wait") from None
        lock = held.enter_context(store.hold(job.job_id))
        task = {"job_id": job.job_id, "root": str(root), "index": str(target), "full": full, "config": resolved.file,
                "build_lock": build_lock}  # the same descriptor number in the worker (pass_fds)
        log = held.enter_context(open(store.root / f"{job.job_id}.log", "ab"))
        store.prune(KEPT_JOBS)
        store.save(job)
        # The worker inherits both locks and keeps them until it exits; stderr goes to the job's log
        # (a crash before the record could say why still leaves its traceback there).
        subprocess.Popen([sys.executable, "-m", "pampax_local.background", json.dumps(task)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                         start_new_session=True, pass_fds=(lock, build_lock))
    return job


def work(store: LocalJobStore, job_id: str, root: Path, index: Path, full: bool, resolved: ResolvedConfig,
         telemetry: Telemetry, build_lock: int | None = None) -> Job:
    """Run a queued job's build, writing its record as it goes; return the finished record.

    ``build_lock`` (the index's build lock, inherited from ``spawn``) is released before the finished
    record is written: whoever waits for that record may start the next build at once.
    """
    from pampax.build import build_index

    job = store.save(store.read(job_id).started(os.getpid()))
    written = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal job, written
        job = job.progressed(done, total)
        if done == total or time.monotonic() - written >= _PROGRESS_SECONDS:
            store.save(job)
            written = time.monotonic()

    signal.signal(signal.SIGTERM, _interrupt)  # so the build rolls back and the record says so
    try:
        with telemetry.operation("index"):
            finished = job.succeeded(build_index(root, index, resolved.config.index, full=full, progress=progress))
    except KeyboardInterrupt:
        finished = job.failed(PampaxError("interrupted: the worker was stopped (SIGTERM)"))
    except PampaxError as error:
        finished = job.failed(error)
    except Exception as error:  # the last line of defence, as in the foreground command
        finished = job.failed(PampaxError(f"{type(error).__name__}: {error}"))
    _release(build_lock)
    return store.save(finished)


def _release(build_lock: int | None) -> None:
    if build_lock is not None:
        os.close(build_lock)  # the worker's copy was the last: the lock is free


def _interrupt(signum: int, frame) -> None:
    raise KeyboardInterrupt


def jobs_command(
    job_id: Annotated[Optional[str], typer.Argument(metavar="ID", help="the job to show (default: list every job)")] = None,
    index: IndexOption = None,
    wait: Annotated[bool, typer.Option("--wait", help="with ID: wait until the job has finished; exit with its error's code if it failed")] = False,
    format: Annotated[JsonOrText, typer.Option("--format", help="json or text")] = JsonOrText.json,
) -> None:
    """Show background index jobs: queued, running (with progress), done (with the report) or failed (with the error).

    Example: pampax jobs ; pampax jobs 3f2a... --wait
    """
    json_out = format is JsonOrText.json

    def action():
        store = jobs_of(find_index(index))
        if job_id is None:
            return store.list()
        job = store.get(job_id)
        while wait and not job.is_finished:
            time.sleep(_WAIT_POLL_SECONDS)
            job = store.get(job_id)
        return job

    found = run(action, json_errors=json_out)
    jobs = found if isinstance(found, list) else [found]
    if json_out:
        print_json({"jobs": [j.model_dump(mode="json") for j in jobs]} if job_id is None else found)
    else:
        for job in jobs:
            typer.echo(describe(job))
    if wait and isinstance(found, Job) and found.error is not None:
        raise typer.Exit(exit_code_for(found.error.kind))


def describe(job: Job) -> str:
    """Return a job's one-line text form: id, status, progress, then the generation or the error."""
    done = f"{job.progress.done}/{job.progress.total if job.progress.total is not None else '?'}"
    outcome = (f"generation {job.report.generation}" if job.report
               else f"{job.error.kind}: {job.error.message}" if job.error else "")
    return "  ".join(part for part in (job.job_id, job.status, done, job.source, outcome) if part)


def main() -> None:
    """The worker: ``python -m pampax_local.background '{"job_id", "root", "index", "full", "config"}'``."""
    from pampax_local.cli import _telemetry  # the CLI's own telemetry: metrics land beside the index as usual

    task = json.loads(sys.argv[1])
    index = Path(task["index"])
    store = jobs_of(index)
    try:
        resolved = load_config(Path(task["config"]) if task["config"] else None)
        telemetry = _telemetry(resolved, index)
    except PampaxError as error:  # the config changed since the job was queued
        _release(task["build_lock"])
        store.save(store.read(task["job_id"]).failed(error))
        return
    work(store, task["job_id"], Path(task["root"]), index, task["full"], resolved, telemetry, task["build_lock"])


if __name__ == "__main__":
    main()
