from pampax.tokens import count_tokens


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
