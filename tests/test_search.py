import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pampax import db, schema
from pampax.config import SearchSettings
from pampax.errors import InvalidArgument
from pampax.models import SearchRequest
from pampax.search import matched_terms, search
from pampax.terms import IDENTIFIER, expand_parts, split_identifier

S = SearchSettings()


def _top(index, query, **kwargs):
    return search(index, SearchRequest(query=query, **kwargs)).results


@pytest.mark.parametrize(
    ("query", "path", "symbol"),
    [
        ("getUserById", "web/api.js", "getUserById"),
        ("get_user_by_id", "shop/users.py", "get_user_by_id"),
        ("QuerySet.filter", "shop/query.py", "QuerySet.filter"),
        ("QuerySet", "shop/query.py", "QuerySet"),
        ("ShoppingCart", "web/cart.ts", "ShoppingCart"),
    ],
)
def test_identifiers_find_their_definition_first(shop_index, query, path, symbol):
    hit = _top(shop_index, query)[0]
    assert (hit.path, hit.symbol) == (path, symbol)


def test_snake_and_camel_spellings_find_each_other(shop_index):
    # GIVEN the same name spelled camelCase in JS and snake_case in Python
    camel = {h.path for h in _top(shop_index, "getUserById")}
    snake = {h.path for h in _top(shop_index, "get_user_by_id")}
    # THEN each spelling also finds the other
    assert "shop/users.py" in camel and "web/api.js" in snake


def test_a_plain_word_finds_identifiers_containing_it(shop_index):
    paths = {h.path for h in _top(shop_index, "user", limit=20)}
    assert {"shop/users.py", "web/api.js", "web/cart.ts"} <= paths


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("Order amount must be a positive number of cents.", "shop/orders.py"),
        ("UserNotFound: No user matches the given id: 42", "shop/users.py"),
        ("Error: Request failed with status 404", "web/api.js"),
    ],
)
def test_error_strings_find_the_code_that_raises_them(shop_index, query, path):
    hit = _top(shop_index, query)[0]
    assert hit.path == path
    assert hit.explain.phrase_words >= 3


def test_a_message_counts_as_verbatim_only_where_its_words_are_consecutive_tokens(tmp_path):
    from pampax.build import build_index
    from pampax.index import open_index

    # GIVEN the message's words as consecutive tokens across punctuation and a line break, inside
    # a longer token, and scattered
    (tmp_path / "a.py").write_text('raise KeyError(\n    "Cannot resolve -- keyword "\n    "into field")\n')
    (tmp_path / "b.py").write_text('raise KeyError("xcannot resolve keyword into field")\n')
    (tmp_path / "c.py").write_text('raise KeyError("cannot keyword resolve into a field")\n')
    with open_index(build_index(tmp_path).index) as index:
        hits = search(index, SearchRequest(query="Cannot resolve keyword into field", intent="error")).results
    # THEN the first holds all five words verbatim, the second only the last four ("xcannot" is
    # another token), the third none
    assert {h.path: h.explain.phrase_words for h in hits} == {"a.py": 5, "b.py": 4, "c.py": 0}


def test_a_message_held_by_more_chunks_than_the_cap_keeps_the_best_ranked(tmp_path):
    from pampax.build import build_index
    from pampax.index import open_index
    from pampax.query import plan_query
    from pampax.search import _PHRASE_HITS, _phrase_chunks

    # GIVEN a message in more chunks than the cap: long ones written first (lower ids, weaker BM25)
    # and short ones
    filler = "\n".join(f"value_{n} = compute(value_{n - 1})" for n in range(1, 60))
    for n in range(5):
        (tmp_path / f"a_long_{n}.py").write_text(f'{filler}\nraise KeyError("cannot resolve keyword into field")\n')
    for n in range(_PHRASE_HITS):
        (tmp_path / f"b_short_{n:03}.py").write_text('raise KeyError("cannot resolve keyword into field")\n')
    plan = plan_query("cannot resolve keyword into field", "error")
    with open_index(build_index(tmp_path).index) as index:
        found = _phrase_chunks(index, plan, "", [])
        paths = {p for (p,) in index.query(
            f"SELECT f.path FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({','.join('?' * len(found))})",
            sorted(found))}
    # THEN the cap holds the best-ranked chunks, each with the whole run
    assert len(found) == _PHRASE_HITS and set(found.values()) == {5}
    assert not any(p.startswith("a_long_") for p in paths)


def test_traceback_frames_rank_the_named_file(shop_index):
    # GIVEN a pasted bug report whose traceback names shop/orders.py and place_order
    report = """Placing an order crashes for new customers.

Traceback (most recent call last):
  File "/srv/app/views.py", line 12, in checkout
    order = place_order(uid, cents)
  File "/usr/lib/python3.11/site-packages/shop/orders.py", line 10, in place_order
    user = get_user_by_id(user_id)
  File "/usr/lib/python3.11/site-packages/shop/users.py", line 16, in get_user_by_id
    raise UserNotFound(f"No user matches the given id: {user_id}")
shop.users.UserNotFound: No user matches the given id: 7

I expected a friendly error page instead of a 500."""
    hits = _top(shop_index, report)
    assert {hits[0].path, hits[1].path} == {"shop/users.py", "shop/orders.py"}
    assert hits[0].explain.path_boost > 1


def test_filters_narrow_results(shop_index):
    assert {h.lang for h in _top(shop_index, "user", langs=("javascript",), limit=50)} == {"javascript"}
    assert {h.path for h in _top(shop_index, "user", paths=("web",), limit=50)} == {"web/api.js", "web/cart.ts"}
    assert {h.path for h in _top(shop_index, "user", paths=("*.ts",), limit=50)} == {"web/cart.ts"}
    assert {h.kind for h in _top(shop_index, "user", kinds=("class",), limit=50)} == {"class"}


def test_every_hit_explains_its_score(shop_index):
    for hit in _top(shop_index, "get_user_by_id"):
        assert hit.explain.matched_terms
        prior = S.chunk_test_factor if hit.path.startswith("tests/") else S.chunk_prose_factor if hit.lang == "markdown" else 1
        assert hit.score == pytest.approx(
            hit.explain.bm25 * hit.explain.symbol_boost * hit.explain.path_boost
            * (1 + S.phrase_boost_per_word * hit.explain.phrase_words) * prior, rel=1e-3)


@pytest.mark.parametrize("group", ["chunk", "file"])
def test_explain_false_leaves_out_only_the_breakdown(shop_index, group):
    explained = search(shop_index, SearchRequest(query="get_user_by_id", group=group))
    bare = search(shop_index, SearchRequest(query="get_user_by_id", group=group, explain=False))
    assert {hit.explain for hit in bare.results} == {None}
    for hit in explained.results:
        hit.explain = None
    assert bare == explained


def test_results_are_deterministic(shop_index):
    request = SearchRequest(query="user order total", limit=20)
    assert search(shop_index, request).model_dump_json() == search(shop_index, request).model_dump_json()


def test_empty_query_is_a_clear_error(shop_index):
    with pytest.raises(InvalidArgument, match="empty"):
        search(shop_index, SearchRequest(query="   "))


@pytest.mark.parametrize(
    "query",
    ['"', '""', "NEAR(user order, 2)", "user OR", "AND", "*", "user*", "-user", "(((", "body:user", "^user",
     "user + order", "{names}: x", "'; DROP TABLE files; --", "\x00", "ünïcödé", "🙂", "a" * 5000],
)
def test_fts_syntax_in_queries_is_data(shop_index, query):
    response = search(shop_index, SearchRequest(query=query))
    assert isinstance(response.results, list)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=200))
def test_arbitrary_queries_never_reach_sqlite_as_syntax(shop_index, query):
    try:
        response = search(shop_index, SearchRequest(query=query))
    except InvalidArgument:
        assert not query.strip()
    else:
        assert len(response.results) <= 10


def test_snippets_keep_their_relative_indentation(tmp_path):
    from pampax.build import build_index
    from pampax.index import open_index

    (tmp_path / "build.py").write_text(
        "class Builder:\n    def build_index(\n        root,\n        index_path=None,\n    ):\n        return root\n")
    with open_index(build_index(tmp_path).index) as index:
        hit = search(index, SearchRequest(query="build_index")).results[0]
    assert hit.snippet.splitlines() == ["class Builder:", "    def build_index(", "        root,"]


def test_a_snippet_starts_at_the_first_line_holding_a_matched_term(tmp_path):
    from pampax.build import build_index
    from pampax.index import open_index

    # "İ" lowercases to two characters: offsets in the lowercased text are not offsets in the text
    (tmp_path / "city.py").write_text('"""' + "İ" * 40 + '"""\nLIMIT = 1\n\n\ndef refund_order(order):\n'
                                      '    return order.total\n')
    with open_index(build_index(tmp_path).index) as index:
        hit = search(index, SearchRequest(query="refund_order")).results[0]
    assert hit.snippet.splitlines() == ["def refund_order(order):", "    return order.total"]


def test_a_hit_matched_through_its_path_lists_that_term(shop_index):
    hit = next(h for h in _top(shop_index, "orders", limit=20) if h.path == "shop/orders.py")
    assert "orders" in hit.explain.matched_terms


_CODE_PIECE = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,14}", fullmatch=True),  # identifiers in every case style
    st.sampled_from([" ", "\n", ".", "(", ")", ", ", " = ", "2", "x2", "__init__", "HTTPResponse", "get_userById"]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(_CODE_PIECE, min_size=1, max_size=30), extra=st.lists(st.from_regex(r"[a-z0-9_]{1,8}", fullmatch=True), max_size=4))
def test_matched_terms_are_what_fts_matches(pieces, extra):
    # GIVEN ASCII code text indexed into the real FTS table as the builder fills it (body plus parts)
    text = "".join(pieces)
    conn = db.connect(":memory:")
    schema.create(sqlite_utils.Database(conn))
    conn.execute("INSERT INTO chunks_fts (rowid, names, path, body, parts) VALUES (1, '', '', ?, ?)", (text, expand_parts(text)))
    # AND terms the text holds (words, parts, joined forms) and others it may not
    identifiers = IDENTIFIER.findall(text)
    terms = sorted({t for i in identifiers for t in (i.lower(), *split_identifier(i), "".join(split_identifier(i)))} | set(extra))
    terms = [t for t in terms if t]
    # WHEN the matched terms are listed THEN they are exactly the terms a MATCH finds in that row
    expected = [t for t in terms if conn.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                                                 ('"' + t + '"',)).fetchone()[0]]
    assert matched_terms(text, terms) == expected




def test_a_term_in_half_the_chunks_is_matched_only_while_the_others_cannot_fill_the_pool(tmp_path, monkeypatch):
    # GIVEN a repository where "widget" is in every chunk and "alpha" in one, and the FTS queries it runs
    from pampax import search as search_module
    from pampax.build import build_index
    from pampax.index import open_index

    for n in range(8):
        (tmp_path / f"mod{n}.py").write_text(f"def widget_{n}():\n    return 'widget'\n")
    (tmp_path / "rare.py").write_text("def alpha():\n    return 'widget'\n")
    with open_index(build_index(tmp_path).index) as index:
        matches = []
        query = index.query
        monkeypatch.setattr(index, "query", lambda sql, params=(): (
            matches.append(params[0]) if "bm25(" in sql else None, query(sql, params))[1])
        wide = search(index, SearchRequest(query="widget alpha"))
        # WHEN "alpha" alone matches as many rows as the pool holds
        monkeypatch.setattr(search_module, "_MIN_CANDIDATES", 1)
        monkeypatch.setattr(search_module, "_CANDIDATES_PER_RESULT", 1)
        narrow = search(index, SearchRequest(query="widget alpha", limit=1))
    # THEN BM25 matches "widget" only while "alpha" cannot fill the pool; both stay the query's terms
    assert matches == ['"widget" OR "alpha"', '"alpha"']
    assert wide.terms == narrow.terms == ["widget", "alpha"]
    assert len(wide.results) == 9 and narrow.results[0].path == "rare.py"


def test_an_identifier_query_scores_only_the_members_rows_once_they_fill_the_pool(tmp_path, monkeypatch):
    # GIVEN "model" in 9 files of 22 and "save" in two, and the FTS queries search runs
    from pampax import search as search_module
    from pampax.build import build_index
    from pampax.index import open_index

    for n in range(8):
        (tmp_path / f"mod{n}.py").write_text(f"def model_{n}():\n    return 'model'\n")
    for n in range(12):
        (tmp_path / f"misc{n}.py").write_text(f"def misc_{n}():\n    return {n}\n")
    (tmp_path / "base.py").write_text("class Model:\n    def save(self):\n        return 'model'\n")
    (tmp_path / "other.py").write_text("def save():\n    return 1\n")
    with open_index(build_index(tmp_path).index) as index:
        scored = []
        query = index.query
        monkeypatch.setattr(index, "query", lambda sql, params=(): (
            scored.append("+chunks_fts.rowid IN" in sql) if "bm25(" in sql else None, query(sql, params))[1])
        wide = search(index, SearchRequest(query="Model.save", limit=2))
        # WHEN the rows holding "save" fill the pool
        monkeypatch.setattr(search_module, "_MIN_CANDIDATES", 1)
        monkeypatch.setattr(search_module, "_CANDIDATES_PER_RESULT", 1)
        narrow = search(index, SearchRequest(query="Model.save", limit=2))
    # THEN only then are the rows without "save" left unscored, and the rows scored score as before
    assert scored == [False, True]
    assert [(h.path, h.score) for h in narrow.results] == [(h.path, h.score) for h in wide.results][:2]
    assert narrow.results[0].symbol == "Model.save"
