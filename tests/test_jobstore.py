"""The local job store: atomic JSON records, oldest first, and a worker found gone by its free lock."""

from __future__ import annotations

import pytest

from pampax.errors import InvalidArgument, JobNotFound, PampaxError
from pampax.jobstore import Job, LocalJobStore


def test_records_round_trip_oldest_first(tmp_path):
    store = LocalJobStore(tmp_path / "jobs")
    first = Job.queued("/repo", created_at="2026-01-01T00:00:00+00:00")
    second = Job.queued("/repo", created_at="2026-01-02T00:00:00+00:00")
    with store.hold(first.job_id), store.hold(second.job_id):  # both workers alive
        store.save(second)
        store.save(first.started(pid=123).progressed(3, 7))
        assert [(j.job_id, j.status) for j in store.list()] == [(first.job_id, "running"), (second.job_id, "queued")]
        assert store.get(first.job_id).progress.model_dump() == {"done": 3, "total": 7}
    assert sorted(p.suffix for p in store.root.iterdir()) == [".json", ".json", ".lock", ".lock"]  # no temporaries


def test_an_unfinished_job_without_its_worker_is_stored_failed(tmp_path):
    # GIVEN a running record whose lock nobody holds (its worker died without a word)
    store = LocalJobStore(tmp_path)
    job = store.save(Job.queued("/repo").started(pid=99999))
    # WHEN read
    found = store.get(job.job_id)
    # THEN it is failed as interrupted, stored so, and a finished record is never touched again
    assert (found.status, found.error.kind) == ("failed", "internal") and "pid 99999" in found.error.message
    assert store.read(job.job_id) == found and store.list() == [found]
    done = store.save(Job.queued("/repo").failed(PampaxError("boom")))
    assert store.get(done.job_id) == done


def test_unknown_and_malformed_ids(tmp_path):
    store = LocalJobStore(tmp_path)
    with pytest.raises(JobNotFound):
        store.get("a" * 32)
    with pytest.raises(InvalidArgument):
        store.get("../x")
    assert store.list() == []
