"""Background index jobs: `pampax index --background` returns a job at once, `pampax jobs` follows it.

The workers are real detached processes; a stopped or killed one ends its job `failed` and leaves the
previous index as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pampax.build import build_index
from pampax.config import load_config
from pampax.errors import exit_code_for
from pampax.index import open_index
from pampax.jobstore import Job
from pampax_local.background import _BUILD_LOCK, jobs_of, work
from pampax_local.cli import _telemetry, app

from .waiting import wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers rely on flock and prctl")

runner = CliRunner()
# Enough files, each with enough functions, that a --full refresh is still parsing when the signal lands.
FILES, FUNCTIONS = 400, 150


def _run(*args):
    return runner.invoke(app, list(args), env={})


def _job(index: Path, job_id: str) -> dict:
    result = _run("jobs", job_id, "--index", str(index))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _generation(index: Path) -> str:
    with open_index(index) as opened:
        assert opened.conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        return opened.generation


@pytest.fixture(scope="module")
def big_index(tmp_path_factory) -> tuple[Path, Path]:
    """A repository large enough to interrupt mid-build, and its index (copy it before refreshing)."""
    repo = tmp_path_factory.mktemp("big") / "repo"
    repo.mkdir()
    body = "".join(f"def f{n}(a, b):\n    return g{n}(a) + b\n\n" for n in range(FUNCTIONS))
    for n in range(FILES):
        (repo / f"m{n}.py").write_text(body)
    return repo, Path(build_index(repo, repo.parent / "index.db").index)


def test_a_background_build_is_queued_then_done_with_its_report(shop_repo):
    # WHEN a build is started in the background
    result = _run("index", str(shop_repo), "--background")
    # THEN it returns at once with a queued job, and no index yet needs to exist
    assert result.exit_code == 0, result.output
    queued = json.loads(result.stdout)
    assert (queued["status"], queued["source"], queued["report"]) == ("queued", str(shop_repo.resolve()), None)
    index = shop_repo / ".pampax" / "index.db"
    # WHEN waited for
    waited = _run("jobs", queued["job_id"], "--index", str(index), "--wait")
    # THEN it is done, with the report of the index it built and its worker's pid
    assert waited.exit_code == 0, waited.output
    done = json.loads(waited.stdout)
    assert done["status"] == "done" and done["error"] is None and done["pid"] not in (None, os.getpid())
    assert done["report"]["files"] == 10 and done["report"]["generation"] == _generation(index)
    assert done["progress"] == {"done": 10, "total": 10} and done["started_at"] and done["finished_at"]
    # AND the list holds it, and `--format text` gives the bare id of the next one
    listed = json.loads(_run("jobs", "--index", str(index)).stdout)["jobs"]
    assert [j["job_id"] for j in listed] == [queued["job_id"]]
    second = _run("index", str(shop_repo), "--background", "--format", "text")
    job_id = second.stdout.strip()
    assert _run("jobs", job_id, "--index", str(index), "--wait").exit_code == 0
    assert _job(index, job_id)["report"]["parsed_files"] == 0  # a refresh: nothing changed


def test_an_unknown_job_is_job_not_found(shop_repo):
    index = shop_repo / ".pampax" / "index.db"
    result = _run("jobs", "0" * 32, "--index", str(index))
    assert result.exit_code == exit_code_for("job_not_found") == 10
    assert result.stderr.startswith("pampax: job_not_found: no job 00000000")
    assert _run("jobs", "../../etc/passwd", "--index", str(index)).exit_code == exit_code_for("invalid_argument")


def test_a_bad_root_fails_at_once_and_queues_nothing(tmp_path):
    result = _run("index", str(tmp_path / "nope"), "--background")
    assert result.exit_code == exit_code_for("path_not_found")
    assert not (tmp_path / "nope").exists()


def test_a_failing_build_ends_failed_with_its_kind_and_keeps_the_index(shop_repo, tmp_path):
    # GIVEN an index, and a job queued for its repository, which is gone by the time the worker runs
    index = Path(build_index(shop_repo, tmp_path / "index.db").index)
    before = _generation(index)
    store = jobs_of(index)
    job = store.save(Job.queued(str(shop_repo)))
    shutil.rmtree(shop_repo)
    resolved = load_config(None)
    # WHEN the worker runs it
    failed = work(store, job.job_id, shop_repo, index, False, resolved, _telemetry(resolved, index))
    # THEN it is failed with the build's error kind, stored so, and the index is the one it was
    assert (failed.status, failed.error.kind, failed.report) == ("failed", "path_not_found", None)
    assert store.read(job.job_id) == failed and failed.pid == os.getpid()
    assert _generation(index) == before


@pytest.mark.parametrize("gone", [False, True], ids=["done", "failed"])
def test_the_worker_frees_the_build_lock_before_it_records_the_end(shop_repo, tmp_path, gone):
    # GIVEN a queued job whose worker holds the index's build lock, for a build that succeeds or fails
    index = tmp_path / "index.db"
    store = jobs_of(index)
    job = store.save(Job.queued(str(shop_repo)))
    if gone:
        shutil.rmtree(shop_repo)
    resolved = load_config(None)
    free_when_saved = []
    real_save = store.save

    def save(record):
        if record.is_finished:  # a waiter may start the next build as soon as it reads this record
            try:
                with store.hold(_BUILD_LOCK):
                    free_when_saved.append(True)
            except BlockingIOError:
                free_when_saved.append(False)
        return real_save(record)

    store.save = save
    with ExitStack() as held:
        build_lock = os.dup(held.enter_context(store.hold(_BUILD_LOCK)))  # the worker's inherited copy
        held.close()
        # WHEN the worker runs it THEN the lock is free by the time the finished record is written
        finished = work(store, job.job_id, shop_repo, index, False, resolved, _telemetry(resolved, index), build_lock)
    assert finished.status == ("failed" if gone else "done") and free_when_saved == [True]


def _start_mid_build(big_index, tmp_path, monkeypatch) -> tuple[Path, str, dict]:
    """Copy the big index, start a --full background refresh of it, and return once it is parsing."""
    repo, built = big_index
    index = Path(shutil.copyfile(built, tmp_path / "index.db"))
    monkeypatch.setenv("PAMPAX_INDEX_WORKERS", "2")  # the worker inherits it
    result = _run("index", str(repo), "--index", str(index), "--full", "--background")
    assert result.exit_code == 0, result.output
    job_id = json.loads(result.stdout)["job_id"]
    running = wait_for(lambda: (j := _job(index, job_id))["status"] != "queued" and j["progress"]["done"] and j)
    assert running["status"] == "running", f"the build finished before it could be interrupted: raise FILES ({running})"
    return index, job_id, running


def test_a_second_background_build_of_an_index_is_refused_while_one_runs(big_index, tmp_path, monkeypatch):
    index, job_id, running = _start_mid_build(big_index, tmp_path, monkeypatch)
    # WHEN another background build of the same index is asked for THEN it is refused, naming the running job
    refused = _run("index", str(big_index[0]), "--index", str(index), "--background")
    assert refused.exit_code == exit_code_for("build_running") == 11
    assert refused.stderr.startswith("pampax: build_running: ") and job_id in refused.stderr
    assert [j["job_id"] for j in json.loads(_run("jobs", "--index", str(index)).stdout)["jobs"]] == [job_id]
    # AND once the running one is done, the next one starts at once (its worker freed the lock before saying done)
    assert _run("jobs", job_id, "--index", str(index), "--wait").exit_code == 0
    started = _run("index", str(big_index[0]), "--index", str(index), "--background")
    assert started.exit_code == 0, started.output
    assert _run("jobs", json.loads(started.stdout)["job_id"], "--index", str(index), "--wait").exit_code == 0


def test_a_stopped_worker_rolls_back_and_ends_failed(big_index, tmp_path, monkeypatch):
    index, job_id, running = _start_mid_build(big_index, tmp_path, monkeypatch)
    before = _generation(big_index[1])
    os.kill(running["pid"], signal.SIGTERM)
    waited = _run("jobs", job_id, "--index", str(index), "--wait")
    assert waited.exit_code == exit_code_for("internal")
    failed = json.loads(waited.stdout)
    assert (failed["status"], failed["error"]["kind"]) == ("failed", "internal")
    assert failed["error"]["message"].startswith("interrupted")
    assert _generation(index) == before


def test_a_killed_worker_is_reported_failed_and_the_index_is_intact(big_index, tmp_path, monkeypatch):
    index, job_id, running = _start_mid_build(big_index, tmp_path, monkeypatch)
    before = _generation(big_index[1])
    os.kill(running["pid"], signal.SIGKILL)
    # THEN once the process is gone its job reads failed (it never wrote so itself), and stays so
    failed = wait_for(lambda: (j := _job(index, job_id))["status"] == "failed" and j)
    assert failed and failed["error"]["kind"] == "internal" and f"pid {running['pid']}" in failed["error"]["message"]
    assert json.loads((index.parent / "jobs" / f"{job_id}.json").read_text())["status"] == "failed"
    assert _generation(index) == before
