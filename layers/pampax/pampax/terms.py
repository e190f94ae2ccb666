"""Identifier-aware terms: how code text and queries are cut into the words FTS5 indexes and matches.

FTS5's unicode61 tokenizer (with ``_`` as a token character) keeps ``get_user_by_id`` whole and
lowercases ``getUserById`` to ``getuserbyid``. That alone cannot match ``user`` to either, nor
``get_user_by_id`` to ``getUserById``, so every compound identifier also contributes its parts
(``get user by id``) and its joined form (``getuserbyid``) to a separate ``parts`` column.
The same functions cut queries, so the index and the query side agree by construction.
"""

from __future__ import annotations

import re
import unicodedata

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# camelCase / PascalCase / ACRONYMWord boundaries: "HTTPResponseCode" -> HTTP, Response, Code.
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def split_identifier(identifier: str) -> list[str]:
    """Return the lowercase parts of an identifier: ``getUserById`` -> ``['get', 'user', 'by', 'id']``."""
    parts: list[str] = []
    for piece in identifier.split("_"):
        parts.extend(p.lower() for p in _CAMEL_PART.findall(piece))
    return parts


def joined(identifier: str) -> str:
    """Return the separator-free lowercase form that makes snake_case and camelCase spellings meet."""
    return "".join(split_identifier(identifier))


def name_forms(name: str) -> list[str]:
    """Return the FTS tokens a name is found by: lowercase whole, then joined when it has parts
    (``full_clean``, ``fullclean``)."""
    return [name.lower(), joined(name)] if len(split_identifier(name)) > 1 else [name.lower()]


def expand_parts(text: str) -> str:
    """Return the ``parts`` column text for ``text``: parts and joined forms of its compound identifiers.

    Each distinct identifier is expanded once; repeats add nothing a ranking function needs.
    """
    words: list[str] = []
    seen: set[str] = set()
    for identifier in IDENTIFIER.findall(text):
        if identifier in seen:
            continue
        seen.add(identifier)
        parts = split_identifier(identifier)
        if len(parts) > 1:
            words.extend(parts)
            words.append("".join(parts))
    return " ".join(words)


def fold(word: str) -> str:
    """Return ``word`` lowercased without diacritics, as FTS5's unicode61 tokenizer indexes it ("Größe" -> "große")."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def fts_token(word: str) -> str:
    """Return ``word`` as an FTS5 string literal: query text is data, never FTS5 syntax."""
    return '"' + word.replace('"', '""') + '"'
