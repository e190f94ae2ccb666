"""Request models and request bodies under hypothesis: every input ends as a request or a documented error.

Arbitrary JSON-ish objects go through ``models.validate`` (what every adapter calls), and arbitrary
bodies through the handlers as API Gateway events, the way ``pampax local serve`` builds them.
Objects are drawn mostly from each model's own fields and JSON-schema types, so that values reach
the field validators and the service instead of stopping at ``extra="forbid"``.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pampax.errors import ERROR_TABLE, InvalidArgument, InvalidRequest, PampaxError, exit_code_for
from pampax.jobs import IndexJobRequest
from pampax.models import AssembleRequest, CacheClearRequest, CacheWarmRequest, IndexRequest, SearchRequest, validate
from pampax_local.harness import LocalContext, api_event
from pampax_local.openapi import ROUTES

from .support import load_handler

MODELS = (SearchRequest, AssembleRequest, CacheWarmRequest, CacheClearRequest, IndexRequest, IndexJobRequest)
# Bounded so CI stays fast; no deadline, since the first examples also warm the handlers.
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

text = st.text(max_size=40)
# Names the shop fixture defines, so that some searches find something to rank.
words = st.lists(st.sampled_from(["get_user_by_id", "place_order", "QuerySet.filter", "count_users", "tax"]),
                 min_size=1, max_size=3).map(" ".join)
# Lone surrogates included: json.loads makes them from "\ud800" escapes.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
                           max_leaves=12)


def _typed(schema: dict) -> st.SearchStrategy:
    """Return values of a field's JSON-schema type, around its bounds, so that many requests validate."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([_typed(s) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        return st.from_regex(schema["pattern"], fullmatch=True) if "pattern" in schema else words | text
    if kind == "integer":
        low, high = schema.get("minimum", schema.get("exclusiveMinimum", 0)), schema.get("maximum", 10**6)
        return st.integers(low - 2, high + 2)
    if kind == "array":
        return st.lists(_typed(schema["items"]), max_size=4)
    return st.booleans() if kind == "boolean" else st.none()


def requests_for(model) -> st.SearchStrategy:
    """Return JSON objects for ``model``, mostly with its required fields and typed values, else anything.

    Each field's value is (1 in 4) any JSON value instead of a typed one; 1 object in 4 carries an
    unknown key, and 1 in 4 is any object at all (required fields missing, most likely).
    """
    schema = model.model_json_schema()
    fields = {name: st.one_of(_typed(s), _typed(s), _typed(s), json_values) for name, s in schema["properties"].items()}
    required = set(schema.get("required", ()))
    known = st.fixed_dictionaries({k: v for k, v in fields.items() if k in required},
                                  optional={k: v for k, v in fields.items() if k not in required})
    extra = st.one_of(st.just({}), st.just({}), st.just({}), st.dictionaries(any_text, json_values, min_size=1, max_size=1))
    typed = st.builds(lambda unknown, present: {**unknown, **present}, extra, known)
    return st.one_of(typed, typed, typed, st.dictionaries(any_text, json_values, max_size=4))


def _assert_error_body(status: int, body: dict) -> None:
    error = body["error"]
    assert set(error) == {"code", "kind", "message"} and error["kind"] in ERROR_TABLE
    assert (status, error["code"]) == (ERROR_TABLE[error["kind"]].http_status, exit_code_for(error["kind"]))


@pytest.mark.parametrize("error", [InvalidRequest, InvalidArgument], ids=["api", "queue"])
@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
@FUZZ
@given(data=st.data())
def test_validate_returns_the_model_or_raises_the_documented_kind(model, error, data):
    data = data.draw(requests_for(model))
    try:
        request = validate(model, data, error)
    except PampaxError as exc:
        assert type(exc) is error and exc.message  # never pydantic's ValidationError or anything else
        return
    # a request that validated is one the cache can key and the adapters can print: valid UTF-8 JSON
    json.dumps(request.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")


BODY_ROUTES = [(method.upper(), path, status, request) for method, path, _, request, status, _ in ROUTES if request]


def _bodies(model) -> st.SearchStrategy:
    """Return request bodies: the model's JSON objects, any JSON, or any bytes (not UTF-8 included)."""
    as_json = st.one_of(requests_for(model), requests_for(model), json_values).map(json.dumps)  # ASCII: lone surrogates escaped
    return as_json.map(str.encode) | st.binary(max_size=200)


@pytest.fixture
def handlers(aws, generations):
    """The handler of every route with a body (by its function's directory), over a published generation."""
    aws.store.publish(generations[0])
    loaded = {name: load_handler(name) for name in {path.split("/")[1] for _, path, *_ in BODY_ROUTES}}
    return {path: loaded[path.split("/")[1]] for _, path, *_ in BODY_ROUTES}


@FUZZ
@given(case=st.sampled_from(BODY_ROUTES).flatmap(lambda route: st.tuples(st.just(route), _bodies(route[3]))))
def test_any_body_answers_its_success_status_or_a_caller_error_body(handlers, case):
    (method, path, success, _), body = case
    response = handlers[path](api_event(method, path, body), LocalContext("fuzz"))
    status, answer = response["statusCode"], json.loads(response["body"])
    if status != success:
        _assert_error_body(status, answer)
        # the index is there and healthy: whatever the body, a failure is the caller's (no 5xx)
        assert status < 500, answer
