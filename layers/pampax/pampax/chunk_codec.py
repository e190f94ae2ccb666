"""Chunk text at rest: zstd, with a dictionary trained on the repository's own chunks.

Chunk text was a third of an index (Django: 34 of 101 MiB). One chunk alone is too short for a
compressor to find much to reuse, so a dictionary trained on the first chunks of the build supplies
what the chunks share (keywords, common identifiers, indentation): Django's text shrinks to 0.27 of
its size (0.28 with zstd's default 112 KiB dictionary), against 0.38 for plain zlib and 0.29 for zlib
with a 32 KiB preset dictionary (trained the same way), and a chunk decompresses in about 4 µs (zlib:
9). The dictionary is stored in the index (``text_dictionary``); refreshes of that file reuse it, a
new file trains its own.

Readers never see the bytes: ``register`` adds the SQL function ``chunk_text(blob)`` to a connection,
so a query decompresses only the rows it returns, after every filter ran.
"""

from __future__ import annotations

from collections.abc import Callable

import zstandard

# Level 9 costs a Django build about a second more than level 3 in the writer, for 10 % less text.
LEVEL = 9
# A dictionary takes a quarter of the sample's bytes, up to this size (Django's text: 112 KiB, zstd's
# default, left 9.16 MiB; 256 KiB, 8.61; 512 KiB, 8.26 but twice the bytes stored for 0.35 MiB less).
DICTIONARY_BYTES = 256 << 10
# Below this size a dictionary learns too little to pay for its own bytes: the text is stored without one.
MIN_DICTIONARY_BYTES = 16 << 10
# A new index trains its dictionary on pieces of this many files spread over the tree (Django: 0.8 s).
SAMPLE_FILES = 600
SQL_FUNCTION = "chunk_text"
# What SQLite reports when ``chunk_text`` raised (damaged bytes): the exception itself does not cross.
FAILED = "user-defined function raised exception"


def _utf8(text: str) -> bytes:
    # surrogatepass: any str round-trips, even one a decoder let a lone surrogate into.
    return text.encode("utf-8", "surrogatepass")


def train(texts: list[str]) -> bytes | None:
    """Return a dictionary trained on ``texts``, or None when they are too few to learn from (then zstd runs without)."""
    samples = [_utf8(t) for t in texts if t]
    size = min(DICTIONARY_BYTES, sum(map(len, samples)) // 4)
    if size < MIN_DICTIONARY_BYTES:
        return None
    try:
        return zstandard.train_dictionary(size, samples).as_bytes()
    except zstandard.ZstdError:
        return None


def _dictionary(data: bytes | None) -> zstandard.ZstdCompressionDict | None:
    return zstandard.ZstdCompressionDict(data) if data else None


def encoder(dictionary: bytes | None) -> Callable[[str], bytes]:
    """Return text -> stored bytes with ``dictionary`` (None: none)."""
    # No checksum (SQLite pages and the artifact's sha256 already guard the bytes) and no dictionary id:
    # 4 + 4 bytes less on every chunk. The frame keeps its content size, which decompress needs.
    compress = zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(dictionary), write_checksum=False,
                                        write_dict_id=False).compress
    return lambda text: compress(_utf8(text))


def decoder(dictionary: bytes | None) -> Callable[[bytes], str]:
    """Return stored bytes -> text, the inverse of ``encoder(dictionary)``."""
    decompress = zstandard.ZstdDecompressor(dict_data=_dictionary(dictionary)).decompress
    return lambda blob: decompress(blob).decode("utf-8", "surrogatepass")


def register(conn, dictionary: bytes | None) -> None:
    """Add ``chunk_text(blob)`` to ``conn``: the stored bytes of ``chunks.text`` as text."""
    conn.create_function(SQL_FUNCTION, 1, decoder(dictionary), deterministic=True)
