"""Index jobs: a source archive in the artifact store becomes a new published generation.

``POST /index`` validates an ``IndexJobRequest`` and ``enqueue``s it, answering the queued job's
record (``pampax.jobstore.Job``, the model local background builds share); the index function's SQS
consumer hands each record to ``run_message``, which publishes only after the build succeeded;
``publish`` writes a generation's manifest and then the pointer last, so a job that fails anywhere
leaves the current generation as it was. SQS retries a failed job and, past the
queue's redrive limit, moves it to the dead-letter queue.

A job refreshes the current generation rather than building from nothing: it fetches that
generation's index and lets ``build_index`` patch it against the unpacked tree, so a file whose
hash is unchanged is not parsed again and a small push costs the hashing plus the changed files.
Without a current generation, or with one from another schema or pampax version, it builds in full.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import __version__, schema
from .archive import extract
from .build import build_index
from .config import Config
from .errors import IndexCorrupt, InvalidArgument, PampaxError, is_caller_error
from .jobstore import JOB_ID, Job
from .models import validate
from .observability import Telemetry
from .stores import ArtifactStore


class IndexJobRequest(BaseModel):
    """The body of ``POST /index``: which uploaded source archive to index."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(
        max_length=1024, pattern=r"^sources/[A-Za-z0-9._/-]+\.(tar|tar\.gz|tgz|zip)$",
        description="key of a tar, tar.gz or zip archive under sources/ in the artifact bucket",
    )

    @field_validator("source")
    @classmethod
    def _no_parent_parts(cls, value: str) -> str:
        if ".." in value.split("/"):
            raise ValueError("must not contain '..'")
        return value


class IndexJob(IndexJobRequest):
    """A queued job: the request plus the id that ``POST /index`` answered and every log line carries."""

    job_id: str = Field(pattern=JOB_ID)
    created_at: str | None = Field(default=None, max_length=64, description="when it was queued")


def enqueue(queue, request: IndexJobRequest, telemetry: Telemetry) -> Job:
    """Queue ``request`` on ``queue`` (an ``SqsQueue``) under a new job id; return its queued record.

    Raises ``StoreUnavailable``.
    """
    record = Job.queued(request.source)
    queue.send(IndexJob(job_id=record.job_id, source=record.source, created_at=record.created_at).model_dump())
    telemetry.logger.info(f"index job {record.job_id} queued for {record.source}", extra={"op": "index_enqueue", "status": "ok"})
    return record


def run_message(body: str, store: ArtifactStore, config: Config, telemetry: Telemetry) -> Job:
    """Run the job in a queue message body: fetch, unpack and index its archive, publish; return its ``done`` record.

    Timed and logged as the ``index`` operation, with the job id as correlation id. Everything
    happens in a scratch directory under ``runtime.work_dir`` that is removed afterwards. Raises
    ``InvalidArgument`` for a body that is not a job (a poison message) or a missing or unsafe
    archive, ``StoreUnavailable`` or an indexing error; in every case nothing was published.
    """
    with telemetry.operation("index"):
        job = _parse(body)
        telemetry.logger.set_correlation_id(job.job_id)
        record = Job.queued(job.source, job.job_id, job.created_at).started()
        scratch_root = Path(config.runtime.work_dir) / "jobs"
        scratch_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch_root, prefix=f"{job.job_id}-") as scratch:
            scratch = Path(scratch)
            archive = store.fetch_source(job.source, scratch / Path(job.source).name)
            root = extract(archive, scratch / "tree", config.runtime.max_archive_bytes)
            index = scratch / "index.db"
            base = _fetch_current(store, index, telemetry)
            report = build_index(root, index, config.index)
            manifest = store.publish(Path(report.index))
        telemetry.logger.info(
            f"index job {job.job_id} published generation {manifest.generation} from {base or 'nothing'} "
            f"({report.files} files: {report.parsed_files} parsed, {report.reused_files} reused, {report.removed_files} removed)",
            extra={"op": "index", "status": "ok"})
    return record.succeeded(report)


def _fetch_current(store: ArtifactStore, dest: Path, telemetry: Telemetry) -> str | None:
    """Fetch the current generation's index to ``dest`` for the build to refresh; return its id, or None for a full build.

    A generation of another schema or pampax version would be rebuilt anyway, so it is not fetched;
    a corrupt one is logged and built over. Raises ``StoreUnavailable``: a store that cannot serve
    the pointer could not take the new generation either.
    """
    pointer = store.pointer()
    if pointer is None:
        return None
    manifest = store.manifest(pointer.generation)
    if (manifest.schema_version, manifest.pampax_version) != (str(schema.SCHEMA_VERSION), __version__):
        return None
    try:
        store.fetch(manifest, dest)
    except IndexCorrupt as error:
        telemetry.count_error(error.kind, f"building in full over a current generation that is unusable: {error.message}",
                              op="index")
        return None
    return manifest.generation


def run_record(body: str, store: ArtifactStore, config: Config, telemetry: Telemetry) -> str | None:
    """Run one queue record as ``run_message`` does; return the published generation, or None for a dead job.

    A failure of the caller's making (a 4xx kind: not a job, a missing or unsafe archive, a bad tree)
    would fail the same way on every retry, so it is left logged and counted by ``run_message``
    and the record is consumed; any other failure is raised for SQS to retry.
    """
    try:
        return run_message(body, store, config, telemetry).report.generation
    except PampaxError as error:
        if is_caller_error(error.kind):
            return None
        raise


def _parse(body: str) -> IndexJob:
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        raise InvalidArgument("queue message is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidArgument("queue message is not a JSON object")
    return validate(IndexJob, data, InvalidArgument)
