import re
from pathlib import Path

from pampax.errors import ERROR_TABLE, IndexMissing, PampaxError, exit_code_for, http_status_for

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_error_table_matches_the_code():
    # GIVEN the README's exit-code table
    rows = re.findall(r"^\| (\d+) \| (\w+) \| (\d+) \| (.+?) \|$", README.read_text(), flags=re.M)
    documented = {kind: (int(code), int(status), meaning) for code, kind, status, meaning in rows}
    # THEN it lists exactly the kinds of ERROR_TABLE with the same codes, statuses and meanings
    assert documented == {k: (s.exit_code, s.http_status, s.meaning) for k, s in ERROR_TABLE.items()}


def test_every_error_class_has_a_kind_in_the_table():
    classes = PampaxError.__subclasses__()
    assert {c.kind for c in classes} <= ERROR_TABLE.keys()
    assert len({c.kind for c in classes}) == len(classes)


def test_error_body_shape():
    assert IndexMissing("no index").to_dict() == {"error": {"code": 4, "kind": "index_missing", "message": "no index"}}


def test_unknown_kind_maps_to_internal():
    assert exit_code_for("nope") == 1
    assert http_status_for("nope") == 500
