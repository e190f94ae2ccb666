"""A `pampax index` killed mid-build leaves no parser worker alive and, on SIGTERM, no working copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .waiting import wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; prctl is Linux-only")

PAMPAX = Path(sys.executable).with_name("pampax")
# Enough files, each with enough functions, that two workers are still parsing when the signal lands.
FILES, FUNCTIONS = 400, 150


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("big")
    body = "".join(f"def f{n}(a, b):\n    return g{n}(a) + b\n\n" for n in range(FUNCTIONS))
    for n in range(FILES):
        (repo / f"m{n}.py").write_text(body)
    return repo


def _children(pid: int) -> set[int]:
    """Return the live (non-zombie) processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start(repo: Path, index: Path) -> subprocess.Popen:
    env = {**os.environ, "PAMPAX_INDEX_WORKERS": "2"}
    return subprocess.Popen([str(PAMPAX), "index", str(repo), "--index", str(index)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _mid_build(build: subprocess.Popen, index: Path) -> set[int]:
    """Wait until the build has workers and has opened its working copy; return the workers."""
    workers = wait_for(lambda: _children(build.pid) if list(index.parent.glob(".*.tmp")) else set())
    assert workers, "the build finished before it could be interrupted: raise FILES"
    return workers


def test_kill_9_mid_build_leaves_no_orphan_worker(big_repo, tmp_path):
    index = tmp_path / "index.db"
    build = _start(big_repo, index)
    workers = _mid_build(build, index)
    build.kill()
    build.wait()
    try:
        assert wait_for(lambda: not any(map(_alive, workers)), seconds=10), "workers outlived their parent"
    finally:  # a failing run must not leave its orphans behind
        for worker in filter(_alive, workers):
            os.kill(worker, signal.SIGKILL)


def test_sigterm_mid_build_removes_the_working_copy(big_repo, tmp_path):
    index = tmp_path / "index.db"
    build = _start(big_repo, index)
    workers = _mid_build(build, index)
    build.send_signal(signal.SIGTERM)
    assert build.wait(timeout=60) == 130
    assert b"pampax: interrupted" in build.stderr.read()
    assert list(tmp_path.glob(".*.tmp")) == [] and not index.exists()
    assert wait_for(lambda: not any(map(_alive, workers)), seconds=10)
