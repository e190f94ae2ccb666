"""template.yaml and the layer against the code: handlers exist, routes match the README, policies stay narrow."""

from __future__ import annotations

import re
import tomllib

from pampax_local.sam import load_template, read_template

from .support import REPO, TEMPLATE

FUNCTIONS = read_template(TEMPLATE)
RESOURCES = load_template(TEMPLATE)["Resources"]


def _policy_text(logical_id: str) -> str:
    """Return every policy a function gets (inline, SAM templates, managed policies it references) as text."""
    policies = RESOURCES[logical_id]["Properties"].get("Policies", [])
    texts = [repr(p) for p in policies]
    texts += [repr(RESOURCES[p["Ref"]]) for p in policies if isinstance(p, dict) and "Ref" in p]
    return " ".join(texts)


def test_every_function_has_a_handler_and_the_layer():
    layers = load_template(TEMPLATE)["Globals"]["Function"]["Layers"]
    assert layers == [{"Ref": "CoreLayer"}]
    for spec in FUNCTIONS.values():
        module, function = spec.handler.split(".")
        assert re.search(rf"^(def {function}\(|{function} = )", (spec.code_dir / f"{module}.py").read_text(), re.M)


def test_routes_are_the_readme_http_api():
    documented = set(re.findall(r"`(GET|POST) (/[a-z/]+)`", (REPO / "README.md").read_text()))
    served = {route for spec in FUNCTIONS.values() for route in spec.routes}
    assert served == documented == {("POST", "/search"), ("POST", "/assemble"), ("GET", "/health"),
                                    ("POST", "/cache/warm"), ("POST", "/cache/clear"), ("POST", "/index")}


def test_the_api_is_not_open_to_the_world():
    assert RESOURCES["Api"]["Properties"]["Auth"]["DefaultAuthorizer"] == "AWS_IAM"


def test_only_the_index_function_writes_artifacts_and_only_cache_users_touch_the_table():
    for logical_id in FUNCTIONS:
        text = _policy_text(logical_id)
        assert ("s3:PutObject" in text) == (logical_id == "IndexFunction"), logical_id
        assert ("sources/" in text) == (logical_id == "IndexFunction"), logical_id
        assert ("dynamodb:PutItem" in text) == (logical_id in {"SearchFunction", "AssembleFunction", "CacheFunction"})
        assert ("dynamodb:Scan" in text) == (logical_id == "CacheFunction"), logical_id
        assert "s3:*" not in text and "dynamodb:*" not in text and "Resource': '*'" not in text


def test_the_queue_has_a_dead_letter_queue_and_outlives_the_index_timeout():
    queue = RESOURCES["IndexQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": "IndexDeadLetterQueue.Arn"}
    max_timeout = load_template(TEMPLATE)["Parameters"]["IndexTimeout"]["MaxValue"]
    assert queue["VisibilityTimeout"] >= 6 * max_timeout
    assert FUNCTIONS["IndexFunction"].queue_batch_size == 1
    # Lambda has no /dev/shm: the build must not start a process pool there
    assert FUNCTIONS["IndexFunction"].environment["PAMPAX_INDEX_WORKERS"] == "1"


def test_the_layer_requirements_mirror_the_runtime_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    cli_only = {"typer", "rich", "pyyaml"}
    expected = {d.split(";")[0].strip() if ";" not in d else d.replace(" ", "") for d in project
                if re.split(r"[<>=;\[ ]", d)[0].lower() not in cli_only}
    lines = (REPO / "layers" / "pampax" / "requirements.txt").read_text().splitlines()
    layer = {line.replace(" ", "") if ";" in line else line.strip() for line in lines if line and not line.startswith("#")}
    assert layer == expected
