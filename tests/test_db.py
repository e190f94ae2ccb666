"""The one connection factory: engine choice, read-only opens, and the FTS5 requirement."""

import pytest

from pampax import db
from pampax.errors import EngineUnsupported, IndexCorrupt, IndexMissing


def test_engine_is_pysqlite3():
    assert db.engine().startswith("pysqlite3 3.")


def test_engine_without_fts5_is_refused(tmp_path, monkeypatch):
    # GIVEN an engine whose FTS5 module is missing (as in AWS's python3.11 runtime, SQLite 3.7.17)
    real_connect = db.sqlite3.connect

    class NoFts5:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, *args):
            if "fts5" in sql:
                raise db.sqlite3.OperationalError("no such module: fts5")
            return self.conn.execute(sql, *args)

        def close(self):
            self.conn.close()

    monkeypatch.setattr(db.sqlite3, "connect", lambda *a, **k: NoFts5(real_connect(*a, **k)))
    db._check_fts5.cache_clear()
    try:
        # WHEN pampax opens any database
        with pytest.raises(EngineUnsupported, match="no FTS5"):
            db.connect(tmp_path / "x.db")
    finally:
        db._check_fts5.cache_clear()


def test_readonly_open_of_missing_and_foreign_files(tmp_path):
    with pytest.raises(IndexMissing):
        db.connect(tmp_path / "none.db", readonly=True)
    (tmp_path / "junk.db").write_bytes(b"x" * 4096)
    with pytest.raises(IndexCorrupt):
        db.connect(tmp_path / "junk.db", readonly=True)
