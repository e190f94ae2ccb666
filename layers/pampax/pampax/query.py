"""Read a query the way a developer means it: identifiers, quoted error text, traceback frames, words.

The result is a plan of FTS5 tokens in priority order. Identifiers and traceback frames come first,
then quoted phrases, then plain words rarest-first; a pasted bug report with hundreds of words is
cut to the few that discriminate, because OR-ing every word costs ~100 ms on Django and ranks worse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .terms import IDENTIFIER, fold, name_forms, split_identifier

# Every pattern here is linear in the text's length: tokens have bounded lengths and a match can
# only start where a token starts (a lookbehind), so a 64 KiB run of one letter cannot backtrack.
# Python ("File "x.py", line 3, in f"), JS ("at f (x.js:3:1)"), Java ("at a.B.f(B.java:3)"), Go/Rust ("x.go:3").
_FRAMES = (
    # The indented lines after a Python frame quote the source of an *outer* caller; they are
    # consumed with the frame so their identifiers don't outvote the frame itself.
    re.compile(r'File "(?P<path>[^"\n]{1,500})", line \d{1,9}, in (?P<func>[\w<>]{1,200})'
               r'(?:\n[ \t]+(?![ \t]*File ")[^\n]*)*'),
    re.compile(r"(?<![\w.$<>])at (?:(?P<func>[\w.$<>]{1,200}) \()?(?P<path>[\w./\\@-]{1,300}\.[cm]?[jt]sx?):\d+"),
    re.compile(r"(?<![\w.$])at [\w.$]{1,300}\.(?P<func>[\w$<>]{1,200})\((?P<path>\w{1,200}\.java):\d+\)"),
    re.compile(r"(?<![\w./-])(?P<path>[\w./-]{1,300}\.(?:go|rs)):\d+"),
)
_QUOTED = re.compile(r'"([^"\n]{8,300})"|\'([^\'\n]{8,300})\'|`([^`\n]{8,300})`')
DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w{0,99}(?:\.[A-Za-z_]\w{0,99})+")
_WORD = re.compile(r"\w+")
# The message of a raised exception, as the last line of a traceback prints it.
EXCEPTION_LINE = re.compile(
    r"^[ \t]*(?:[\w.]{0,200}\.)?(?P<cls>\w{0,100}(?:Error|Exception|Warning|DoesNotExist|NotFound|Returned))\b:"
    r"[ \t]*(.+)$", re.M
)
# Runs of plain words between punctuation: in an error message the punctuation is often where a
# formatted value was substituted, so the runs are what the source's string literal holds verbatim.
_WORD_RUN = re.compile(r"(?<![A-Za-z])[A-Za-z]{1,50}(?:[ \t]{1,8}[A-Za-z]{1,50}){2,}")
_MAX_PHRASES = 10
# Only this much of a query is planned: a pasted report is a few KB, and the cap bounds a 64 KiB one.
MAX_PLANNED_CHARS = 20_000
# An environment listing ("numpy: 1.24.1", "commit: None", "requests==2.31"), which issue templates
# ask for, names the reporter's packages, not the code at fault: a run of such lines is dropped.
_LISTING_LINE = re.compile(r"[ \t]*[-*]?[ \t]*[\w.()/ -]{1,40}?(?::[ \t]+|[ \t]*==[ \t]*)(?P<value>\S[^\n]{0,150})")
_VERSION_VALUE = re.compile(r"\d|\b(?:None|True|False)\b")
# A listing has this many key: value lines or more, a third of them versions, numbers or None, and
# may be broken by single other lines ("[GCC 7.3.0]" under "python: 3.6.8 ...").
_LISTING_RUN = 4
_LISTING_HEADING, _HEADING_CHARS = 4, 80
# Links: a link to a source file (".../blob/<ref>/path/to/file.py#L10") names that file; the rest is noise.
_URL = re.compile(r"https?://[^\s<>()\[\]`'\"]{1,500}")
_SOURCE_LINK = re.compile(r"/(?:blob|tree|raw)/[^/\s]{1,100}/(?P<path>[^#?\s]{1,300})")
# A path written out ("xarray/core/dataset.py", "lib/foo/bar.rs"): a file the reporter points at.
_PATH = re.compile(r"(?<![\w./-])(?P<path>(?:[\w.-]{1,100}/){1,20}[\w.-]{1,100}\.[A-Za-z]{1,8})(?![\w/])")
# "Traceback (most recent call last):" says a traceback follows, nothing about the code in it.
_TRACEBACK_HEADER = re.compile(r"Traceback \(most recent call last\):")
# Commit ids and other hex digests are not words anyone searches for.
_HEX = re.compile(r"(?<![\w.])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,64}(?![\w.])")
# Code the report quotes: fenced blocks, `inline` spans, doctest and indented lines; and call syntax.
_FENCED = re.compile(r"```[^\n]{0,40}\n(?P<code>.*?)(?:```|\Z)", re.S)
_INLINE = re.compile(r"`(?P<code>[^`\n]{1,300})`")
_CODE_LINE = re.compile(r"^(?:[ \t]*(?:>>>|\.\.\.|In \[\d{1,5}\]:)[ \t]|(?: {4}|\t))(?P<code>[^\n]{0,500})$", re.M)
# "M1 = Matrix(...)", "x0, y0 = ...": names the reporter's own code assigns are its variables, not the project's.
_ASSIGNED = re.compile(r"^[ \t]*(?:>>>[ \t]*)?(?P<targets>[A-Za-z_]\w{0,99}(?:[ \t]*,[ \t]*[A-Za-z_]\w{0,99}){0,20})[ \t]*=(?!=)", re.M)
_CALL = re.compile(r"(?<![\w.])(?:[A-Za-z_]\w{0,99}\.){0,8}(?P<name>[A-Za-z_]\w{0,99})\(")
# Names in code that are the language's own, not the project's.
_CODE_NOISE = frozenset(
    "import from as def class return print len range str int float list dict set tuple type object none true false "
    "self cls lambda for while if else elif try except finally with raise assert yield async await pass break continue "
    "and or not in is del global nonlocal super isinstance getattr setattr hasattr np numpy pd array".split()
)
# A name the title of a report writes as code outweighs the same name in its body.
TITLE_WEIGHT = 2.0
# Dotted words that name files, not code: "summary.html" is a path, not attribute access.
_FILE_SUFFIXES = frozenset("html htm txt json yaml yml css md rst cfg ini toml xml csv log py js ts".split())
# Receivers that say nothing about what is called on them.
_RECEIVERS = frozenset({"self", "cls", "this", "super"})
# A query of at most this many words with no traceback may itself be an error message.
SENTENCE_WORDS = 40
# Quoted strings are read as error messages only in a query of at most this many words.
_QUOTES_WORDS = 300
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
    # Names the query writes as code (quoted code, call syntax, identifiers), lowercase -> weight:
    # mentions, doubled in the title. The definitions signal ranks the files that define them.
    names: dict[str, float] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)  # file paths written out or linked to
    intent: str = "bug_report"  # how the text was read (``pampax.intent``); the default reads everything

    def frame_functions(self) -> list[str]:
        return list(dict.fromkeys(f.function for f in self.frames if f.function))

    def strong_terms(self) -> list[str]:
        """Return the tokens of identifiers and traceback functions: whole (lowercase) and joined forms."""
        terms: list[str] = []
        for identifier in self.frame_functions() + self.identifiers:
            for piece in identifier.split("."):
                terms += name_forms(piece)
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


def plan_query(text: str, intent: str = "bug_report") -> QueryPlan:
    """Return the plan of ``text`` read as ``intent`` (see ``pampax.intent``); never raises, whatever the text holds.

    ``bug_report`` reads everything (frames, listings, code names, error messages in a short text);
    ``identifier`` reads every identifier-shaped token as a name and no message; ``error`` reads the
    whole text as an error message whatever its length; ``question`` reads only its quoted strings so.
    """
    plan = QueryPlan(intent=intent)
    text, plan.paths = _strip_noise(text[:MAX_PLANNED_CHARS])
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
    plan.message_runs = [] if intent == "identifier" else _message_runs(rest, bool(plan.frames), intent)
    # "django.core.exceptions.ImproperlyConfigured: <message>": only the message is searched; the
    # class and its module name the exception's definition, never the code that raised it.
    rest = EXCEPTION_LINE.sub(lambda m: " " + m.group(2), rest)
    as_names = intent == "identifier" or len(_WORD.findall(rest)) == 1
    seen: set[str] = set()
    for match in DOTTED.finditer(rest):
        pieces = [p for p in match.group().split(".") if p not in _RECEIVERS]
        if pieces and pieces[-1].lower() not in _FILE_SUFFIXES:
            _add_identifier(plan, ".".join(pieces), seen)
    for word in _WORD.findall(DOTTED.sub(" ", rest)):
        if not IDENTIFIER.fullmatch(word):  # "café", "Größe", "3d": folded as the index folds them
            if not word.isdigit() and (folded := fold(word)) not in STOPWORDS:
                plan.words.append(folded)
        elif as_names or _looks_like_code(word):
            _add_identifier(plan, word, seen)
        elif word.lower() not in STOPWORDS and len(word) > 1:
            plan.words.append(word.lower())
    plan.words = list(dict.fromkeys(plan.words))
    plan.names = _code_names(text, plan)
    return plan


def _strip_noise(text: str) -> tuple[str, list[str]]:
    """Return the text without environment listings, links and digests, and the source paths it names."""
    lines = text.split("\n")
    dropped = _listing_lines(lines)
    text = "\n".join(line for number, line in enumerate(lines) if number not in dropped)
    paths = [m["path"] for url in _URL.findall(text) if (m := _SOURCE_LINK.search(url))]
    text = _TRACEBACK_HEADER.sub(" ", _HEX.sub(" ", _URL.sub(" ", text)))
    paths += [m["path"] for m in _PATH.finditer(text)]
    return text, list(dict.fromkeys(p.strip("/") for p in paths))


def _listing_lines(lines: list[str]) -> set[int]:
    """Return the numbers of the lines that belong to environment listings."""
    dropped: set[int] = set()
    run: list[int] = []  # the listing lines of the current run
    versions = 0

    def close() -> None:
        if len(run) >= _LISTING_RUN and 3 * versions >= len(run):
            start = run[0]
            # ... with its heading: "Output of `xr.show_versions()`", "<details>", "INSTALLED VERSIONS".
            while start > 1 and run[0] - start < _LISTING_HEADING and len(lines[start - 1]) <= _HEADING_CHARS:
                start -= 1
            dropped.update(range(start, run[-1] + 1))

    for number, line in enumerate(lines):
        # The pattern backtracks over a line's indentation (~30 µs a line): only a line with a
        # separator in it can match.
        has_separator = ": " in line or ":\t" in line or "==" in line
        match = _LISTING_LINE.fullmatch(line) if has_separator and line.strip() else None
        if match:
            if run and number - run[-1] > 2:  # more than one other line since the last: a new run
                close()
                run, versions = [], 0
            run.append(number)
            versions += bool(_VERSION_VALUE.search(match["value"]))
    close()
    return dropped


def _code_names(text: str, plan: QueryPlan) -> dict[str, float]:
    """Return {lowercase name: weight} of the names the query writes as code.

    A name's weight is how many times it is written as code (each place once, whichever pattern
    found it), doubled when the title names it; a code-like identifier counts wherever it appears.
    """
    stripped = text.lstrip()
    newline = stripped.find("\n")
    title_end = len(text) - len(stripped) + (newline if newline >= 0 else len(stripped))
    at: dict[str, set[int]] = {}
    words: dict[str, list[int]] = {}
    for match in IDENTIFIER.finditer(text):
        words.setdefault(match.group().lower(), []).append(match.start())

    def add(name: str, offsets, prose_too: bool) -> None:
        # A word of quoted code may be prose ("where" in a comment); a called or dotted name is code.
        lower = name.lower()
        if len(lower) > 1 and lower not in _CODE_NOISE and not lower.startswith("__") and (
                not prose_too or lower not in STOPWORDS):
            at.setdefault(lower, set()).update(offsets)

    regions = [(m.start("code"), m["code"]) for pattern in (_FENCED, _INLINE, _CODE_LINE) for m in pattern.finditer(text)]
    for base, region in regions:
        for match in IDENTIFIER.finditer(region):
            add(match.group(), [base + match.start()], prose_too=True)
    for match in _CALL.finditer(text):
        add(match["name"], [match.start("name")], prose_too=False)
    for identifier in plan.frame_functions() + plan.identifiers:
        for piece in identifier.split(".")[1:] or [identifier]:  # the first piece is often an alias: "np.", "xr."
            add(piece, words.get(piece.lower(), ()), prose_too=False)
    for _, region in regions:
        for match in _ASSIGNED.finditer(region):
            for target in match["targets"].split(","):
                at.pop(target.strip().lower(), None)
    return {name: len(offsets) * (TITLE_WEIGHT if min(offsets, default=title_end) < title_end else 1.0)
            for name, offsets in at.items() if offsets}


def _message_runs(text: str, has_traceback: bool, intent: str) -> list[list[str]]:
    """Return word runs (three words or more) of the text's likely error messages, longest first."""
    sources = [m.group(2) for m in EXCEPTION_LINE.finditer(text)]
    words = len(_WORD.findall(text))
    if words <= _QUOTES_WORDS or intent == "error":  # in a long report, quoted strings are mostly its code's literals
        sources += [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]
    if intent == "error" or intent == "bug_report" and not has_traceback and words <= SENTENCE_WORDS:
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
