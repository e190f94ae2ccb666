"""The cache function: warm replays queries into the cache, clear drops them, both on the warm shared index."""

from __future__ import annotations

import boto3
import pytest

from pampax_local.sam import load_template

from .support import REGION, TEMPLATE, api_event, call, load_handler


@pytest.fixture(params=["sqlite", "dynamodb"])
def cache_store(request, aws, monkeypatch):
    """The cache in the process's work directory, or in a DynamoDB table laid out as template.yaml's CacheTable."""
    if request.param == "dynamodb":
        table = load_template(TEMPLATE)["Resources"]["CacheTable"]["Properties"]
        name = f"cache-{aws.bucket}"
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName=name, AttributeDefinitions=table["AttributeDefinitions"],
                              KeySchema=table["KeySchema"], BillingMode=table["BillingMode"])
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=table["TimeToLiveSpecification"])
        monkeypatch.setenv("PAMPAX_CACHE_TABLE", name)
    return request.param


def test_warm_then_clear(aws, generations, cache_store):
    # GIVEN a published generation and the cache function
    generation = aws.store.publish(generations[0]).generation
    handler = load_handler("cache")
    # WHEN two queries are warmed
    status, body = call(handler, api_event("POST", "/cache/warm", {"queries": ["get_user_by_id", "place_order"],
                                                                   "budget": 1000}))
    # THEN a search and a bundle per query were written for the current generation
    assert status == 200
    assert body == {"generation": generation, "queries": 2, "written": 4, "hits": 0}
    # AND warming again hits every entry
    assert call(handler, api_event("POST", "/cache/warm", {"queries": ["get_user_by_id", "place_order"],
                                                          "budget": 1000}))[1]["hits"] == 4
    # WHEN one scope is cleared, THEN only its entries go
    status, body = call(handler, api_event("POST", "/cache/clear", {"scope": "search"}))
    assert (status, body) == (200, {"scope": "search", "removed": 2})
    assert call(handler, api_event("POST", "/cache/clear", {}))[1] == {"scope": "all", "removed": 2}


def test_cache_requests_are_validated(aws):
    handler = load_handler("cache")
    status, body = call(handler, api_event("POST", "/cache/clear", {"scope": "everything"}))
    assert (status, body["error"]["kind"]) == (422, "invalid_request")
    status, body = call(handler, api_event("GET", "/cache/warm"))
    assert (status, body["error"]["kind"]) == (404, "route_not_found")
