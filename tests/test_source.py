"""Reading spans of files under the root, and refusing every way out of it."""

import pytest

from pampax.errors import InvalidArgument, PathNotFound
from pampax.models import ReadSpanRequest
from pampax.source import read_span


def test_reads_the_lines_asked_for_as_they_are_on_disk(shop_repo):
    span = read_span(shop_repo, ReadSpanRequest(path="shop/orders.py", start_line=16, end_line=99), "g1")
    assert (span.start_line, span.end_line, span.total_lines, span.generation) == (16, 17, 17, "g1")
    assert span.text == "def total_with_tax(amount):\n    return round(amount * (1 + TAX_RATE))"
    assert read_span(shop_repo, ReadSpanRequest(path="shop/orders.py"), "g1").end_line == 17


@pytest.mark.parametrize("path", ["../outside.txt", "shop/../../outside.txt", "{abs}", "link.txt"])
def test_paths_outside_the_root_are_refused(shop_repo, tmp_path, path):
    # GIVEN a file beside the repository and a symlink in the repository pointing at it
    (tmp_path / "outside.txt").write_text("secret\n")
    (shop_repo / "link.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(InvalidArgument, match="outside the repository root"):
        read_span(shop_repo, ReadSpanRequest(path=path.format(abs=tmp_path / "outside.txt")), "g1")


def test_bad_ranges_and_missing_files(shop_repo):
    with pytest.raises(InvalidArgument):
        read_span(shop_repo, ReadSpanRequest(path="shop/orders.py", start_line=5, end_line=4), "g1")
    with pytest.raises(InvalidArgument):
        read_span(shop_repo, ReadSpanRequest(path="shop/orders.py", start_line=1, end_line=5000), "g1")
    with pytest.raises(PathNotFound):
        read_span(shop_repo, ReadSpanRequest(path="shop/none.py"), "g1")
    with pytest.raises(PathNotFound):
        read_span(shop_repo, ReadSpanRequest(path="shop"), "g1")
