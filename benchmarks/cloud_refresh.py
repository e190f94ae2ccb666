"""Cloud index job figures: a full job against a one-file refresh job, as the index function runs them.

``python -m benchmarks.cloud_refresh --corpus medium`` archives the corpus as ``git archive`` would
(``tar.gz``, one top directory), runs ``jobs.run_message`` on it against an empty local artifact
store (the full build), then ``--trials`` times on an archive with ``Corpus.edit_file`` changed and
every member's mtime new (as each commit's archive has), so that every file is hashed and one is
parsed. Each job is timed end to end: archive fetch, unpack, current-generation fetch, build,
publish. The archives are written before the clock starts. Prints one JSON record.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from pampax import jobs
from pampax.config import Config, RuntimeSettings
from pampax.observability import MetricsSink, Telemetry, make_logger
from pampax.stores import LocalArtifactStore

from .corpora import CORPORA, fetch
from .stats import summarize


def write_archive(root: Path, dest: Path, top: str, edit: tuple[str, bytes] | None = None,
                  mtime: int | None = None) -> Path:
    """Write ``root`` as ``dest`` (tar.gz under ``top/``), with ``edit``'s file given new bytes and every mtime ``mtime``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz", compresslevel=1) as tar:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = path.relative_to(root).as_posix()
            info = tar.gettarinfo(path, f"{top}/{rel}")
            data = edit[1] if edit and rel == edit[0] else path.read_bytes()
            info.size = len(data)
            if mtime is not None:
                info.mtime = mtime
            tar.addfile(info, io.BytesIO(data))
    return dest


def measure(root: Path, edit_file: str, trials: int, work: Path) -> dict:
    """Return the full job's figures and the one-file refresh jobs' (seconds end to end, and the build's own)."""
    store = LocalArtifactStore(work / "store")
    config = Config(runtime=RuntimeSettings(store_dir=str(work / "store"), work_dir=str(work / "scratch")))
    settings = config.observability.model_copy(update={"log_level": "ERROR"})
    telemetry = Telemetry(settings, make_logger(settings, "benchmark", sys.stderr), MetricsSink(stream=io.StringIO()))
    top = root.name
    original = (root / edit_file).read_bytes()
    write_archive(root, work / "store" / "sources" / "full.tar.gz", top)
    for n in range(trials):
        change = original + f"\n# pampax cloud refresh {n}\n".encode()
        write_archive(root, work / "store" / "sources" / f"edit{n}.tar.gz", top, (edit_file, change),
                      mtime=int(time.time()) + n + 1)

    def run(source: str):
        started = time.perf_counter()
        job = jobs.run_message(json.dumps({"job_id": "0" * 32, "source": source}), store, config, telemetry)
        return time.perf_counter() - started, job.report

    full_seconds, full = run("sources/full.tar.gz")
    refreshes = [run(f"sources/edit{n}.tar.gz") for n in range(trials)]
    last = refreshes[-1][1]
    return {
        "files": full.files, "index_bytes": full.bytes,
        "full_job_seconds": round(full_seconds, 3), "full_build_seconds": full.seconds,
        "refresh_job": summarize([seconds for seconds, _ in refreshes]),
        "refresh_build": summarize([report.seconds for _, report in refreshes]),
        "refresh_parsed_files": last.parsed_files, "refresh_reused_files": last.reused_files,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="medium")
    parser.add_argument("--trials", type=int, default=3, help="one-file refresh jobs (default 3)")
    args = parser.parse_args()
    corpus = CORPORA[args.corpus]
    with tempfile.TemporaryDirectory(prefix="pampax-cloud-refresh-") as work:
        record = measure(fetch(corpus), corpus.edit_file, args.trials, Path(work))
    print(json.dumps({"corpus": corpus.requirement, **record}, indent=2))


if __name__ == "__main__":
    main()
