"""Rank files for a query: each file once, scored by named signals that ``explain`` shows.

    score = prior x (content + definitions x w_d + mentions x w_m + frames x w_f)

- ``content``: the file's best chunk score plus a share of its next two, over the best file's (0..1).
- ``definitions``: the code names the query writes (quoted code, calls, identifiers) that the file
  defines, each weighted by how often the query names it over how many files define it (0..1).
- ``mentions``: the query writes the file's path, links to it, or names its module (0..1).
- ``frames``: a traceback frame is in the file, the innermost highest (0..1).
- ``prior``: tests, non-code and loose scripts rank below the code they exercise, describe or drive
  (as far as the request's ``policy`` demotes them, ``pampax.policy``).
  A file is a test by its path's conventions or by its content (most of its functions are tests);
  a loose script is a Python file outside any package in a repository that has packages.

Every weight is a ``search.*`` setting, so calibration can tune it and an ablation can zero it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from .config import SearchSettings
from .index import Index
from .languages import is_parsed
from .policy import prior
from .query import Frame, QueryPlan

# Chunks of one file that add to its content score beyond its best one.
_EXTRA_CHUNKS = 2
_PACKAGE_MARKER = "__init__.py"
# Values bound in one ``IN (...)`` list, well below SQLite's limit on host parameters.
_IN_LIST = 500
# The best files whose imports share their score (the imports signal).
_IMPORTING_FILES = 10


@dataclass(slots=True)
class RankedFile:
    file_id: int
    path: str
    lang: str
    chunk_ids: list[int] = field(default_factory=list)  # best first: the pool's chunks, then defining chunks
    signals: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


def rank_files(index: Index, plan: QueryPlan, pool: list[tuple[int, int, float]], frame_files: dict[int, list[Frame]],
               settings: SearchSettings, policy: str = "code") -> list[RankedFile]:
    """Return files best first. ``pool`` holds (chunk id, file id, score without prior), best first."""
    files: dict[int, RankedFile] = {}
    content: dict[int, list[float]] = {}
    for chunk_id, file_id, score in pool:
        content.setdefault(file_id, []).append(score)
        _file(files, file_id).chunk_ids.append(chunk_id)
    definitions = _definitions(index, plan, settings.max_defining_files)
    for file_id, (_, chunk_ids) in definitions.items():
        _file(files, file_id).chunk_ids.extend(c for c in chunk_ids if c not in files[file_id].chunk_ids)
    mentions = _mentions(index, plan)
    for file_id in list(mentions) + list(frame_files):
        _file(files, file_id)
    _describe(index, files)

    best_content = max((_aggregate(s, settings) for s in content.values()), default=0.0) or 1.0
    best_definition = max((d for d, _ in definitions.values()), default=0.0) or 1.0
    priors = _priors(index, files, settings, policy)
    for file_id, ranked in files.items():
        ranked.signals = {
            "content": _aggregate(content.get(file_id, []), settings) / best_content,
            "definitions": definitions.get(file_id, (0.0, ()))[0] / best_definition,
            "mentions": mentions.get(file_id, 0.0),
            "frames": _frame_score(frame_files.get(file_id, ()), settings),
            "imports": 0.0,
            "prior": priors[file_id],
        }
        ranked.score = _score(ranked.signals, settings)
    _propagate_imports(index, files, settings, policy)
    ranked_files = [f for f in files.values() if f.chunk_ids and f.score > 0]
    return sorted(ranked_files, key=lambda f: (-round(f.score, 9), f.path))


def _score(s: dict[str, float], settings: SearchSettings) -> float:
    return s["prior"] * (s["content"] + settings.definition_weight * s["definitions"]
                         + settings.mention_weight * s["mentions"] + settings.frame_weight * s["frames"]
                         + settings.import_weight * s["imports"])


def _propagate_imports(index: Index, files: dict[int, RankedFile], settings: SearchSettings, policy: str) -> None:
    """Give the modules the best files import a share of their score: the code a match leans on.

    Each of the ``_IMPORTING_FILES`` best files passes score / sqrt(modules it imports) to each
    project module it imports, so a file importing two modules vouches for each more than one
    importing thirty. The sum is over the best file's score (0..1, more when several vouch).
    """
    if not settings.import_weight:
        return
    best = sorted(files.values(), key=lambda f: (-round(f.score, 9), f.path))[:_IMPORTING_FILES]
    if not best or best[0].score <= 0:
        return
    by_id = {f.file_id: f for f in best}
    marks = ",".join("?" * len(by_id))
    targets: dict[int, set[str]] = {}
    for file_id, name, module in index.query(
            f"SELECT DISTINCT file_id, name, coalesce(module, name) FROM imports WHERE file_id IN ({marks})",
            sorted(by_id)):
        base = _module_path(by_id[file_id].path, module or "")
        if base:
            targets.setdefault(file_id, set()).update(
                {f"{base}.py", f"{base}/{_PACKAGE_MARKER}", f"{base}/{name}.py"})
    found = _indexed(index, sorted(set().union(*targets.values())) if targets else [])
    share: dict[int, float] = {}
    for file_id, candidates in targets.items():
        modules = {found[p] for p in candidates if p in found} - {file_id}
        for target in modules:
            share[target] = share.get(target, 0.0) + by_id[file_id].score / len(modules) ** 0.5 / best[0].score
    new = [t for t in share if t not in files]
    for target in new:
        _file(files, target)
    if new:
        _describe(index, {t: files[t] for t in new})
        priors = _priors(index, {t: files[t] for t in new}, settings, policy)
        for target in new:
            files[target].signals = {"content": 0.0, "definitions": 0.0, "mentions": 0.0, "frames": 0.0,
                                     "imports": 0.0, "prior": priors[target]}
    for target, value in share.items():
        files[target].signals["imports"] = value
        files[target].score = _score(files[target].signals, settings)


def _module_path(importer: str, module: str) -> str | None:
    """Return the repository path (no suffix) of ``module`` as ``importer`` names it; None if it can't be."""
    if module.startswith("."):
        dots = len(module) - len(module.lstrip("."))
        base = posixpath.dirname(importer)
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        rest = module[dots:].replace(".", "/")
        return f"{base}/{rest}".strip("/") if rest else base or None
    return module.replace(".", "/") or None


def _batches(values: list) -> list[list]:
    """Return ``values`` in slices small enough for one ``IN (...)`` list each."""
    return [values[start:start + _IN_LIST] for start in range(0, len(values), _IN_LIST)]


def _file(files: dict[int, RankedFile], file_id: int) -> RankedFile:
    if file_id not in files:
        files[file_id] = RankedFile(file_id, "", "")
    return files[file_id]


def _aggregate(scores: list[float], settings: SearchSettings) -> float:
    if not scores:
        return 0.0
    ordered = sorted(scores, reverse=True)
    return ordered[0] + settings.file_chunk_share * sum(ordered[1:1 + _EXTRA_CHUNKS])


def _definitions(index: Index, plan: QueryPlan, max_files: int) -> dict[int, tuple[float, list[int]]]:
    """Return {file id: (definition evidence, ids of the chunks holding the definitions)}.

    A name defined in more than ``max_files`` files says nothing about which one the query means.
    """
    if not plan.names:
        return {}
    names = sorted(plan.names)
    marks = ",".join("?" * len(names))
    spread = dict(index.query(
        f"SELECT lname, count(DISTINCT file_id) FROM symbols WHERE lname IN ({marks}) GROUP BY lname", names))
    wanted = sorted(n for n, count in spread.items() if count <= max_files)
    if not wanted:
        return {}
    top = max(plan.names[n] for n in wanted)
    marks = ",".join("?" * len(wanted))
    rows = index.query(
        f"""SELECT s.lname, s.file_id, min(c.id) FROM symbols s
            JOIN chunks c ON c.file_id = s.file_id AND s.start_line BETWEEN c.start_line AND c.end_line
            WHERE s.lname IN ({marks}) AND s.kind NOT IN ('module', 'constant')
            GROUP BY s.lname, s.file_id ORDER BY s.file_id, s.lname""", wanted)
    found: dict[int, tuple[float, list[int]]] = {}
    for name, file_id, chunk_id in rows:
        evidence, chunks = found.get(file_id, (0.0, []))
        found[file_id] = (evidence + plan.names[name] / top / spread[name], chunks + [chunk_id])
    return found


def _mentions(index: Index, plan: QueryPlan) -> dict[int, float]:
    """Return {file id: 1.0 for a path written out, 0.5 for a package named as a dotted module}.

    A written path finds its longest indexed suffix (see ``files_by_suffix``); a dotted module finds
    its file, ``astropy.modeling.separable`` -> ``astropy/modeling/separable.py``.
    """
    found = {file_id: 1.0 for file_id in files_by_suffix(index, plan.paths).values()}
    wanted: dict[str, float] = {}
    for identifier in plan.identifiers:
        pieces = identifier.split(".")
        for end in range(len(pieces), 1, -1):
            module = "/".join(pieces[:end])
            wanted.setdefault(module + ".py", 1.0)
            wanted.setdefault(f"{module}/{_PACKAGE_MARKER}", 0.5)
    for path, file_id in _indexed(index, sorted(wanted)).items():
        found[file_id] = max(found.get(file_id, 0.0), wanted[path])
    return found


def files_by_suffix(index: Index, paths: list[str]) -> dict[str, int]:
    """Return {path: id of the file at its longest suffix that is an indexed path}, for the paths that have one.

    ``/usr/lib/python3.11/site-packages/django/shortcuts.py`` finds ``django/shortcuts.py``.
    """
    suffixes: dict[str, list[str]] = {}  # longest first
    for path in paths:
        parts = path.strip("/").split("/")
        suffixes[path] = ["/".join(parts[start:]) for start in range(len(parts))]
    indexed = _indexed(index, sorted({s for candidates in suffixes.values() for s in candidates}))
    return {path: indexed[hit] for path, candidates in suffixes.items()
            if (hit := next((s for s in candidates if s in indexed), None))}


def _indexed(index: Index, paths: list[str]) -> dict[str, int]:
    """Return {path: file id} for the given repository paths the index holds."""
    found: dict[str, int] = {}
    for batch in _batches(paths):
        found.update((path, file_id) for file_id, path in index.query(
            f"SELECT id, path FROM files WHERE path IN ({','.join('?' * len(batch))})", batch))
    return found


def _frame_score(frames, settings: SearchSettings) -> float:
    # The innermost frames are where a fix usually goes; outer frames are the road there.
    return max((max(settings.outer_frame_floor, 1 - settings.frame_decay * f.depth) for f in frames), default=0.0)


def _describe(index: Index, files: dict[int, RankedFile]) -> None:
    """Fill in path and language, and give files without a pool chunk their first chunk."""
    ids = sorted(files)
    for batch in _batches(ids):
        marks = ",".join("?" * len(batch))
        for file_id, path, lang, first in index.query(
                f"""SELECT f.id, f.path, f.lang, (SELECT min(c.id) FROM chunks c WHERE c.file_id = f.id)
                    FROM files f WHERE f.id IN ({marks})""", batch):
            ranked = files[file_id]
            ranked.path, ranked.lang = path, lang
            if not ranked.chunk_ids and first is not None:
                ranked.chunk_ids.append(first)


def _priors(index: Index, files: dict[int, RankedFile], settings: SearchSettings, policy: str) -> dict[int, float]:
    tests = _test_files(index, sorted(files))
    packages = _package_dirs(index)
    priors = {}
    for file_id, ranked in files.items():
        if file_id in tests:
            priors[file_id] = prior("test", policy, settings.test_factor)
        elif not is_parsed(ranked.lang):
            priors[file_id] = prior("prose", policy, settings.prose_factor)
        elif ranked.lang == "python" and packages and posixpath.dirname(ranked.path) not in packages:
            priors[file_id] = prior("script", policy, settings.script_factor)
        else:
            priors[file_id] = 1.0
    return priors


def _test_files(index: Index, ids: list[int]) -> set[int]:
    """Return the files that are tests: by path convention, or because most of their functions are tests."""
    tests: set[int] = set()
    for batch in _batches(ids):
        marks = ",".join("?" * len(batch))
        tests.update(r[0] for r in index.query(f"SELECT id FROM files WHERE is_test AND id IN ({marks})", batch))
        tests.update(r[0] for r in index.query(
            f"""SELECT file_id FROM symbols WHERE file_id IN ({marks}) AND kind IN ('function', 'method')
                GROUP BY file_id HAVING sum(name GLOB 'test*') >= 2 AND 2 * sum(name GLOB 'test*') >= count(*)""",
            batch))
    return tests


def _package_dirs(index: Index) -> frozenset[str]:
    """Return the directories that are Python packages (hold an ``__init__.py``), once per open index."""
    return index.memo("package_dirs", lambda: frozenset(
        posixpath.dirname(p) for (p,) in index.query(
            "SELECT path FROM files WHERE path = ? OR path LIKE ?", (_PACKAGE_MARKER, f"%/{_PACKAGE_MARKER}"))))
