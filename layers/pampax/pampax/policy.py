"""What a search ranks and what it demotes: ``policy`` (``code``, ``code+tests``, ``all``) and ``docs``.

- ``code`` (the default): tests, prose (files in no parsed language: docs, data, config) and loose
  scripts rank below the code they exercise, describe or drive, by the ``search.*_factor`` priors.
- ``code+tests``: tests rank as code; prose and scripts are still demoted.
- ``all``: nothing is demoted; every file competes on its match alone.

``docs = false`` leaves prose out of the results altogether (a filter, like ``langs``).
"""

from __future__ import annotations

from .languages import PARSED_LANGUAGES

POLICIES = ("code", "code+tests", "all")
# The kinds of file each policy demotes; code is never demoted.
_DEMOTED = {"code": frozenset({"test", "prose", "script"}), "code+tests": frozenset({"prose", "script"}),
            "all": frozenset()}


def prior(kind: str, policy: str, factor: float) -> float:
    """Return the prior of a file of ``kind`` (test, prose, script, code): ``factor`` if ``policy`` demotes it."""
    return factor if kind in _DEMOTED[policy] else 1.0


def docs_filter(docs: bool) -> tuple[str, list[str]]:
    """Return the SQL clause (on ``files f``) and its parameters that leave prose out when ``docs`` is off."""
    if docs:
        return "", []
    languages = sorted(PARSED_LANGUAGES)
    return f"f.lang IN ({','.join('?' * len(languages))})", languages
