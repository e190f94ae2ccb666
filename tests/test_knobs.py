"""The search knobs: intent (detected and forced), policy and docs, --exclude, filters on assemble, cache keys."""

import io
import json
import uuid
from pathlib import Path

import pytest

from pampax.assemble import assemble
from pampax.cache import ReadThroughCache
from pampax.config import CacheSettings, Config, ObservabilitySettings, SearchSettings
from pampax.errors import InvalidArgument
from pampax.index import open_index
from pampax.intent import read
from pampax.models import AssembleRequest, AssembleResponse, SearchRequest, SearchResponse
from pampax.observability import MetricsSink, Telemetry, make_logger
from pampax.search import search
from pampax.service import Service
from pampax.stores.sqlite_cache import SqliteCacheStore

QUERIES = Path(__file__).resolve().parents[1] / "benchmarks" / "queries"
# The query sets' types are written by hand; "natural" is what the knob calls a question.
INTENT_OF_TYPE = {"identifier": "identifier", "error": "error", "natural": "question", "bug_report": "bug_report"}
TRACEBACK = 'Traceback (most recent call last):\n  File "shop/users.py", line 14, in get_user_by_id\nKeyError: 7'


@pytest.mark.parametrize("corpus", ["django", "requests"])
def test_auto_detects_the_intent_of_every_fixture_query(corpus):
    queries = json.loads((QUERIES / f"{corpus}.json").read_text())["queries"]
    wrong = [(q["id"], q["type"], read(q["query"]).intent) for q in queries
             if read(q["query"]).intent != INTENT_OF_TYPE[q["type"]]]
    assert wrong == []


@pytest.mark.parametrize(("query", "intent", "reason"), [
    ("filter", "identifier", "names only"),
    ("QuerySet.filter get_object_or_404", "identifier", "names only"),
    ("cache key", "question", "prose"),
    ("how are passwords hashed", "question", "opens with 'how'"),
    ("ValueError: too many values to unpack", "error", "an exception line"),
    ("requests.exceptions.MissingSchema: Invalid URL 'x': No scheme supplied. Perhaps you meant http://x?",
     "error", "an exception line"),
    (TRACEBACK, "bug_report", "1 traceback frame(s)"),
    ("Totals are wrong\nWhen an order has no lines the total is None.", "bug_report", "a title and a body"),
])
def test_auto_says_why_it_chose_an_intent(query, intent, reason):
    assert (read(query).intent, read(query).reason) == (intent, reason)


def test_each_intent_reads_the_text_its_own_way():
    # identifier: every identifier-shaped word is a name, stopwords too, and nothing is a phrase
    plan = read("get filter user", "identifier").plan
    assert (plan.identifiers, plan.words, plan.message_runs) == (["get", "filter", "user"], [], [])
    # question: the sentence is prose, not an error message to match verbatim
    assert read("unknown users raise an error", "question").plan.message_runs == []
    assert read("unknown users raise an error", "bug_report").plan.message_runs  # the full reading would
    # error: the whole text is a message, however long it is
    long_message = "the order total could not be computed because " * 6
    assert not read(long_message, "bug_report").plan.message_runs
    assert read(long_message, "error").plan.message_runs


def test_explain_names_the_intent_chosen(shop_index):
    assert search(shop_index, SearchRequest(query="get_user_by_id")).explain.model_dump() == {
        "intent": "identifier", "reason": "names only"}
    forced = search(shop_index, SearchRequest(query="get_user_by_id", intent="question")).explain
    assert (forced.intent, forced.reason) == ("question", "requested")
    bundle = assemble(shop_index, AssembleRequest(query=TRACEBACK, budget=2000))
    assert bundle.explain.intent == "bug_report"


def test_identifier_intent_weighs_exact_names_up(shop_index):
    settings = SearchSettings()
    boosts = {intent: search(shop_index, SearchRequest(query="get_user_by_id", intent=intent)).results[0].explain
              for intent in ("identifier", "question")}
    assert boosts["question"].symbol_boost == settings.exact_boost
    assert boosts["identifier"].symbol_boost == settings.exact_boost * settings.identifier_boost


def _paths(index, query, **fields):
    return [h.path for h in search(index, SearchRequest(query=query, limit=50, **fields)).results]


def test_policy_code_demotes_tests_and_code_plus_tests_does_not(shop_index):
    settings = SearchSettings()
    scores = {}
    for policy in ("code", "code+tests", "all"):
        hits = search(shop_index, SearchRequest(query="get_user_by_id", limit=50, policy=policy)).results
        scores[policy] = {(h.path, h.start_line): h.score for h in hits}
    test_hit = next(k for k in scores["code"] if k[0].startswith("tests/"))
    code_hit = next(k for k in scores["code"] if k[0] == "shop/users.py")
    # a test chunk's score loses exactly the test prior under code, nothing under code+tests and all
    assert scores["code+tests"][test_hit] == pytest.approx(scores["code"][test_hit] / settings.chunk_test_factor, rel=1e-3)
    assert scores["all"][test_hit] == scores["code+tests"][test_hit]
    assert scores["code+tests"][code_hit] == scores["code"][code_hit]


def test_policy_sets_the_file_priors_of_tests_and_docs(reports_index):
    # file ranking: under code a test file's prior is the test factor; under code+tests and all it is 1
    for policy, prior in (("code", SearchSettings().test_factor), ("code+tests", 1.0), ("all", 1.0)):
        hits = search(reports_index, SearchRequest(query="check_parser", group="file", limit=20, policy=policy)).results
        tests = [h for h in hits if h.path.startswith("checks/")]
        assert tests and all(h.explain.signals["prior"] == prior for h in tests), policy
    prose = {policy: [h.explain.signals["prior"] for h in search(
        reports_index, SearchRequest(query="parser", group="file", limit=20, policy=policy)).results
        if h.lang == "markdown"] for policy in ("code+tests", "all")}
    assert prose["code+tests"] == [SearchSettings().prose_factor] and prose["all"] == [1.0]


def test_docs_off_leaves_prose_out(shop_index):
    assert "docs/guide.md" in _paths(shop_index, "order total tax")
    assert "docs/guide.md" not in _paths(shop_index, "order total tax", docs=False)
    assert "docs/guide.md" not in _paths(shop_index, "order total tax", docs=False, group="file")


def test_exclude_drops_matching_paths_from_search_and_bundles(shop_index):
    assert any(p.startswith("tests/") for p in _paths(shop_index, "get_user_by_id"))
    kept = _paths(shop_index, "get_user_by_id", excludes=("tests",))
    assert kept and not any(p.startswith("tests/") for p in kept)
    assert not any(p.endswith(".py") for p in _paths(shop_index, "user", excludes=("*.py",)))
    # a bundle's neighbours obey it too: the tests of get_user_by_id are found by edges, then left out
    full = assemble(shop_index, AssembleRequest(query="get_user_by_id", budget=4000))
    assert any(item.path.startswith("tests/") for item in full.items)
    bundle = assemble(shop_index, AssembleRequest(query="get_user_by_id", budget=4000, excludes=("tests",)))
    assert bundle.items and not any(e.path.startswith("tests/") for e in bundle.evidence)


def test_assemble_takes_the_search_filters(shop_index):
    bundle = assemble(shop_index, AssembleRequest(query="user", budget=4000, langs=("javascript",)))
    assert bundle.items and {item.lang for item in bundle.items} == {"javascript"}
    bundle = assemble(shop_index, AssembleRequest(query="user", budget=4000, paths=("shop",), kinds=("function",)))
    assert bundle.items and all(i.path.startswith("shop/") and i.kind == "function" for i in bundle.items)


def _cache(cache_path):
    settings = ObservabilitySettings(service=f"knobs-{uuid.uuid4().hex[:8]}")
    telemetry = Telemetry(settings, make_logger(settings, "test", io.StringIO()), MetricsSink(stream=io.StringIO()))
    return ReadThroughCache(SqliteCacheStore(cache_path), CacheSettings(), telemetry)


def _service(index_path, cache_path):
    cache = _cache(cache_path)
    return Service(Config(), lambda: open_index(index_path), cache.telemetry, cache)


@pytest.mark.parametrize(("filters", "message"), [
    ({"langs": ("pyhton",)}, "langs: no lang 'pyhton' in this index; it has: javascript, markdown, python, text, typescript"),
    ({"kinds": ("funtion",)}, "kinds: no kind 'funtion' in this index; it has: class, function, module, text"),
])
def test_assemble_refuses_a_filter_value_the_index_never_holds(shop_index_path, tmp_path, filters, message):
    with pytest.raises(InvalidArgument) as refused:
        _service(shop_index_path, tmp_path / "cache.db").assemble(
            AssembleRequest(query="get_user_by_id", budget=1000, **filters))
    assert refused.value.message == message


@pytest.mark.parametrize(("scope", "model", "response", "base"), [
    ("search", SearchRequest, SearchResponse, {"query": "get_user_by_id"}),
    ("bundle", AssembleRequest, AssembleResponse, {"query": "get_user_by_id", "budget": 1000}),
])
def test_every_knob_takes_part_in_the_cache_key(tmp_path, scope, model, response, base):
    cache = _cache(tmp_path / "cache.db")
    empty = (lambda: SearchResponse(query="q", generation="g", terms=[], results=[])) if scope == "search" else (
        lambda: AssembleResponse(query="q", generation="g", items=[], evidence=[], stop_reason="no_results",
                                 tokens={"budget": 1, "used": 0, "counter": "c"}))
    variants = [{}, {"intent": "identifier"}, {"intent": "error"}, {"policy": "code+tests"}, {"policy": "all"},
                {"docs": False}, {"excludes": ("tests",)}, {"paths": ("shop",)}]
    for fields in variants:  # each variant is a miss the first time, a hit the second
        request = model(**base, **fields)
        assert [cache.fetch(scope, "g", request, empty, response)[1] for _ in range(2)] == [False, True], fields


def test_the_cli_takes_the_knobs_on_search_and_assemble(shop_repo, monkeypatch):
    from typer.testing import CliRunner

    from pampax_local.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["index", str(shop_repo)]).exit_code == 0
    monkeypatch.chdir(shop_repo / "shop")
    knobs = ["--exclude", "../tests", "--intent", "identifier", "--policy", "code+tests", "--no-docs"]
    found = runner.invoke(app, ["search", "get_user_by_id", "--limit", "20", *knobs])
    assert found.exit_code == 0, found.output
    body = json.loads(found.stdout)
    assert body["explain"] == {"intent": "identifier", "reason": "requested"}
    assert body["results"] and not any(h["path"].startswith(("tests/", "docs/")) for h in body["results"])
    bundle = runner.invoke(app, ["assemble", "get_user_by_id", "--budget", "4000", "--path", "users.py", *knobs])
    assert bundle.exit_code == 0, bundle.output
    assert {item["path"] for item in json.loads(bundle.stdout)["items"]} == {"shop/users.py"}
    refused = runner.invoke(app, ["assemble", "x", "--budget", "100", "--lang", "pyhton"])
    assert refused.exit_code == 2 and "langs: no lang 'pyhton'" in refused.stderr
