"""Figures through the Lambda search handler: warm search (cache miss) and cold start with an S3 fetch.

Each figure first checks that what it needs exists (``pampax.runtime``, ``functions/search/app.py``,
``pampax.stores.s3`` and moto) and otherwise returns a skipped record naming what is missing.

Handler code runs in a child process (``python -m benchmarks.handler MODE ...``): handler modules
read their config from the environment at import, and ``pampax.runtime`` keeps the open index in a
module global, so each measurement needs a process of its own. The child calls ``lambda_handler``
with an API Gateway REST event, as the local harness does; Powertools may log to stdout, so the
child writes its figures to a file.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .corpora import BENCHMARKS
from .query_set import Query
from .slots import missing, skipped
from .stats import summarize

REPO = BENCHMARKS.parent
SEARCH_APP = REPO / "functions" / "search" / "app.py"
_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
_BUCKET = "pampax-bench"


def handler_figures(index_path: Path, queries: list[Query], trials: int) -> dict:
    """Return ``handler.search``: warm requests through the search handler, every one a cache miss.

    Each trial is a fresh process with an empty cache: one untimed warm-up request loads the index,
    then every query is sent once, so no request can be answered from the cache.
    """
    absent = _missing("pampax.runtime", "pampax.stores")
    if absent:
        return {"handler.search": skipped(f"not built yet: needs {absent}")}
    from pampax.stores import LocalArtifactStore

    seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pampax-bench-") as scratch:
        store = Path(scratch) / "store"
        LocalArtifactStore(store).publish(index_path)
        for n in range(trials):
            env = {"PAMPAX_RUNTIME_STORE_DIR": str(store), **_scratch_env(Path(scratch) / f"work-{n}")}
            seconds += _child("warm", env, {"queries": [q.query for q in queries]})["seconds"]
    return {"handler.search": summarize(seconds)}


def cold_start_figure(index_path: Path, query: str, trials: int) -> dict:
    """Return ``handler.cold_start_s3``: a fresh process fetching, verifying and serving the index from S3 (moto).

    Timed from spawn to exit: interpreter start, handler import, pointer and manifest reads, the
    artifact download (unpacked and hashed as it streams), open, the generation check, one search answered.
    The record splits the first request into the accessor's stages (``stages_p50_ms``) and the answer.
    """
    absent = _missing("pampax.runtime", "pampax.stores.s3", "moto", "boto3")
    if absent:
        return {"handler.cold_start_s3": skipped(f"not built yet: needs {absent}")}
    import boto3
    from moto.server import ThreadedMotoServer
    from pampax.stores.s3 import S3ArtifactStore

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request to stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket=_BUCKET)
        manifest = S3ArtifactStore(client, _BUCKET).publish(index_path)
        seconds, inside = [], []
        for _ in range(trials):
            with tempfile.TemporaryDirectory(prefix="pampax-bench-") as work:
                env = {**_CREDENTIALS, "PAMPAX_AWS_BUCKET": _BUCKET, "PAMPAX_AWS_ENDPOINT_URL": endpoint,
                       "PAMPAX_AWS_REGION": "us-east-1", **_scratch_env(Path(work))}
                started = time.perf_counter()
                inside.append(_child("cold", env, {"query": query}))
                seconds.append(time.perf_counter() - started)
    finally:
        server.stop()
    stages = {stage: summarize([r["stages_ms"][stage] / 1000 for r in inside])["p50_ms"] for stage in inside[0]["stages_ms"]}
    answers = [r["first_request_seconds"] - sum(r["stages_ms"].values()) / 1000 for r in inside]
    return {"handler.cold_start_s3": {
        **summarize(seconds),
        "import_p50_ms": summarize([r["import_seconds"] for r in inside])["p50_ms"],
        "first_request_p50_ms": summarize([r["first_request_seconds"] for r in inside])["p50_ms"],
        "stages_p50_ms": {**stages, "answer": summarize(answers)["p50_ms"]},
        "artifact_bytes": manifest.size, "artifact_compressed_bytes": manifest.compressed_size,
    }}


def _missing(*modules: str) -> str:
    """Return the needed modules and handler file that do not exist, comma-separated ("" when all do)."""
    absent = [missing(*modules)] + ([] if SEARCH_APP.is_file() else [str(SEARCH_APP.relative_to(REPO))])
    return ", ".join(a for a in absent if a)


def _scratch_env(work: Path) -> dict[str, str]:
    """Return the settings that keep a child's files (fetched index, cache, metrics) in ``work``, which starts empty."""
    return {"PAMPAX_RUNTIME_WORK_DIR": str(work), "PAMPAX_CACHE_PATH": str(work / "cache.db"),
            "PAMPAX_OBSERVABILITY_METRICS_FILE": str(work / "metrics.jsonl")}


def _child(mode: str, env: dict[str, str], job: dict) -> dict:
    """Run ``python -m benchmarks.handler MODE JOB OUT`` with ``env`` added; return what it wrote to OUT."""
    with tempfile.TemporaryDirectory(prefix="pampax-bench-") as scratch:
        job_file, out_file = Path(scratch) / "job.json", Path(scratch) / "out.json"
        job_file.write_text(json.dumps(job))
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.handler", mode, str(job_file), str(out_file)],
            cwd=REPO, env={**os.environ, "POWERTOOLS_SERVICE_NAME": "pampax-bench", **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"handler child ({mode}) failed: {done.stderr.strip()[-500:]}")
        return json.loads(out_file.read_text())


@dataclass(frozen=True)
class _Context:
    """The attributes of a Lambda context that Powertools' ``inject_lambda_context`` reads."""

    function_name: str = "pampax-bench-search"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:pampax-bench-search"
    aws_request_id: str = "pampax-bench"


def _event(query: str, n: int) -> dict:
    """Return an API Gateway REST event for ``POST /search``."""
    return {
        "resource": "/search", "path": "/search", "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "isBase64Encoded": False,
        "requestContext": {"requestId": f"pampax-bench-{n}", "resourcePath": "/search", "httpMethod": "POST",
                           "stage": "bench", "accountId": "000000000000", "apiId": "bench",
                           "identity": {"sourceIp": "127.0.0.1"}},
        "body": json.dumps({"query": query, "limit": 10}),
    }


def _invoke(handler, query: str, n: int) -> float:
    """Return the seconds one request took; raise unless the handler answered 200."""
    started = time.perf_counter()
    response = handler(_event(query, n), _Context())
    seconds = time.perf_counter() - started
    if response["statusCode"] != 200:
        raise RuntimeError(f"POST /search answered {response['statusCode']}: {response['body'][:300]}")
    return seconds


def _load_handler():
    spec = importlib.util.spec_from_file_location("pampax_bench_search_app", SEARCH_APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def _main(mode: str, job_file: str, out_file: str) -> None:
    job = json.loads(Path(job_file).read_text())
    if mode == "cold":
        started = time.perf_counter()
        handler = _load_handler()
        imported = time.perf_counter()
        first = _invoke(handler, job["query"], 0)
        from pampax import runtime  # the module the handler loaded, holding the process's accessor

        out = {"import_seconds": imported - started, "first_request_seconds": first, "stages_ms": runtime.stages()}
    else:
        handler = _load_handler()
        _invoke(handler, "pampax benchmark warm-up request", 0)  # loads the index: not a figure
        out = {"seconds": [_invoke(handler, q, n) for n, q in enumerate(job["queries"], start=1)]}
    Path(out_file).write_text(json.dumps(out))


if __name__ == "__main__":
    _main(*sys.argv[1:4])
