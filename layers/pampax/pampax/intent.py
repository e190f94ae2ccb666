"""What a query is, and so how it is read: an identifier, an error message, a question or a bug report.

A request names its intent or leaves it ``auto``; ``auto`` tells them apart from the shape of the
text (``detect``), and the response's ``explain`` says which it chose and why. Each intent changes
the reading (``pampax.query.plan_query``) and the scoring:

- ``identifier``: every identifier-shaped token is a name to find, stopwords included (``get``,
  ``filter``); no prose words, no message phrases; the name boosts are multiplied by
  ``search.identifier_boost``.
- ``error``: the whole text is an error message: its word runs are matched verbatim (the phrase
  boost) whatever its length, as are its quoted strings.
- ``question``: prose: its words and the names it writes as code; the text itself is not matched
  as a phrase (its quoted strings still are).
- ``bug_report``: the full report reading: environment listings and links dropped, traceback frames
  boosted, the names it writes as code ranked by their definitions, the first line also searched
  on its own (``search.title_weight``), error messages of a short report matched as phrases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .query import DOTTED, EXCEPTION_LINE, SENTENCE_WORDS, QueryPlan, plan_query
from .terms import IDENTIFIER, split_identifier

INTENTS = ("identifier", "error", "question", "bug_report")
# Identifier-shaped tokens a query may consist of: names, dotted names, a call's parentheses.
_NAME_TOKEN = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:\(\))?")
_WORD = re.compile(r"\w+")
# An identifier query is a few names, not a sentence.
_IDENTIFIER_TOKENS = 3
# How English questions open; a question may also just end with "?".
_INTERROGATIVES = frozenset("how where what why which when who whose does do did is are can could should".split())
# A message's clause break ("Invalid URL 'x': No scheme supplied") or its closing stop.
_MESSAGE_SHAPE = re.compile(r"[\w.)'\"]: |[.!]$")
# "requests.exceptions.MissingSchema: ...": a class in a module, then its message.
_RAISED = re.compile(r"(?:[a-z_]\w*\.)+[A-Z]\w*: ")


@dataclass(frozen=True, slots=True)
class Reading:
    plan: QueryPlan
    intent: str
    reason: str  # why ``auto`` chose it, or "requested"


def read(text: str, intent: str = "auto") -> Reading:
    """Return the plan of ``text`` read as ``intent``, or as the intent ``auto`` detects."""
    if intent != "auto":
        return Reading(plan_query(text, intent), intent, "requested")
    full = plan_query(text)  # the bug-report reading: also what detection looks at
    intent, reason = detect(text, full)
    return Reading(full if intent == "bug_report" else plan_query(text, intent), intent, reason)


def detect(text: str, plan: QueryPlan) -> tuple[str, str]:
    """Return (intent, reason) for ``text`` from its shape and its full reading ``plan``."""
    stripped = text.strip()
    if plan.frames:
        return "bug_report", f"{len(plan.frames)} traceback frame(s)"
    words = _WORD.findall(stripped)
    if len(words) > SENTENCE_WORDS:
        return "bug_report", f"{len(words)} words"
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) > 1 and not _raised(lines[0]):  # a pasted error may wrap onto a second line
        return "bug_report", "a title and a body"
    tokens = stripped.split()
    if len(tokens) <= _IDENTIFIER_TOKENS and all(_NAME_TOKEN.fullmatch(t) for t in tokens) and (
            len(tokens) == 1 or any(_code_shaped(t) for t in tokens)):
        return "identifier", "names only"
    if _raised(stripped):
        return "error", "an exception line"
    if words and words[0].lower() in _INTERROGATIVES:
        return "question", f"opens with {words[0].lower()!r}"
    if stripped.endswith("?"):
        return "question", "ends with ?"
    if _MESSAGE_SHAPE.search(stripped):
        return "error", "reads as a message"
    return "question", "prose"


def _raised(text: str) -> bool:
    """Return whether ``text`` holds an exception line: ``ValueError: ...``, ``pkg.mod.Missing: ...``."""
    return EXCEPTION_LINE.search(text) is not None or _RAISED.match(text) is not None


def _code_shaped(token: str) -> bool:
    """Return whether a token is written as code: dotted, called, snake_case, camelCase or CONSTANT."""
    bare = token.removesuffix("()")
    return (bare != token or DOTTED.fullmatch(bare) is not None or "_" in bare.strip("_")
            or (IDENTIFIER.fullmatch(bare) is not None and len(split_identifier(bare)) > 1)
            or (bare.isupper() and len(bare) > 2))
