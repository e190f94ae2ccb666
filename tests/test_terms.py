from pampax.terms import expand_parts, fts_token, joined, split_identifier


def test_split_identifier_handles_snake_camel_and_acronyms():
    assert split_identifier("get_user_by_id") == ["get", "user", "by", "id"]
    assert split_identifier("getUserById") == ["get", "user", "by", "id"]
    assert split_identifier("HTTPResponseCode") == ["http", "response", "code"]
    assert split_identifier("QuerySet") == ["query", "set"]
    assert split_identifier("get_object_or_404") == ["get", "object", "or", "404"]


def test_snake_and_camel_spellings_meet_in_the_joined_form():
    assert joined("get_user_by_id") == joined("getUserById") == "getuserbyid"


def test_expand_parts_lists_compound_identifiers_once():
    # GIVEN text with a compound identifier twice and a simple word
    text = "def getUserById(x): return getUserById(x) + user"
    # WHEN expanded
    parts = expand_parts(text).split()
    # THEN the parts and joined form appear once, simple words not at all
    assert parts == ["get", "user", "by", "id", "getuserbyid"]


def test_fts_token_quotes_and_doubles_quotes():
    assert fts_token('say "hi"') == '"say ""hi"""'
