"""The pinned benchmark corpora: fetched as sdists with pip, verified by sha256, unpacked once.

The corpora are never committed. ``fetch`` downloads with ``pip download --no-deps --no-binary
:all:`` (so every machine gets the same bytes from PyPI), refuses any file whose sha256 differs from
the table (targets.md: a mismatch is an error, not a warning), and unpacks into
``benchmarks/.cache/`` (git-ignored). A second call finds the verified tree and does nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
CACHE = BENCHMARKS / ".cache"
QUERIES = BENCHMARKS / "queries"


@dataclass(frozen=True, slots=True)
class Corpus:
    name: str
    package: str
    version: str
    sha256: str
    queries: str | None  # file under benchmarks/queries/, None when the corpus has no query set
    edit_file: str  # the file the re-index figure changes, relative to the tree's root

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


# Pinned in benchmarks/targets.md, which a test keeps in step with this table.
CORPORA = {
    "small": Corpus("small", "requests", "2.32.3", "55365417734eb18255590a9ff9eb97e9e1da868d4ccd6402399eaf68af20a760",
                    "requests.json", "src/requests/models.py"),
    "medium": Corpus("medium", "django", "5.2.8", "23254866a5bb9a2cfa6004e8b809ec6246eba4b58a7589bc2772f1bcc8456c7f",
                     "django.json", "django/db/models/query.py"),
    "large": Corpus("large", "sympy", "1.13.3", "b27fd2c6530e0ab39e275fc9b683895367e51d5da91baa8d3d64db2565fec4d9",
                    None, "sympy/core/basic.py"),
}


class FetchFailed(RuntimeError):
    """pip could not download the sdist (no network, no index): the corpus is unavailable, not wrong."""


class ChecksumMismatch(RuntimeError):
    """The downloaded sdist is not the pinned one: an error, never a warning."""


def fetch(corpus: Corpus, cache: Path = CACHE) -> Path:
    """Return the root of the corpus's unpacked source tree, downloading and verifying it if needed.

    Raises ``FetchFailed`` when pip cannot download it and ``ChecksumMismatch`` when the sdist is
    not the pinned one (the bad file is deleted so a retry downloads again).
    """
    marker = cache / "src" / f"{corpus.package}-{corpus.version}.sha256"
    root = cache / "src" / f"{corpus.package}-{corpus.version}"
    if marker.is_file() and marker.read_text().strip() == corpus.sha256 and root.is_dir():
        return root
    archive = _download(corpus, cache / "sdist")
    _unpack(archive, root)
    marker.write_text(corpus.sha256 + "\n")
    return root


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(corpus: Corpus, directory: Path) -> Path:
    """Return the verified sdist in ``directory``, calling pip only when no verified copy is there."""
    directory.mkdir(parents=True, exist_ok=True)
    archive = _find_sdist(corpus, directory)
    if archive is None:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                   corpus.requirement, "-d", str(directory)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        archive = _find_sdist(corpus, directory)
        if done.returncode != 0 or archive is None:
            reason = (done.stderr.strip().splitlines() or ["no sdist downloaded"])[-1]
            raise FetchFailed(f"pip download {corpus.requirement} failed: {reason}")
    actual = sha256_of(archive)
    if actual != corpus.sha256:
        archive.unlink()
        raise ChecksumMismatch(f"{archive.name}: sha256 {actual}, pinned {corpus.sha256}")
    return archive


def _find_sdist(corpus: Corpus, directory: Path) -> Path | None:
    # pip names the file after the project as PyPI spells it (Django 5.x ships django-5.2.8.tar.gz).
    prefix = f"{corpus.package}-{corpus.version}.tar.gz".lower()
    return next((p for p in sorted(directory.iterdir()) if p.name.lower() == prefix), None)


def _unpack(archive: Path, root: Path) -> None:
    """Unpack the sdist's single top directory to ``root``, via a scratch directory so a crash leaves no half tree."""
    scratch = root.with_name(root.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    scratch.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(scratch, filter="data")  # "data": no absolute paths, links out of the tree or devices
    (top,) = scratch.iterdir()  # a verified sdist has exactly one top directory
    top.rename(root)
    scratch.rmdir()
