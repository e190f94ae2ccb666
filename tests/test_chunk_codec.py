"""Chunk text at rest: zstd with a trained dictionary, exact round trips, and refreshes that keep the dictionary."""

import sqlite3

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from pampax import chunk_codec, schema
from pampax.errors import IndexCorrupt
from pampax.build import build_index
from pampax.graph import symbol
from pampax.index import open_index
from pampax.models import SymbolRequest

_CODE = [f'def handler_{i}(request, user_id={i}):\n    """Return order {i} of the user."""\n'
         f'    order = Order.objects.get(pk={i * 7})\n    return render(request, "orders/{i}.html", {{"order": order}})\n'
         for i in range(40)]


@pytest.fixture
def small_dictionary(monkeypatch):
    """Train 1 KiB dictionaries, so that a repository of a few files gets one."""
    monkeypatch.setattr(chunk_codec, "DICTIONARY_BYTES", 1024)
    monkeypatch.setattr(chunk_codec, "MIN_DICTIONARY_BYTES", 256)


def test_a_dictionary_trained_on_code_shrinks_it(small_dictionary):
    dictionary = chunk_codec.train(_CODE * 20)
    encode = chunk_codec.encoder(dictionary)
    assert dictionary is not None
    assert sum(len(encode(t)) for t in _CODE) < sum(len(chunk_codec.encoder(None)(t)) for t in _CODE)


def test_too_little_text_trains_no_dictionary(small_dictionary):
    assert chunk_codec.train(["x = 1"]) is None


_DICTIONARY = zstandard.train_dictionary(1024, [t.encode() for t in _CODE]).as_bytes()


@settings(max_examples=200, deadline=None)
@given(text=st.text(), with_dictionary=st.booleans())
def test_any_text_round_trips_exactly(text, with_dictionary):
    # Any str: empty, astral, combining marks, NUL, CR/LF, even lone surrogates.
    dictionary = _DICTIONARY if with_dictionary else None
    assert chunk_codec.decoder(dictionary)(chunk_codec.encoder(dictionary)(text)) == text


def test_chunk_text_is_stored_compressed_and_read_back_exactly(tmp_path, small_dictionary):
    # GIVEN a repository with enough code to train a dictionary on, one file holding non-ASCII text
    repo = tmp_path / "repo"
    repo.mkdir()
    for i, text in enumerate(_CODE):
        (repo / f"view_{i:02}.py").write_text(text)
    (repo / "unicode.py").write_text('def greet():\n    return "grüß dich, 世界 🌍"\n', encoding="utf-8")
    # WHEN indexed
    report = build_index(repo)
    with open_index(report.index) as index:
        stored = index.conn.execute("SELECT c.text, chunk_text(c.text) FROM chunks c JOIN files f ON f.id = c.file_id"
                                    " WHERE f.path = 'view_03.py'").fetchone()
        dictionaries = index.conn.execute("SELECT count(*) FROM text_dictionary").fetchone()[0]
        greet = symbol(index, SymbolRequest(name="greet")).definitions
    # THEN the dictionary is stored once, the rows hold bytes, and what readers get is the file's text
    assert dictionaries == 1
    assert isinstance(stored[0], bytes) and stored[0] != stored[1].encode()
    assert stored[1] == _CODE[3].rstrip("\n")
    assert [d.source for d in greet] == ['def greet():\n    return "grüß dich, 世界 🌍"']


def test_damaged_chunk_bytes_are_index_corrupt(shop_repo):
    # GIVEN an index whose stored text of one chunk was overwritten with bytes that are not zstd
    report = build_index(shop_repo)
    conn = sqlite3.connect(report.index)
    with conn:
        conn.execute("UPDATE chunks SET text = x'00ff00ff' WHERE id = (SELECT min(id) FROM chunks)")
    conn.close()
    # WHEN a reader reaches that chunk THEN it is told the index is damaged, not a bare internal error
    with open_index(report.index) as index, pytest.raises(IndexCorrupt, match="stored text"):
        index.query("SELECT chunk_text(text) FROM chunks")


def test_refreshing_one_file_reuses_the_dictionary(tmp_path, small_dictionary):
    # GIVEN an index with a trained dictionary
    repo = tmp_path / "repo"
    repo.mkdir()
    for i, text in enumerate(_CODE):
        (repo / f"view_{i:02}.py").write_text(text)
    first = build_index(repo)
    with open_index(first.index) as index:
        dictionary = index.conn.execute("SELECT data FROM text_dictionary").fetchone()[0]
    # WHEN one file changes and the index is refreshed in place
    (repo / "view_05.py").write_text("def refund_everything(order):\n    return order.total * -1  # ünïcode\n")
    refreshed = build_index(repo)
    # THEN only that file was parsed, the dictionary is the same, and the new and old text read back exactly
    assert (refreshed.parsed_files, refreshed.reused_files) == (1, len(_CODE) - 1)
    with open_index(refreshed.index) as index:
        assert index.conn.execute("SELECT data FROM text_dictionary").fetchall() == [(dictionary,)]
        texts = dict(index.conn.execute(
            "SELECT f.path, chunk_text(c.text) FROM chunks c JOIN files f ON f.id = c.file_id").fetchall())
    assert texts["view_05.py"] == "def refund_everything(order):\n    return order.total * -1  # ünïcode"
    assert texts["view_06.py"] == _CODE[6].rstrip("\n")


def test_an_index_of_an_older_schema_is_rebuilt_from_scratch(shop_repo):
    # GIVEN an index written by a pampax whose schema was older (version 1 stored chunk text uncompressed)
    first = build_index(shop_repo)
    with sqlite3.connect(first.index) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    # WHEN it is built again (no --full)
    again = build_index(shop_repo)
    # THEN every file is parsed again into a new file of the current schema, and it answers
    assert (again.parsed_files, again.reused_files) == (first.files, 0)
    with open_index(again.index) as index:
        assert index.meta["schema_version"] == str(schema.SCHEMA_VERSION)
        assert index.conn.execute("SELECT count(*) FROM chunks WHERE chunk_text(text) LIKE '%def %'").fetchone()[0] > 0
