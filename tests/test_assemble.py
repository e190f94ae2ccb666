import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pampax.assemble import assemble
from pampax.markdown import item_block, to_markdown
from pampax.errors import InvalidArgument
from pampax.models import AssembleRequest
from pampax.tokens import COUNTER, count_tokens


def _bundle(index, query="get_user_by_id", budget=4000, **kwargs):
    return assemble(index, AssembleRequest(query=query, budget=budget, **kwargs))


def test_bundle_holds_seed_callers_callees_and_tests(shop_index):
    # WHEN a bundle is assembled for a function with callers, callees and tests
    bundle = _bundle(shop_index)
    roles = {(e.role, e.path) for e in bundle.evidence}
    # THEN the seed, its caller, its callee and its tests are all in, each with a reason
    assert ("seed", "shop/users.py") in roles
    assert ("caller", "shop/orders.py") in roles
    assert ("callee", "shop/query.py") in roles
    assert ("test", "tests/test_users.py") in roles
    assert bundle.items[0].path == "shop/users.py" and bundle.items[0].mode == "full"
    assert all(item.reason for item in bundle.items)
    assert bundle.stop_reason == "candidates_exhausted"
    assert bundle.tokens.counter == COUNTER


def test_evidence_names_seed_and_edge_for_neighbours(shop_index):
    bundle = _bundle(shop_index)
    caller = next(e for e in bundle.evidence if e.role == "caller")
    assert (caller.via, caller.edge, caller.symbol) == ("get_user_by_id", "call", "place_order")
    test = next(e for e in bundle.evidence if e.role == "test")
    assert test.via == "get_user_by_id" and test.edge.startswith("test-")


def test_item_tokens_measure_the_rendered_block(shop_index):
    bundle = _bundle(shop_index)
    for item in bundle.items:
        assert item.tokens == count_tokens(item_block(item))
    # used is what the Markdown prints: every item block and the header around them
    assert bundle.tokens.used == count_tokens(to_markdown(bundle)) > sum(i.tokens for i in bundle.items)


def test_tight_budget_falls_back_to_capsules_then_drops(shop_index):
    full = _bundle(shop_index, budget=100_000)
    tight = _bundle(shop_index, budget=full.items[0].tokens + 20)
    assert tight.stop_reason == "budget_exhausted"
    assert tight.tokens.used <= tight.tokens.budget
    decisions = {e.decision for e in tight.evidence}
    assert "dropped" in decisions
    assert len(tight.items) < len(full.items)


def test_capsule_keeps_signature_and_docstring(shop_index):
    full = _bundle(shop_index, budget=100_000)
    seed = full.items[0]
    # GIVEN a budget below the seed's full text but above a capsule
    bundle = _bundle(shop_index, budget=seed.tokens - 1)
    capsule = bundle.items[0]
    assert capsule.mode == "capsule"
    assert capsule.text.startswith("def get_user_by_id(user_id)")
    assert "Return the user with" in capsule.text


def test_item_limit_stops_the_bundle(shop_index):
    bundle = _bundle(shop_index, budget=100_000, max_items=2)
    assert len(bundle.items) == 2
    assert bundle.stop_reason == "item_limit"


def test_no_match_gives_an_empty_bundle(shop_index):
    bundle = _bundle(shop_index, query="zzzzqqqq")
    assert (bundle.items, bundle.stop_reason) == ([], "no_results")
    assert bundle.tokens.used == count_tokens(to_markdown(bundle)) > 0  # the header alone


def test_empty_query_is_rejected(shop_index):
    with pytest.raises(InvalidArgument):
        _bundle(shop_index, query=" ")


def test_markdown_and_json_are_byte_identical_across_runs(shop_index):
    first, second = _bundle(shop_index), _bundle(shop_index)
    assert first.model_dump_json() == second.model_dump_json()
    markdown = to_markdown(first, evidence=True)
    assert markdown == to_markdown(second, evidence=True)
    assert "## Evidence" in markdown and "stop: candidates_exhausted" in markdown
    assert "## Evidence" not in to_markdown(first)
    for item in first.items:
        assert item_block(item) in markdown


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(budget=st.integers(min_value=1, max_value=3000),
       query=st.sampled_from(["get_user_by_id", "QuerySet filter", "order total tax", "user", "getUserById"]))
def test_a_bundle_never_exceeds_its_budget(shop_index, budget, query):
    bundle = _bundle(shop_index, query=query, budget=budget)
    assert count_tokens(to_markdown(bundle)) == bundle.tokens.used <= budget


def test_callee_lookup_reads_only_the_files_calls(shop_index):
    # A plan through the name index (for the GROUP BY) scans every call: 100+ ms per symbol on Django.
    from pampax.assemble import CALLEES_SQL

    plan = " ".join(row[-1] for row in shop_index.query(f"EXPLAIN QUERY PLAN {CALLEES_SQL}", (1, 1)))
    assert "SEARCH f USING INTEGER PRIMARY KEY (rowid=?)" in plan and "SEARCH call_edges USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
