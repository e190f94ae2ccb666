"""Tests named after what they test are found from ``symbols`` when asked: the naming rule, and the lookup."""

from __future__ import annotations

import pytest

from pampax.build import build_index
from pampax.index import open_index
from pampax import testnames


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("test_get_object_or_404_raises", "function",
     {"get_object_or_404_raises", "get_object_or_404", "get_object_or", "get_object"}),
    ("testGetUserById", "method", {"getuserbyid", "getuser", "getuserby"}),
    ("test__private_helper", "function", {"private_helper"}),
    ("test_get", "function", {"get"}),  # the whole stem may be one piece
    ("test_ab", "function", set()),  # too short to name anything
    ("QuerySetTests", "class", {"queryset"}),
    ("ModelTestCase", "class", {"model"}),
    ("Tests", "class", set()),
    ("helper", "function", set()),
    ("test_save", "class", set()),  # a class is a test by its suffix, not its prefix
])
def test_a_test_name_stands_for_its_stems_prefixes(name, kind, expected):
    assert testnames.tested_names(name, kind) == expected


def test_the_lookup_finds_each_form_in_test_files_only(tmp_path):
    # GIVEN tests named in every form the rule knows, a look-alike outside the tests, and near misses
    (tmp_path / "app.py").write_text("def get_user():\n    pass\n\n\ndef test_get_user_in_code():\n    pass\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text(
        "class GetUserTests:\n"
        "    def test_get_user_returns_one(self):\n        pass\n\n"
        "    def testGetUser(self):\n        pass\n\n"
        "    def test__get_user(self):\n        pass\n\n"
        "    def test_get_username(self):\n        pass\n\n"
        "    def test_get(self):\n        pass\n")
    index_path = build_index(tmp_path).index
    with open_index(index_path) as index:
        # WHEN the tests of get_user are looked up, in any case
        found = [(path, line, qualname) for _, path, line, _, qualname, _, _ in testnames.named_tests(index, "Get_User")]
        camel = [qualname for *_, qualname, _, _ in testnames.named_tests(index, "getuser")]
    # THEN each test whose name's prefixes include it, by path and line; not the code file's, not
    # ``test_get_username`` (its prefixes are get_username, not get_user) and not ``test_get``
    assert found == [("tests/test_app.py", 2, "GetUserTests.test_get_user_returns_one"),
                     ("tests/test_app.py", 8, "GetUserTests.test__get_user")]
    assert camel == ["GetUserTests", "GetUserTests.testGetUser"]
