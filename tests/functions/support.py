"""Helpers shared by the serverless tests: sample events, handler loading, moto resources, index generations.

The events under ``events/`` are real ``sam local generate-event`` output:
``apigateway aws-proxy --method POST --path search --body '{"query": "get_user_by_id"}'`` and
``sqs receive-message --body '{}'``.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from pampax import db
from pampax.build import build_index
from pampax.index import open_index
from pampax_local import sam
from pampax_local.harness import LocalContext

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
EVENTS = Path(__file__).parent / "events"
SHOP = REPO / "tests" / "fixtures" / "shop"
REGION = "us-east-1"
# Receives before SQS moves a message to the dead-letter queue (the template says 3; 2 keeps tests short).
MAX_RECEIVES = 2


def api_event(method: str, path: str, body: object = None, headers: dict | None = None) -> dict:
    """Return the generated aws-proxy event re-aimed at ``method path``; a non-str ``body`` is sent as JSON."""
    event = json.loads((EVENTS / "aws-proxy-search.json").read_text())
    event.update(httpMethod=method, path=path, resource=path, pathParameters=None, isBase64Encoded=False,
                 body=body if body is None or isinstance(body, str) else json.dumps(body))
    event["headers"] = {**event["headers"], **(headers or {})}
    event["requestContext"] = {**event["requestContext"], "requestId": str(uuid.uuid4()), "httpMethod": method,
                               "resourcePath": path}
    return event


def load_module(function: str):
    """Return the handler module of template.yaml's ``function``, freshly imported by file path.

    A unique module name per call means each test gets a cold module that reads the environment
    the test has just set.
    """
    spec = sam.pick_function(sam.read_template(TEMPLATE), function)
    name = f"fn_{spec.code_dir.name}_{uuid.uuid4().hex}"
    sam.import_handler(spec, module_name=name)
    return sys.modules[name]


def load_handler(function: str):
    """Return the ``lambda_handler`` of a freshly imported handler module (see ``load_module``)."""
    return load_module(function).lambda_handler


def call(handler, event: dict) -> tuple[int, dict]:
    """Return the status and the decoded JSON body of one invocation."""
    response = handler(event, LocalContext("test"))
    return response["statusCode"], json.loads(response["body"])


def build_generations(workdir: Path, count: int) -> list[Path]:
    """Return ``count`` index files of the shop fixture, each a different generation (one file edited between builds)."""
    repo = Path(shutil.copytree(SHOP, workdir / "shop"))
    paths = []
    for n in range(count):
        (repo / "shop" / "release.py").write_text(f'RELEASE = "r{n}"\n')
        with db.self_contained(Path(build_index(repo, workdir / "build.db").index)) as built:  # as published
            paths.append(Path(shutil.copyfile(built, workdir / f"gen{n}.db")))
    return paths


def generation_of(path: Path) -> str:
    """Return the generation id stored in an index file."""
    with open_index(path) as index:
        return index.generation


@contextmanager
def moto() -> Iterator[None]:
    """Run moto in-process with dummy credentials, so nothing can reach a real account."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
            patch.setenv(name, value)
        with mock_aws():
            yield


def provision() -> SimpleNamespace:
    """Create the template's resources under fresh names: the bucket, the index queue and its dead-letter queue.

    Fresh names give each test empty resources inside one long-lived moto (starting moto's S3
    for every test would cost a few hundred milliseconds each).
    """
    suffix = uuid.uuid4().hex[:12]
    s3 = boto3.client("s3", region_name=REGION)
    bucket = f"pampax-{suffix}"
    s3.create_bucket(Bucket=bucket)
    sqs = boto3.client("sqs", region_name=REGION)
    dlq_url = sqs.create_queue(QueueName=f"index-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    queue_url = sqs.create_queue(QueueName=f"index-{suffix}", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    return SimpleNamespace(s3=s3, sqs=sqs, bucket=bucket, queue_url=queue_url, dlq_url=dlq_url)
