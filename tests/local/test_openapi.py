"""openapi.yaml is the document generated from the models, and it names every route the template serves."""

from pathlib import Path

from pampax_local import openapi, sam

REPO = Path(__file__).resolve().parents[2]


def test_the_checked_in_openapi_yaml_is_in_step_with_the_models():
    assert (REPO / "openapi.yaml").read_text() == openapi.render(), "run: python -m pampax_local.openapi > openapi.yaml"


def test_openapi_documents_exactly_the_templates_routes():
    routes = {route for spec in sam.read_template(REPO / "template.yaml").values() for route in spec.routes}
    documented = {(method.upper(), path) for path, item in openapi.document()["paths"].items() for method in item}
    assert documented == routes
