"""Tests named after what they test: ``test_get_user_by_id_raises`` and ``UserTests`` are tests of
``get_user_by_id`` and ``User``.

Read from ``symbols`` when asked, not stored as links: a test's name stands for each of its name's
prefixes (tests append the case they check), and storing every prefix of every test took 42,724 rows
and 3 MiB of Django's 58 MiB index for what three ranges of the ``symbols.lname`` index answer.
"""

from __future__ import annotations

import re

from .index import Index

_TEST_NAME = re.compile(r"^(test_?|Test)", re.IGNORECASE)
_TEST_CLASS = re.compile(r"Tests?(Case)?$")
# What may sit between "test" and the name a test is after: ``testGetUser``, ``test_get_user``, ``test__get_user``.
_GAPS = ("", "_", "__")
_CLASS_SUFFIXES = ("test", "tests", "testcase", "testscase")


def tested_names(name: str, kind: str) -> set[str]:
    """Return the lowercase names a test symbol is named after (empty when it is no test by its name).

    ``test_get_object_or_404_raises`` yields ``get_object_or_404_raises``, ``get_object_or_404``,
    ``get_object_or`` and ``get_object``; ``QuerySetTests`` yields ``queryset``.
    """
    if kind in ("function", "method") and _TEST_NAME.match(name):
        return _name_prefixes(_TEST_NAME.sub("", name).lstrip("_"))
    if kind == "class":
        stem = _TEST_CLASS.sub("", name)
        if stem and stem != name:
            return {stem.lower()}
    return set()


def _name_prefixes(stem: str) -> set[str]:
    joiner = "_" if "_" in stem else ""
    pieces = stem.split("_") if joiner else re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", stem) or [stem]
    # One-piece prefixes ("get") would tie a test to every getter; only the whole stem may be one piece.
    prefixes = {stem} | {joiner.join(pieces[:n]) for n in range(2, len(pieces))}
    return {p.lower() for p in prefixes if len(p) >= 3}


def named_tests(index: Index, name: str) -> list[tuple]:
    """Return the test symbols of test files named after ``name`` (any case), by path and line:
    rows of (symbol id, path, start line, end line, qualname, kind, lang)."""
    wanted = name.lower()
    if not wanted:
        return []
    # A test named after ``wanted`` is "test", a gap and a stem whose prefixes ``tested_names`` gives,
    # or a class with a test suffix. Asked of the ``lname`` index: the whole stem, else a snake_case
    # prefix, which the stem continues with "_", else (no "_" in ``wanted``) a camelCase one, whose stem
    # has no "_" at all; ``tested_names`` decides on the few rows found (``test_get*`` alone is 1,800
    # of Django's symbols).
    terms = [f"s.lname IN ({', '.join('?' * (len(_GAPS) + len(_CLASS_SUFFIXES)))})"]
    params = [f"test{gap}{wanted}" for gap in _GAPS] + [wanted + suffix for suffix in _CLASS_SUFFIXES]
    for gap in _GAPS:
        stem = f"test{gap}{wanted}"
        if "_" in wanted:
            terms.append("(s.lname > ? AND s.lname < ?)")
            params += [stem + "_", stem + "`"]  # "`" follows "_"
        else:
            terms.append("(s.lname > ? AND s.lname < ? AND instr(substr(s.lname, ?), '_') = 0)")
            params += [stem, _successor(stem), len(stem) + 1]
    rows = index.query(
        f"""SELECT s.id, s.name, f.path, s.start_line, s.end_line, s.qualname, s.kind, f.lang
            FROM symbols s JOIN files f ON f.id = s.file_id
            WHERE ({" OR ".join(terms)}) AND f.is_test = 1 ORDER BY f.path, s.start_line, s.id""", params)
    return [(symbol_id, *rest) for symbol_id, test, *rest in rows if wanted in tested_names(test, rest[4])]


def _successor(text: str) -> str:
    """Return the least string above every string that starts with ``text`` (in code point order, which
    SQLite's BINARY collation of UTF-8 keeps)."""
    last = ord(text[-1])
    return text[:-1] + chr(last + 1) if last < 0x10FFFF else text + "\U0010ffff"
