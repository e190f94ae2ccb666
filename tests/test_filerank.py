"""File-grouped search and its signals, on a repository shaped like real ones: a package, tests in a
folder of their own (not named ``tests``), loose example scripts and prose docs."""

import pytest

from tests.conftest import FIXTURES

from pampax.assemble import assemble
from pampax.config import SearchSettings
from pampax.models import AssembleRequest, SearchRequest
from pampax.search import search

REPORT = """parse_expression fails on nested expressions

When I call the parser on a nested expression it raises:

```python
>>> from calc import parse_expression
>>> tree = parse_expression("(+ 1 (* 2 3))")
```

Environment:
python: 3.11.4
calc: 0.3.1
numpy: 1.26.0
platform: Linux-6.1
commit: None
"""


def _files(index, query, settings=SearchSettings(), **kwargs):
    return search(index, SearchRequest(query=query, group="file", limit=10, **kwargs), settings).results


def test_file_grouping_lists_each_file_once_with_its_spans(reports_index):
    hits = _files(reports_index, "nested expressions parse")
    paths = [h.path for h in hits]
    assert len(paths) == len(set(paths))
    for hit in hits:
        assert all(span.path == hit.path for span in hit.spans)
        assert set(hit.explain.signals) == {"content", "definitions", "mentions", "frames", "imports", "prior"}
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_a_bug_report_ranks_the_file_defining_what_it_quotes_first(reports_index):
    top = _files(reports_index, REPORT)[0]
    assert top.path == "calc/parser.py"
    assert top.explain.signals["definitions"] == 1.0


def test_definitions_weigh_the_title_and_repeats(reports_index):
    # convert_units is named in the title, parse_expression once in the body: the title counts double.
    query = "convert_units returns metres\n\nIt happens after `parse_expression` too."
    hits = {h.path: h.explain.signals for h in _files(reports_index, query)}
    assert hits["calc/units.py"]["definitions"] == 1.0
    assert hits["calc/parser.py"]["definitions"] == 0.5


def test_a_file_score_is_its_prior_times_its_weighted_signals(reports_index):
    settings = SearchSettings(definition_weight=0.7, mention_weight=0.2, frame_weight=0.4)
    for hit in _files(reports_index, REPORT, settings):
        s = hit.explain.signals
        expected = s["prior"] * (s["content"] + 0.7 * s["definitions"] + 0.2 * s["mentions"] + 0.4 * s["frames"])
        assert hit.score == pytest.approx(expected, abs=1e-3)
    off = _files(reports_index, REPORT, SearchSettings(definition_weight=0))[0]
    assert off.score == pytest.approx(off.explain.signals["prior"] * off.explain.signals["content"], abs=1e-3)


def test_tests_by_content_rank_below_code(reports_index):
    # checks/check_parser.py is not under tests/ nor named test_*.py: its test functions make it a test.
    hits = {h.path: h for h in _files(reports_index, "tokenize parentheses parse_expression nested")}
    assert hits["checks/check_parser.py"].explain.signals["prior"] == SearchSettings().test_factor
    assert hits["calc/parser.py"].explain.signals["prior"] == 1.0


def test_loose_scripts_and_docs_rank_below_package_code(reports_index):
    hits = {h.path: h for h in _files(reports_index, "parse_expression nested expressions")}
    assert hits["examples/demo.py"].explain.signals["prior"] == SearchSettings().script_factor
    assert hits["docs/parser.md"].explain.signals["prior"] == SearchSettings().prose_factor
    paths = list(hits)
    assert paths.index("calc/parser.py") < paths.index("examples/demo.py")
    assert paths.index("calc/parser.py") < paths.index("docs/parser.md")


@pytest.mark.parametrize("query", [
    "Wrong conversion in calc.units when converting km",
    "see https://github.com/example/calc/blob/0a1b2c3/calc/units.py#L4 for the conversion",
    "the conversion in calc/units.py is wrong for km",
])
def test_a_module_or_path_the_report_names_is_a_mention(reports_index, query):
    hits = {h.path: h for h in _files(reports_index, query)}
    assert hits["calc/units.py"].explain.signals["mentions"] == 1.0
    assert next(iter(hits)) == "calc/units.py"


def test_traceback_frames_are_a_file_signal(reports_index):
    report = """Evaluating fails
Traceback (most recent call last):
  File "/home/me/app.py", line 3, in <module>
  File "/site-packages/calc/evaluate.py", line 23, in calculate
  File "/site-packages/calc/evaluate.py", line 19, in evaluate
ValueError: unknown operator -
"""
    top = _files(reports_index, report)[0]
    assert top.path == "calc/evaluate.py"
    assert top.explain.signals["frames"] == 1.0


def test_filters_hold_for_files_found_by_signals_alone(reports_index):
    hits = _files(reports_index, REPORT, paths=("docs",))
    assert hits and all(h.path.startswith("docs/") for h in hits)


def test_bundle_seeds_come_from_the_file_ranking(reports_index):
    top = _files(reports_index, REPORT)[0]
    bundle = assemble(reports_index, AssembleRequest(query=REPORT, budget=2000))
    assert bundle.items[0].path == top.path
    assert bundle.evidence[0].role == "seed"


def test_cli_answers_file_grouped_search(reports_index_path):
    import json

    from typer.testing import CliRunner

    from pampax_local.cli import app

    result = CliRunner().invoke(app, ["search", REPORT, "--group", "file", "--index", str(reports_index_path)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    paths = [hit["path"] for hit in body["results"]]
    assert paths[0] == "calc/parser.py" and len(paths) == len(set(paths))
    assert {"path", "start_line", "end_line", "symbol", "kind", "lang", "score", "snippet", "spans"} <= set(body["results"][0])


def test_package_prior_follows_a_refresh_of_a_live_index(tmp_path):
    # GIVEN a live connection that has already ranked (and memoized which directories are packages)
    import shutil

    from pampax.build import build_index
    from pampax.index import Index

    repo = shutil.copytree(FIXTURES / "reports", tmp_path / "reports")
    index = Index(build_index(repo).index)
    query = "parse_expression nested expressions demo"
    with index.snapshot():
        before = {h.path: h.explain.signals["prior"] for h in _files(index, query)}
    assert before["examples/demo.py"] == SearchSettings().script_factor
    # WHEN examples/ becomes a package and the index is refreshed in place
    (repo / "examples" / "__init__.py").write_text("")
    build_index(repo)
    # THEN the same connection's next snapshot ranks demo.py as package code
    with index.snapshot():
        after = {h.path: h.explain.signals["prior"] for h in _files(index, query)}
    assert after["examples/demo.py"] == 1.0
    index.close()
