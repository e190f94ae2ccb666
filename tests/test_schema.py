"""The encodings of stored columns round-trip: what a reader decodes is what the parser gave."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pampax import schema

_PIECE = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}|impl [A-Z][a-z]{0,4}", fullmatch=True)
_QUALNAME = st.lists(_PIECE, min_size=1, max_size=4).map(".".join)


@given(qualname=_QUALNAME, parent=st.one_of(st.none(), _QUALNAME))
def test_a_parent_reads_back_as_stored(qualname, parent):
    assert schema.parent_of(qualname, schema.parent_stored(qualname, parent)) == parent


@given(qualname=_QUALNAME)
def test_the_parent_a_qualname_says_is_not_stored(qualname):
    assert schema.parent_stored(qualname, qualname.rpartition(".")[0] or None) is None


@given(name=_PIECE, receiver=_QUALNAME, clipped=st.text(max_size=20), form=st.sampled_from(["bare", "dotted", "clipped"]))
def test_a_call_reads_back_as_written(name, receiver, clipped, form):
    # A call is written bare (``len``), on a receiver (``self.save``) or, too long, clipped with "…".
    written = {"bare": name, "dotted": f"{receiver}.{name}", "clipped": clipped + "…"}[form]
    assert schema.callee_text(name, schema.callee_stored(name, written)) == written
