"""The reference baseline beside pampax in every relevance run: Okapi BM25, one document per file.

It is the product side's 60-line baseline (``relevance-dev/baseline_bm25.py``) restated so the
repository stands alone: a file's document is its path plus its text, tokens are the identifiers
and words of both, lowercased, with their snake_case and camelCase parts; k1 1.2, b 0.75,
idf ln(1 + (N - df + 0.5) / (df + 0.5)); the whole issue text is the query, repeats counting.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter, defaultdict
from pathlib import Path

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = frozenset("a an and are as at be but by for from has have if in into is it its of on or that the their "
                  "then there these this to was were will with not no can do does we you i".split())
_MAX_BYTES = 1 << 20
K1, B = 1.2, 0.75


def tokenize(text: str) -> list[str]:
    out: list[str] = []
    for word in _WORD.findall(text):
        lower = word.lower()
        if len(lower) >= 2 and lower not in _STOP:
            out.append(lower)
        for part in (p.lower() for piece in word.split("_") for p in _CAMEL.findall(piece)):
            if len(part) >= 2 and part not in _STOP and part != lower:
                out.append(part)
    return out


class FileBM25:
    """BM25 over the files of ``root`` whose names end in one of ``suffixes``."""

    def __init__(self, root: Path, suffixes: tuple[str, ...] = (".py",)):
        self.names: list[str] = []
        self.lengths: list[int] = []
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for rel, text in _documents(root, suffixes):
            doc = len(self.names)
            tokens = tokenize(rel) + tokenize(text)
            self.names.append(rel)
            self.lengths.append(len(tokens))
            for term, tf in Counter(tokens).items():
                self.postings[term].append((doc, tf))
        self.average = sum(self.lengths) / len(self.names) if self.names else 1.0

    def rank(self, query: str, top: int = 100) -> list[str]:
        scores: dict[int, float] = defaultdict(float)
        n = len(self.names)
        for term, qtf in Counter(tokenize(query)).items():
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for doc, tf in postings:
                norm = tf + K1 * (1 - B + B * self.lengths[doc] / self.average)
                scores[doc] += qtf * idf * tf * (K1 + 1) / norm
        order = sorted(scores, key=lambda d: (-scores[d], self.names[d]))
        return [self.names[d] for d in order[:top]]


def _documents(root: Path, suffixes: tuple[str, ...]):
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != ".git")
        for name in sorted(files):
            full = os.path.join(directory, name)
            if not name.endswith(suffixes) or os.path.islink(full) or os.path.getsize(full) > _MAX_BYTES:
                continue
            data = Path(full).read_bytes()
            if b"\0" not in data[:8192]:
                yield os.path.relpath(full, root).replace(os.sep, "/"), data.decode("utf-8", errors="ignore")
