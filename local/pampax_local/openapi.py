"""The HTTP API's OpenAPI 3.1 document, generated from the core's request and response models.

``openapi.yaml`` at the top of the repository is this module's output, checked in so that the
template and clients can reference it; a test keeps the two in step. Regenerate with
``python -m pampax_local.openapi > openapi.yaml``.
"""

from __future__ import annotations

import sys

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pampax import __version__
from pampax.errors import ERROR_TABLE
from pampax.jobs import IndexJobRequest
from pampax.jobstore import Job
from pampax.models import (
    AssembleRequest, AssembleResponse, CacheClearReport, CacheClearRequest, CacheWarmReport, CacheWarmRequest,
    HealthReport, SearchRequest, SearchResponse,
)

# (method, path, summary, request model or None, success status, response model)
ROUTES: tuple[tuple[str, str, str, type[BaseModel] | None, int, type[BaseModel]], ...] = (
    ("post", "/search", "Ranked hits for a query", SearchRequest, 200, SearchResponse),
    ("post", "/assemble", "A token-budgeted context bundle", AssembleRequest, 200, AssembleResponse),
    ("get", "/health", "Config, index, cache and artifact checks", None, 200, HealthReport),
    ("post", "/cache/warm", "Replay queries into the response cache", CacheWarmRequest, 200, CacheWarmReport),
    ("post", "/cache/clear", "Drop cached responses", CacheClearRequest, 200, CacheClearReport),
    ("post", "/index", "Queue an index job for an uploaded source archive", IndexJobRequest, 202, Job),
)
_REF = "#/components/schemas/{model}"
_ERROR_BODY = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "kind", "message"], "additionalProperties": False,
        "properties": {"code": {"type": "integer"}, "kind": {"enum": sorted(ERROR_TABLE)}, "message": {"type": "string"}},
    }},
}


def _json(schema_name: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": _REF.format(model=schema_name)}}}}


def _errors(has_body: bool) -> dict[str, dict]:
    """Return every status an operation may answer with the error body (per ``ERROR_TABLE``)."""
    statuses = {"404", "500", "503"} | ({"400", "413", "422"} if has_body else set())
    return {status: {"description": "an error of the documented kinds", **_json("Error")} for status in sorted(statuses)}


def document() -> dict:
    """Return the OpenAPI 3.1 document as a dict."""
    models = [(m, "validation") for *_, m, _, _ in ROUTES if m is not None]
    models += [(m, "serialization") for *_, m in ROUTES]
    _, defs = models_json_schema(models, ref_template=_REF)
    schemas = {**defs["$defs"], "Error": _ERROR_BODY}
    paths: dict[str, dict] = {}
    for method, path, summary, request, status, response in ROUTES:
        operation = {"summary": summary, "operationId": f"{method}_{path.strip('/').replace('/', '_')}",
                     "responses": {str(status): {"description": "success", **_json(response.__name__)},
                                   **_errors(request is not None)}}
        if request is not None:
            operation["requestBody"] = {"required": True, **_json(request.__name__)}
        if path == "/health":  # unhealthy is a report too, not an error body
            operation["responses"]["503"] = {"description": "unhealthy", **_json(response.__name__)}
        paths[path] = {method: operation}
    return {
        "openapi": "3.1.0",
        "info": {"title": "pampax", "version": __version__,
                 "description": "Code retrieval: search, context bundles, cache and index jobs (README.md)."},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def render() -> str:
    """Return the document as the YAML checked in as ``openapi.yaml``."""
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=120)


if __name__ == "__main__":
    sys.stdout.write(render())
