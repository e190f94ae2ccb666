"""Index job records: one model for a local background build and a queued cloud job, and the local store of them.

A job moves ``queued`` → ``running`` → ``done`` (with its build report) or ``failed`` (with its error
kind and message). ``POST /index`` answers the queued record; ``pampax index --background`` writes
one JSON file per job in a directory beside the index, each write atomic (a temporary file renamed
into place), so a reader never sees half a record.

A local job's worker holds an exclusive ``flock`` on the job's lock file from before it starts
until it exits. The kernel drops the lock when the process dies, however it dies, so a record left
``queued`` or ``running`` whose lock is free belongs to a worker that is gone: it is reported (and
stored) ``failed``. A lock, unlike probing the pid, is not fooled by a zombie or a reused pid.
"""

from __future__ import annotations

import fcntl
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from .errors import InvalidArgument, JobNotFound, PampaxError
from .models import IndexReport

JobStatus = Literal["queued", "running", "done", "failed"]
JOB_ID = r"^[0-9a-f]{32}$"


class JobProgress(BaseModel):
    """Files parsed so far out of the files the build has to parse (``None`` until its walk is done)."""

    done: int = 0
    total: int | None = None


class JobError(BaseModel):
    """Why a job failed: an error kind of the README table and its one-line message."""

    kind: str
    message: str


class Job(BaseModel):
    """An index job's record (the ``202`` answer of ``POST /index``, and what ``pampax jobs`` prints)."""

    job_id: str = Field(pattern=JOB_ID)
    status: JobStatus
    source: str = Field(description="the archive key under sources/ (cloud) or the repository path (local)")
    progress: JobProgress = JobProgress()
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    report: IndexReport | None = Field(default=None, description="the build report of a done job")
    error: JobError | None = Field(default=None, description="the error of a failed job")
    pid: int | None = Field(default=None, description="the local worker process; null for a cloud job")

    @classmethod
    def queued(cls, source: str, job_id: str | None = None, created_at: str | None = None) -> Job:
        """Return a new job's record (a new id, queued now, unless the queue message named them)."""
        return cls(job_id=job_id or uuid.uuid4().hex, status="queued", source=source, created_at=created_at or _now())

    @property
    def is_finished(self) -> bool:
        return self.status in ("done", "failed")

    def started(self, pid: int | None = None) -> Job:
        return self.model_copy(update={"status": "running", "started_at": _now(), "pid": pid})

    def progressed(self, done: int, total: int) -> Job:
        return self.model_copy(update={"progress": JobProgress(done=done, total=total)})

    def succeeded(self, report: IndexReport) -> Job:
        total = self.progress.total if self.progress.total is not None else report.parsed_files
        return self.model_copy(update={"status": "done", "finished_at": _now(), "report": report,
                                       "progress": JobProgress(done=total, total=total)})

    def failed(self, error: PampaxError) -> Job:
        return self.model_copy(update={"status": "failed", "finished_at": _now(),
                                       "error": JobError(kind=error.kind, message=error.message)})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LocalJobStore:
    """Job records as ``<id>.json`` in one directory (``.pampax/jobs/`` beside the index), with their lock files."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def save(self, job: Job) -> Job:
        """Write ``job``'s record atomically and return it."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self._path(job.job_id)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(job.model_dump_json(indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return job

    def get(self, job_id: str) -> Job:
        """Return a job's record, a lost worker's as ``failed``. Raises ``JobNotFound`` for an unknown id."""
        return self._settled(self.read(job_id))

    def read(self, job_id: str) -> Job:
        """Return a job's record as stored (what its worker reads). Raises ``JobNotFound`` for an unknown id."""
        if not re.fullmatch(JOB_ID, job_id):
            raise InvalidArgument(f"{job_id!r} is not a job id (32 hex digits)")
        job = self._read(self._path(job_id))
        if job is None:
            raise JobNotFound(f"no job {job_id} in {self.root}")
        return job

    def list(self) -> list[Job]:
        """Return every job, oldest first (ties by id), lost workers' as ``failed``."""
        jobs = [job for path in self.root.glob("*.json") if (job := self._read(path)) is not None]
        return [self._settled(job) for job in sorted(jobs, key=lambda j: (j.created_at, j.job_id))]

    def prune(self, keep: int) -> int:
        """Delete the records, logs and lock files of finished jobs but the newest ``keep``; return how many went.

        Unfinished jobs are never touched. Without this every background build left three files behind for good.
        """
        finished = [job for job in self.list() if job.is_finished]
        gone = finished[:max(0, len(finished) - keep)]
        for job in gone:
            for path in (self._path(job.job_id), self.root / f"{job.job_id}.log", self._lock_path(job.job_id)):
                path.unlink(missing_ok=True)
        return len(gone)

    @contextmanager
    def hold(self, job_id: str) -> Iterator[int]:
        """Hold the job's lock while the block runs; yield the lock's file descriptor (for a worker to inherit)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path(job_id), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            yield fd
        finally:
            os.close(fd)

    def _settled(self, job: Job) -> Job:
        """Return ``job``, stored as ``failed`` first when it is unfinished and no worker holds its lock."""
        if job.is_finished:
            return job
        try:
            with self.hold(job.job_id):
                current = self._read(self._path(job.job_id))  # it may have finished since it was read
                if current is None or current.is_finished:
                    return current or job
                return self.save(current.failed(PampaxError(
                    f"interrupted: the worker (pid {current.pid}) ended before the job finished")))
        except BlockingIOError:
            return job  # its worker holds the lock: alive

    def _read(self, path: Path) -> Job | None:
        try:
            return Job.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError):
            return None  # not a record of ours (or a foreign file): not a job

    def _path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.json"

    def _lock_path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.lock"
