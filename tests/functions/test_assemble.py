"""The assemble function through API Gateway events: the same bundle as the core, defaults from config, 4xx."""

from __future__ import annotations

import pytest

from pampax.assemble import assemble
from pampax.config import SearchSettings
from pampax.index import open_index
from pampax.models import AssembleRequest

from .support import api_event, call, load_handler


def test_assemble_serves_the_core_bundle_of_the_published_generation(aws, generations):
    # GIVEN a published generation and a cold assemble function
    manifest = aws.store.publish(generations[0])
    # WHEN a bundle is asked for with only query and budget
    status, body = call(load_handler("assemble"), api_event("POST", "/assemble", {"query": "place_order", "budget": 1500}))
    # THEN it is the core's bundle on the same file, with seeds and max_items from config defaults
    assert status == 200
    with open_index(generations[0]) as index:
        expected = assemble(index, AssembleRequest(query="place_order", budget=1500), SearchSettings())
    assert body == expected.model_dump(mode="json")
    assert body["generation"] == manifest.generation
    assert body["tokens"]["used"] <= 1500


def test_config_defaults_fill_what_the_body_leaves_out(aws, generations, monkeypatch):
    # GIVEN a deployment configured for one-item bundles
    monkeypatch.setenv("PAMPAX_ASSEMBLE_MAX_ITEMS", "1")
    aws.store.publish(generations[0])
    # WHEN the body names no max_items, THEN the config's applies; a body value wins over it
    _, body = call(load_handler("assemble"), api_event("POST", "/assemble", {"query": "place_order", "budget": 5000}))
    assert len(body["items"]) == 1 and body["stop_reason"] == "item_limit"
    _, body = call(load_handler("assemble"), api_event("POST", "/assemble",
                                                       {"query": "place_order", "budget": 5000, "max_items": 3}))
    assert len(body["items"]) > 1


@pytest.mark.parametrize(
    ("body", "status"),
    [({"query": "x"}, 422), ({"query": "x", "budget": 0}, 422), ({"query": "x", "budget": "lots"}, 422), ("{", 400)],
)
def test_bad_bundle_requests_are_refused_before_any_index_work(aws, body, status):
    # GIVEN no index published at all
    # WHEN a malformed request arrives, THEN validation answers first (not 503)
    got_status, got = call(load_handler("assemble"), api_event("POST", "/assemble", body))
    assert got_status == status and set(got) == {"error"}


def test_the_knobs_and_filters_reach_the_bundle_over_http(aws, generations):
    # GIVEN a published generation
    aws.store.publish(generations[0])
    knobs = {"excludes": ["tests"], "intent": "identifier", "policy": "all", "docs": False, "langs": ["python"]}
    # WHEN a bundle is asked for with every knob, THEN it is the core's bundle for the same request
    status, body = call(load_handler("assemble"), api_event("POST", "/assemble", {"query": "place_order", "budget": 3000,
                                                                                 **knobs}))
    assert status == 200
    with open_index(generations[0]) as index:
        expected = assemble(index, AssembleRequest(query="place_order", budget=3000, **knobs), SearchSettings())
    assert body == expected.model_dump(mode="json")
    assert body["explain"] == {"intent": "identifier", "reason": "requested"}
    assert body["items"] and all(i["lang"] == "python" and not i["path"].startswith("tests/") for i in body["items"])
    # AND an unknown filter value or knob is refused, naming what is allowed
    status, refused = call(load_handler("assemble"), api_event("POST", "/assemble", {"query": "x", "budget": 10,
                                                                                    "langs": ["pyhton"]}))
    assert status == 400 and "it has: " in refused["error"]["message"]
    status, refused = call(load_handler("assemble"), api_event("POST", "/assemble", {"query": "x", "budget": 10,
                                                                                    "policy": "tests"}))
    assert status == 422 and "policy" in refused["error"]["message"]
