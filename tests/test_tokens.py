from hypothesis import given
from hypothesis import strategies as st

from pampax.tokens import at_least, count_tokens


def test_count_tokens_follows_documented_rules():
    # letters: one per started six; digits: one per started three; punctuation: one each
    assert count_tokens("abcdef") == 1
    assert count_tokens("abcdefg") == 2
    assert count_tokens("1234") == 2
    assert count_tokens("a.b") == 3
    # a single space is free (it merges with the next word in BPE); newlines and indentation cost one
    assert count_tokens("a b") == 2
    assert count_tokens("a\n    b") == 3


def test_empty_text_has_no_tokens():
    assert count_tokens("") == 0


@given(st.text())
def test_the_cheap_lower_bound_never_exceeds_the_count(text):
    # GIVEN any text WHEN bounded and counted THEN the bound is a bound (assemble skips counting on it)
    assert at_least(text) <= count_tokens(text)
    assert at_least("x" * 60) == count_tokens("x" * 60) == 10
