"""The code graph read from a real index of the shop fixture."""

from pathlib import Path

import pytest

from pampax import graph
from pampax.errors import PathNotFound
from pampax.models import EdgesRequest, OutlineRequest, SymbolRequest


def test_a_qualified_name_means_only_definitions_ending_so(shop_index):
    # WHEN asking for a method by Class.method, then by its bare name
    qualified = graph.symbol(shop_index, SymbolRequest(name="QuerySet.filter"))
    bare = graph.symbol(shop_index, SymbolRequest(name="count", source=False))
    # THEN the qualified name picks the one method, with its exact source lines
    (definition,) = qualified.definitions
    assert (definition.symbol, definition.start_line, definition.end_line) == ("QuerySet.filter", 10, 12)
    assert definition.source.splitlines()[0] == "    def filter(self, **conditions):"
    assert len(definition.source.splitlines()) == 3
    assert definition.docstring == "Return a new QuerySet with the rows matching every condition."
    # AND a bare name finds every definition of that name, without source when not asked for
    assert [(d.symbol, d.source) for d in bare.definitions] == [("QuerySet.count", None)]
    assert graph.symbol(shop_index, SymbolRequest(name="Nope.filter")).definitions == []


def test_callers_callees_and_tests_carry_sites_and_spans(shop_index):
    callers = graph.callers(shop_index, EdgesRequest(name="get_user_by_id")).edges
    # Code before tests, each site with the symbol making the call
    assert [(e.path, e.line, e.symbol.symbol) for e in callers] == [
        ("shop/orders.py", 10, "place_order"),
        ("tests/test_users.py", 7, "test_get_user_by_id_returns_user"),
        ("tests/test_users.py", 12, "test_get_user_by_id_raises_for_unknown_id"),
    ]
    callees = {e.name: e.symbol for e in graph.callees(shop_index, EdgesRequest(name="place_order")).edges}
    assert callees["get_user_by_id"].path == "shop/users.py"
    assert callees["total_with_tax"].start_line == 16
    assert callees["ValueError"] is None  # a builtin: no definition in the index
    tests = graph.tests_for(shop_index, EdgesRequest(name="get_user_by_id")).edges
    assert {e.via for e in tests} == {"test-import", "test-name", "test-call"}
    assert all(e.path == "tests/test_users.py" for e in tests)
    # AND a limit keeps the first edges and says whether the index holds more, for each relation
    for relation in (graph.callers, graph.callees, graph.tests_for):
        name = "place_order" if relation is graph.callees else "get_user_by_id"
        every = relation(shop_index, EdgesRequest(name=name))
        first = relation(shop_index, EdgesRequest(name=name, limit=2))
        exact = relation(shop_index, EdgesRequest(name=name, limit=len(every.edges)))
        assert len(every.edges) > 2 and not every.more
        assert (first.edges, first.more) == (every.edges[:2], True)
        assert (exact.edges, exact.more) == (every.edges, False)


def test_outline_lists_a_files_symbols_in_order(shop_index):
    outline = graph.outline(shop_index, OutlineRequest(path="./shop/users.py"))
    assert (outline.path, outline.lang, outline.lines) == ("shop/users.py", "python", 21)
    assert [s.symbol for s in outline.symbols] == ["USERS", "UserNotFound", "get_user_by_id", "count_users"]
    with pytest.raises(PathNotFound):
        graph.outline(shop_index, OutlineRequest(path="shop/missing.py"))


def test_an_outline_gives_each_symbol_the_parent_the_parser_found(tmp_path):
    # GIVEN the polyglot fixture (Rust impls and Go methods name their parents unlike their qualnames)
    import shutil

    from pampax.build import build_index
    from pampax.index import open_index
    from pampax.parse import parse

    repo = shutil.copytree(Path(__file__).parent / "fixtures" / "polyglot", tmp_path / "polyglot")
    with open_index(build_index(repo).index) as index:
        for path in sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.suffix in _PARSED):
            # WHEN its outline is read from the index THEN every parent is the parser's
            outline = graph.outline(index, OutlineRequest(path=path))
            parsed = sorted(parse((repo / path).read_bytes(), _PARSED[Path(path).suffix]).symbols,
                            key=lambda s: (s.start_line, -s.end_line))
            assert [(s.symbol, s.parent) for s in outline.symbols] == [(s.qualname, s.parent) for s in parsed], path


_PARSED = {".py": "python", ".go": "go", ".rs": "rust", ".js": "javascript", ".ts": "typescript", ".java": "java"}
