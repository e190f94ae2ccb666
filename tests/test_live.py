"""A live index: kept open, refreshed, and followed across refreshes and rebuilds."""

import pytest

from pampax.build import build_index
from pampax.errors import IndexMissing
from pampax.live import LiveIndex


def test_status_lists_what_changed_and_refresh_picks_it_up(shop_repo):
    build_index(shop_repo)
    live = LiveIndex(shop_repo, shop_repo / ".pampax" / "index.db")
    with live.snapshot() as index:
        first = index.generation
    # GIVEN an added, a modified and a removed file
    (shop_repo / "shop" / "new.py").write_text("def fresh():\n    pass\n")
    (shop_repo / "shop" / "orders.py").write_text("def refund(order):\n    return order\n")
    (shop_repo / "docs" / "guide.md").unlink()
    changed = live.status().changed
    assert (changed.added, changed.modified, changed.removed) == (["shop/new.py"], ["shop/orders.py"], ["docs/guide.md"])
    # WHEN refreshed, the same open LiveIndex answers from the new generation
    report = live.refresh()
    with live.snapshot() as index:
        assert index.generation == report.generation != first
        assert index.query("SELECT count(*) FROM symbols WHERE name = 'fresh'") == [(1,)]
    assert live.status().changed.model_dump() == {"added": [], "modified": [], "removed": []}
    # AND a full rebuild (a new file swapped in) is followed too
    (shop_repo / "shop" / "new.py").write_text("def fresher():\n    pass\n")
    rebuilt = live.refresh(full=True)
    with live.snapshot() as index:
        assert index.generation == rebuilt.generation
        assert index.query("SELECT count(*) FROM symbols WHERE name = 'fresher'") == [(1,)]
    live.close()


def test_no_index_yet_is_index_missing(shop_repo):
    with pytest.raises(IndexMissing):
        with LiveIndex(shop_repo, shop_repo / ".pampax" / "index.db").snapshot():
            pass
