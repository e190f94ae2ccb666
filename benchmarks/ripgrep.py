"""The side-by-side baseline: ripgrep over the same tree for the same identifier and error-string queries.

What a developer would type: ``rg -l -w -F IDENT`` for an identifier (whole word, literal) and
``rg -l -F TEXT`` for an error string (its first line, when a pasted error spans several: rg
matches line by line), over the corpus root, with ripgrep's defaults otherwise (it honours ignore
files and skips hidden and binary files, as pampax's walk does). Timed from spawn to exit after one
untimed run per query, so the tree is in the OS page cache for both tools.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import partial
from pathlib import Path

from .query_set import Query, of_type
from .slots import skipped
from .stats import summarize, timed

RG = "rg"
FLAGS = {"identifier": ("-l", "-w", "-F"), "error": ("-l", "-F")}


def version() -> str | None:
    """Return ripgrep's version line, or None when ``rg`` is not installed."""
    if shutil.which(RG) is None:
        return None
    return subprocess.run([RG, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]


def rg_figures(root: Path, queries: list[Query], trials: int) -> dict:
    """Return rg p50/p95/max per query type and the share of queries whose expected file rg lists."""
    if shutil.which(RG) is None:
        return {f"rg.{kind}": skipped("ripgrep not installed (Debian package ripgrep)") for kind in FLAGS}
    figures = {}
    for kind, flags in FLAGS.items():
        chosen = of_type(queries, kind)
        if not chosen:
            continue
        listed = {q.id: _files(root, flags, q.query) for q in chosen}  # also the warm-up run
        samples = [timed(partial(_files, root, flags, q.query))[0] for _ in range(trials) for q in chosen]
        found = sum(1 for q in chosen if set(q.expect) & listed[q.id])
        figures[f"rg.{kind}"] = {**summarize(samples), "found_expected": round(found / len(chosen), 4)}
    return figures


def lines(root: Path, identifier: str) -> None:
    """Run ``rg -n -w -F IDENT`` over ``root`` as a developer would to find an identifier's lines (output dropped)."""
    subprocess.run([RG, "--no-config", "-n", "-w", "-F", "--", identifier, "."], cwd=root,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def _files(root: Path, flags: tuple[str, ...], text: str) -> set[str]:
    """Return the files rg lists for ``text``'s first line, relative to ``root`` (exit 1 means none, not an error)."""
    pattern = text.strip().splitlines()[0]
    done = subprocess.run([RG, "--no-config", *flags, "--", pattern, "."], cwd=root, capture_output=True, text=True,
                          check=False)
    if done.returncode > 1:
        raise RuntimeError(f"rg failed on {text[:60]!r}: {done.stderr.strip()}")
    return {line.removeprefix("./") for line in done.stdout.splitlines()}
