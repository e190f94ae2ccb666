"""Unpacking a source archive for an index job, refusing anything that could write outside the target.

Archives come from whoever can write ``sources/`` in the bucket, so they are untrusted: tar members
go through the stdlib's ``data`` filter (no absolute or ``..`` paths, no links leaving the target,
no devices), zip members are checked the same way by hand, and the declared unpacked size is
capped before anything is written.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from .errors import InvalidArgument


def extract(archive: Path, dest: Path, max_bytes: int) -> Path:
    """Return the repository root unpacked from ``archive`` (tar, tar.gz or zip) into ``dest``.

    A lone top-level directory (what ``git archive --prefix`` and GitHub tarballs make) is the
    root. Raises ``InvalidArgument`` for another format, an unsafe member, or more than
    ``max_bytes`` unpacked.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if tarfile.is_tarfile(archive):
        _extract_tar(archive, dest, max_bytes)
    elif zipfile.is_zipfile(archive):
        _extract_zip(archive, dest, max_bytes)
    else:
        raise InvalidArgument(f"{archive.name} is not a tar, tar.gz or zip archive")
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return dest


def _extract_tar(archive: Path, dest: Path, max_bytes: int) -> None:
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            _check_size(sum(m.size for m in members if m.isfile()), max_bytes)
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidArgument(f"cannot unpack {archive.name}: {type(exc).__name__}: {exc}") from exc


def _extract_zip(archive: Path, dest: Path, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = zipped.infolist()
            for info in infos:
                name = PurePosixPath(info.filename.replace("\\", "/"))
                if name.is_absolute() or ".." in name.parts:
                    raise InvalidArgument(f"cannot unpack {archive.name}: member {info.filename!r} leaves the target")
            _check_size(sum(i.file_size for i in infos), max_bytes)
            zipped.extractall(dest)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidArgument(f"cannot unpack {archive.name}: {type(exc).__name__}: {exc}") from exc


def _check_size(total: int, max_bytes: int) -> None:
    if total > max_bytes:
        raise InvalidArgument(f"archive unpacks to {total} bytes; the limit is {max_bytes} (runtime.max_archive_bytes)")
