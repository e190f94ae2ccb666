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


def test_prune_keeps_the_newest_finished_jobs_and_every_unfinished_one(tmp_path):
    store = LocalJobStore(tmp_path)
    # GIVEN five finished jobs (records, logs, locks) and a running one older than all of them
    running = Job.queued("/repo", created_at="2026-01-01T00:00:00+00:00").started(pid=1)
    finished = [Job.queued("/repo", created_at=f"2026-01-0{n + 2}T00:00:00+00:00").failed(PampaxError("boom"))
                for n in range(5)]
    with store.hold(running.job_id):  # its worker is alive
        for job in [running, *finished]:
            store.save(job)
            (tmp_path / f"{job.job_id}.log").write_text("log\n")
            if job.is_finished:
                with store.hold(job.job_id):  # its lock file
                    pass
        # WHEN pruned to two THEN the three oldest finished ones are gone with their files
        assert store.prune(2) == 3
        assert [j.job_id for j in store.list()] == [running.job_id] + [j.job_id for j in finished[-2:]]
        assert len(list(tmp_path.iterdir())) == 3 * 3
        assert store.prune(2) == 0


def test_unknown_and_malformed_ids(tmp_path):
    store = LocalJobStore(tmp_path)
    with pytest.raises(JobNotFound):
        store.get("a" * 32)
    with pytest.raises(InvalidArgument):
        store.get("../x")
    assert store.list() == []
