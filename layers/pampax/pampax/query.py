"""Read a query the way a developer means it: identifiers, quoted error text, traceback frames, words.

The result is a plan of FTS5 tokens in priority order. Identifiers and traceback frames come first,
then quoted phrases, then plain words rarest-first; a pasted bug report with hundreds of words is
cut to the few that discriminate, because OR-ing every word costs ~100 ms on Django and ranks worse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .terms import IDENTIFIER, joined, split_identifier

# Python ("File "x.py", line 3, in f"), JS ("at f (x.js:3:1)"), Java ("at a.B.f(B.java:3)"), Go/Rust ("x.go:3").
_FRAMES = (
    # The indented lines after a Python frame quote the source of an *outer* caller; they are
    # consumed with the frame so their identifiers don't outvote the frame itself.
    re.compile(r'File "(?P<path>[^"]+)", line \d+, in (?P<func>[\w<>]+)(?:\n[ \t]+(?![ \t]*File ")[^\n]*)*'),
    re.compile(r"at (?:(?P<func>[\w.$<>]+) \()?(?P<path>[\w./\\@-]+\.[cm]?[jt]sx?):\d+"),
    re.compile(r"at [\w.$]+\.(?P<func>[\w$<>]+)\((?P<path>\w+\.java):\d+\)"),
    re.compile(r"(?P<path>[\w./-]+\.(?:go|rs)):\d+"),
)
_QUOTED = re.compile(r'"([^"\n]{8,300})"|\'([^\'\n]{8,300})\'|`([^`\n]{8,300})`')
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_WORD = re.compile(r"\w+")
# The message of a raised exception, as the last line of a traceback prints it.
_EXCEPTION_LINE = re.compile(
    r"^\s*(?:[\w.]+\.)?(?P<cls>\w*(?:Error|Exception|Warning|DoesNotExist|NotFound|Returned))\b:\s*(.+)$", re.M
)
# Runs of plain words between punctuation: in an error message the punctuation is often where a
# formatted value was substituted, so the runs are what the source's string literal holds verbatim.
_WORD_RUN = re.compile(r"[A-Za-z]+(?:[ \t]+[A-Za-z]+){2,}")
_MAX_PHRASES = 10
# Dotted words that name files, not code: "summary.html" is a path, not attribute access.
_FILE_SUFFIXES = frozenset("html htm txt json yaml yml css md rst cfg ini toml xml csv log py js ts".split())
# Receivers that say nothing about what is called on them.
_RECEIVERS = frozenset({"self", "cls", "this", "super"})
# A query of at most this many words with no traceback may itself be an error message.
_SENTENCE_WORDS = 40
STOPWORDS = frozenset(
    "a about above after again all also am an and any are as at be because been before being below between both but by "
    "can could did do does doing down during each few for from further had has have having he her here hers him his how "
    "i if in into is it its itself just me more most my no nor not now of off on once only or other our out over own "
    "same she should so some such than that the their them then there these they this those through to too under until "
    "up very was we were what when where which while who whom why will with would you your get got use used using "
    "want need like make way thing find work works working happen happens file line".split()
)


@dataclass(frozen=True, slots=True)
class Frame:
    path: str
    function: str | None
    depth: int  # 0 for the innermost frame (where the exception was raised)


@dataclass(slots=True)
class QueryPlan:
    identifiers: list[str] = field(default_factory=list)  # as written; "QuerySet.filter" stays dotted
    message_runs: list[list[str]] = field(default_factory=list)  # word runs of error messages, longest first
    frames: list[Frame] = field(default_factory=list)  # traceback frames, innermost first
    words: list[str] = field(default_factory=list)  # plain lowercase words, in order of appearance

    def frame_functions(self) -> list[str]:
        return list(dict.fromkeys(f.function for f in self.frames if f.function))

    def strong_terms(self) -> list[str]:
        """Return the tokens of identifiers and traceback functions: whole (lowercase) and joined forms."""
        terms: list[str] = []
        for identifier in self.frame_functions() + self.identifiers:
            for piece in identifier.split("."):
                terms.append(piece.lower())
                if len(split_identifier(piece)) > 1:
                    terms.append(joined(piece))
        return list(dict.fromkeys(t for t in terms if t))

    def word_terms(self) -> list[str]:
        """Return the tokens of prose, stopwords removed, in order of appearance."""
        return list(dict.fromkeys(t for t in self.words if len(t) > 1 and t not in STOPWORDS))

    def identifier_parts(self) -> list[str]:
        """Return the parts of a short query's identifiers (three or fewer), stopwords removed.

        They let ``getUserById`` find ``user_by_id`` helpers when nothing has the exact name.
        """
        if len(self.identifiers) > 3:
            return []
        parts = [p for i in self.identifiers for piece in i.split(".") for p in split_identifier(piece)]
        return list(dict.fromkeys(p for p in parts if len(p) > 1 and p not in STOPWORDS))


def plan_query(text: str) -> QueryPlan:
    """Return the plan of ``text``; never raises, whatever the text holds."""
    plan = QueryPlan()
    rest = text
    for pattern in _FRAMES:
        matches = list(pattern.finditer(text))
        # Python prints the innermost frame last ("most recent call last"); the others print it first.
        if pattern is _FRAMES[0]:
            matches.reverse()
        for match in matches:
            func = match.groupdict().get("func")
            plan.frames.append(Frame(match.group("path").replace("\\", "/"),
                                     func if func and func.isidentifier() else None, len(plan.frames)))
        rest = pattern.sub(" ", rest)
    plan.message_runs = _message_runs(rest, has_traceback=bool(plan.frames))
    # "django.core.exceptions.ImproperlyConfigured: <message>": only the message is searched; the
    # class and its module name the exception's definition, never the code that raised it.
    rest = _EXCEPTION_LINE.sub(lambda m: " " + m.group(2), rest)
    single_word = len(_WORD.findall(rest)) == 1
    seen: set[str] = set()
    for match in _DOTTED.finditer(rest):
        pieces = [p for p in match.group().split(".") if p not in _RECEIVERS]
        if pieces and pieces[-1].lower() not in _FILE_SUFFIXES:
            _add_identifier(plan, ".".join(pieces), seen)
    for word in IDENTIFIER.findall(_DOTTED.sub(" ", rest)):
        if single_word or _looks_like_code(word):
            _add_identifier(plan, word, seen)
        elif word.lower() not in STOPWORDS and len(word) > 1:
            plan.words.append(word.lower())
    for word in _WORD.findall(rest):
        if not IDENTIFIER.fullmatch(word) and word.lower() not in STOPWORDS:
            plan.words.append(word.lower())  # numbers, non-ASCII words
    plan.words = list(dict.fromkeys(plan.words))
    return plan


def _message_runs(text: str, has_traceback: bool) -> list[list[str]]:
    """Return word runs (three words or more) of the text's likely error messages, longest first."""
    sources = [m.group(2) for m in _EXCEPTION_LINE.finditer(text)]
    sources += [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]
    if not has_traceback and len(_WORD.findall(text)) <= _SENTENCE_WORDS:
        sources.append(text)
    runs: set[tuple[str, ...]] = set()
    for source in sources:
        for run in _WORD_RUN.findall(source):
            words = tuple(w.lower() for w in run.split())
            runs.add(words)
            # A run's first or last word is often a substituted value ("one Product" for "one %s").
            if len(words) >= 4:
                runs.update((words[1:], words[:-1]))
    return [list(r) for r in sorted(runs, key=lambda r: (-len(r), r))[:_MAX_PHRASES]]


def _add_identifier(plan: QueryPlan, identifier: str, seen: set[str]) -> None:
    if identifier not in seen:
        seen.add(identifier)
        plan.identifiers.append(identifier)


def _looks_like_code(word: str) -> bool:
    """Return whether a bare word is an identifier rather than prose: snake_case, camelCase, CONSTANT."""
    return "_" in word.strip("_") or len(split_identifier(word)) > 1 or (word.isupper() and len(word) > 2)
