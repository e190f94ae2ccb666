"""Index jobs: a source archive in the artifact store becomes a new published generation.

``POST /index`` validates an ``IndexJobRequest`` and ``enqueue``s it; the index function's SQS
consumer hands each record to ``run_message``, which publishes only after the build succeeded;
``publish`` writes a generation's manifest and then the pointer last, so a job that fails anywhere
leaves the current generation as it was. SQS retries a failed job and, past the
queue's redrive limit, moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .archive import extract
from .build import build_index
from .config import Config
from .errors import InvalidArgument, PampaxError, is_caller_error
from .models import validate
from .observability import Telemetry
from .stores import ArtifactStore, Manifest


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

    job_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class IndexJobAccepted(BaseModel):
    """The ``202`` answer of ``POST /index``."""

    job_id: str
    source: str
    status: Literal["queued"] = "queued"


def enqueue(queue, request: IndexJobRequest, telemetry: Telemetry) -> IndexJobAccepted:
    """Queue ``request`` on ``queue`` (an ``SqsQueue``) under a new job id. Raises ``StoreUnavailable``."""
    job = IndexJob(job_id=uuid.uuid4().hex, source=request.source)
    queue.send(job.model_dump())
    telemetry.logger.info(f"index job {job.job_id} queued for {job.source}", extra={"op": "index_enqueue", "status": "ok"})
    return IndexJobAccepted(job_id=job.job_id, source=job.source)


def run_message(body: str, store: ArtifactStore, config: Config, telemetry: Telemetry) -> Manifest:
    """Run the job in a queue message body: fetch, unpack and index its archive, publish, return the manifest.

    Timed and logged as the ``index`` operation, with the job id as correlation id. Everything
    happens in a scratch directory under ``runtime.work_dir`` that is removed afterwards. Raises
    ``InvalidArgument`` for a body that is not a job (a poison message) or a missing or unsafe
    archive, ``StoreUnavailable`` or an indexing error; in every case nothing was published.
    """
    with telemetry.operation("index"):
        job = _parse(body)
        telemetry.logger.set_correlation_id(job.job_id)
        scratch_root = Path(config.runtime.work_dir) / "jobs"
        scratch_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=scratch_root, prefix=f"{job.job_id}-") as scratch:
            scratch = Path(scratch)
            archive = store.fetch_source(job.source, scratch / Path(job.source).name)
            root = extract(archive, scratch / "tree", config.runtime.max_archive_bytes)
            report = build_index(root, scratch / "index.db", config.index, full=True)
            manifest = store.publish(Path(report.index))
        telemetry.logger.info(f"index job {job.job_id} published generation {manifest.generation} ({report.files} files)",
                              extra={"op": "index", "status": "ok"})
    return manifest


def run_record(body: str, store: ArtifactStore, config: Config, telemetry: Telemetry) -> str | None:
    """Run one queue record as ``run_message`` does; return the published generation, or None for a dead job.

    A failure of the caller's making (a 4xx kind: not a job, a missing or unsafe archive, a bad tree)
    would fail the same way on every retry, so it is left logged and counted by ``run_message``
    and the record is consumed; any other failure is raised for SQS to retry.
    """
    try:
        return run_message(body, store, config, telemetry).generation
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
