"""The index function: POST /index queues a job; SQS delivery builds and publishes it.

A poison job fails at once (logged, consumed); a job a retry could cure goes back to SQS and, past
the redrive limit, to the DLQ.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from pampax import db, jobs
from pampax.api import lambda_telemetry
from pampax.archive import extract
from pampax.build import build_index
from pampax.config import load_config
from pampax.errors import InvalidArgument, StoreUnavailable
from pampax.jobstore import Job
from pampax.stores import open_store
from pampax.stores.s3 import S3ArtifactStore
from pampax.stores.sqs import SqsQueue
from pampax_local.harness import LocalContext, deliver_jobs
from pampax_local.sam import pick_function, read_template

from .support import EVENTS, MAX_RECEIVES, SHOP, TEMPLATE, api_event, call, load_handler


def _tar_gz(members: dict[str, bytes], links: dict[str, str] | None = None, mtime: int = 0) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), mtime
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def _shop_members() -> dict[str, bytes]:
    """The shop fixture as archive members under one top-level directory, as `git archive --prefix` makes."""
    return {f"shop-main/{p.relative_to(SHOP).as_posix()}": p.read_bytes() for p in sorted(SHOP.rglob("*")) if p.is_file()}


def _deliver(aws, handler) -> int:
    spec = pick_function(read_template(TEMPLATE), "index")
    return deliver_jobs(SqsQueue(aws.sqs, aws.queue_url), spec, handler, wait_seconds=0)


def _generation_keys(aws) -> set[str]:
    listing = aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix="generations/")
    return {o["Key"] for o in listing.get("Contents", [])}


@pytest.mark.parametrize(("key", "archive"), [("sources/shop.tar.gz", _tar_gz), ("sources/shop.zip", _zip)])
def test_a_queued_archive_is_built_published_and_served(aws, key, archive):
    # GIVEN a source archive uploaded under sources/
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=archive(_shop_members()))
    handler = load_handler("index")
    # WHEN POST /index names it
    status, body = call(handler, api_event("POST", "/index", {"source": key}))
    # THEN the job is accepted with an id, and queued
    assert status == 202
    assert body["status"] == "queued" and body["source"] == key and len(body["job_id"]) == 32
    # WHEN SQS delivers it to the function
    assert _deliver(aws, handler) == 1
    # THEN a generation was published and is current, and the queue is drained
    pointer = aws.store.pointer()
    assert pointer is not None and _generation_keys(aws) == {
        f"generations/{pointer.generation}/index.db.zst", f"generations/{pointer.generation}/manifest.json"}
    assert _deliver(aws, handler) == 0
    # AND the search function serves it, with paths relative to the archive's top directory
    status, found = call(load_handler("search"), api_event("POST", "/search", {"query": "get_user_by_id"}))
    assert (status, found["generation"]) == (200, pointer.generation)
    assert found["results"][0]["path"] == "shop/users.py"


def _run_job(source: str) -> Job:
    """Run one queued job for ``source`` as the index function does, and return its finished record."""
    config = load_config().config
    body = json.dumps({"job_id": "c" * 32, "source": source})
    return jobs.run_message(body, open_store(config), config, lambda_telemetry(config))


def test_a_job_refreshes_the_current_generation_parsing_only_the_changed_file(aws):
    # GIVEN a first job that published the shop archive
    members = _shop_members()
    aws.s3.put_object(Bucket=aws.bucket, Key="sources/v1.tar.gz", Body=_tar_gz(members))
    first = _run_job("sources/v1.tar.gz")
    assert (first.status, first.report.parsed_files, first.report.reused_files) == ("done", first.report.files, 0)
    # WHEN a push changes one file, in an archive whose every member has a new mtime (so each is hashed)
    members["shop-main/shop/users.py"] += b"\n\ndef find_user_by_nickname(nickname):\n    return nickname\n"
    aws.s3.put_object(Bucket=aws.bucket, Key="sources/v2.tar.gz", Body=_tar_gz(members, mtime=1_700_000_000))
    second = _run_job("sources/v2.tar.gz")
    # THEN only that file was parsed, the rest reused by hash, and the new generation is current
    report = second.report
    assert (report.parsed_files, report.reused_files, report.removed_files) == (1, first.report.files - 1, 0)
    assert report.generation != first.report.generation and aws.store.pointer().generation == report.generation
    assert aws.store.pointer().previous == first.report.generation
    # AND the search function answers from it with the change
    status, found = call(load_handler("search"), api_event("POST", "/search", {"query": "find_user_by_nickname"}))
    assert (status, found["generation"]) == (200, report.generation)
    assert (found["results"][0]["path"], found["results"][0]["symbol"]) == ("shop/users.py", "find_user_by_nickname")


def test_a_job_builds_in_full_over_a_generation_of_another_pampax_version(aws, tmp_path):
    # GIVEN a current generation built from the same tree by another pampax version
    old = db.connect(Path(build_index(SHOP, tmp_path / "old.db").index))
    with old:
        old.execute("UPDATE meta SET value = '0.0.0-old' WHERE key = 'pampax_version'")
        old.execute("UPDATE meta SET value = 'old0generation' WHERE key = 'generation'")  # the version is in the id
    old.close()
    aws.store.publish(tmp_path / "old.db")
    # WHEN a job indexes the same tree
    aws.s3.put_object(Bucket=aws.bucket, Key="sources/shop.tar.gz", Body=_tar_gz(_shop_members()))
    report = _run_job("sources/shop.tar.gz").report
    # THEN it parsed every file rather than patching the foreign index
    assert (report.parsed_files, report.reused_files) == (report.files, 0)
    assert aws.store.pointer().previous == "old0generation"


@pytest.mark.parametrize(
    "body",
    [{"source": "../current.json"}, {"source": "sources/../current.json"}, {"source": "sources/repo.rar"},
     {"source": "generations/abc/index.db"}, {}, {"source": "sources/a.zip", "full": True}],
)
def test_invalid_index_requests_are_422_and_queue_nothing(aws, body):
    status, got = call(load_handler("index"), api_event("POST", "/index", body))
    assert (status, got["error"]["kind"]) == (422, "invalid_request")
    assert "Messages" not in aws.sqs.receive_message(QueueUrl=aws.queue_url, WaitTimeSeconds=0)


def test_without_a_queue_index_requests_are_a_config_error(aws, monkeypatch):
    monkeypatch.delenv("PAMPAX_AWS_QUEUE_URL")
    status, got = call(load_handler("index"), api_event("POST", "/index", {"source": "sources/a.zip"}))
    assert (status, got["error"]["kind"]) == (500, "config_invalid")


@pytest.mark.parametrize(
    "payload",
    [
        _tar_gz({"repo/ok.py": b"x = 1\n", "../escape.py": b"print('pwned')\n"}),
        _tar_gz({"repo/ok.py": b"x = 1\n"}, links={"repo/link": "/etc"}),
        _zip({"repo/ok.py": b"x = 1\n", "../escape.py": b"print('pwned')\n"}),
        b"this is not an archive",
    ],
    ids=["tar-dotdot", "tar-symlink-out", "zip-dotdot", "garbage"],
)
def test_a_poison_job_fails_at_once_and_publishes_nothing(aws, generations, tmp_path, payload, capsys):
    # GIVEN a current generation and an unsafe or unreadable archive queued for indexing
    current = aws.store.publish(generations[0]).generation
    before = _generation_keys(aws)
    aws.s3.put_object(Bucket=aws.bucket, Key="sources/evil.tar.gz", Body=payload)
    handler = load_handler("index")
    job_id = call(handler, api_event("POST", "/index", {"source": "sources/evil.tar.gz"}))[1]["job_id"]
    # WHEN SQS delivers it
    deliveries = [_deliver(aws, handler) for _ in range(MAX_RECEIVES + 1)]
    # THEN it was tried once, logged as the caller's error, and consumed: a retry would fail the same way
    assert deliveries == [1] + [0] * MAX_RECEIVES
    assert aws.sqs.receive_message(QueueUrl=aws.dlq_url, WaitTimeSeconds=0).get("Messages", []) == []
    failures = [line for line in map(json.loads, capsys.readouterr().out.splitlines())
                if line.get("op") == "index" and line.get("status") == "error"]
    assert [(f["corr_id"], f["err_kind"], f["level"]) for f in failures] == [(job_id, "invalid_argument", "WARNING")]
    # AND nothing was published, the pointer did not move, and no file escaped the scratch directory
    assert _generation_keys(aws) == before and aws.store.pointer().generation == current
    assert not (aws.work_dir / "jobs" / "escape.py").exists() and not (aws.work_dir / "escape.py").exists()
    assert list((aws.work_dir / "jobs").iterdir()) == []


def test_a_job_failing_on_the_store_is_retried_into_the_dlq(aws, monkeypatch):
    # GIVEN a valid job whose archive cannot be fetched because the store fails
    aws.s3.put_object(Bucket=aws.bucket, Key="sources/shop.tar.gz", Body=_tar_gz(_shop_members()))
    handler = load_handler("index")
    job_id = call(handler, api_event("POST", "/index", {"source": "sources/shop.tar.gz"}))[1]["job_id"]

    def outage(*_):
        raise StoreUnavailable("s3 is down")

    monkeypatch.setattr(S3ArtifactStore, "fetch_source", outage)
    # WHEN SQS delivers it until the redrive policy gives up
    deliveries = [_deliver(aws, handler) for _ in range(MAX_RECEIVES + 1)]
    # THEN it was tried MAX_RECEIVES times and then moved to the dead-letter queue
    assert deliveries == [1] * MAX_RECEIVES + [0]
    dead = aws.sqs.receive_message(QueueUrl=aws.dlq_url, WaitTimeSeconds=0)["Messages"]
    assert [json.loads(m["Body"])["job_id"] for m in dead] == [job_id]
    assert aws.store.pointer() is None


def test_only_the_failed_records_of_a_batch_are_retried(aws, monkeypatch):
    # GIVEN the generated `sam local generate-event sqs receive-message` event, whose body "{}" is no job,
    # batched with a job whose archive the store cannot deliver and a valid job
    aws.s3.put_object(Bucket=aws.bucket, Key="sources/shop.tar.gz", Body=_tar_gz(_shop_members()))
    event = json.loads((EVENTS / "sqs-receive-message.json").read_text())
    poison = event["Records"][0]
    good = {**poison, "messageId": "good", "body": json.dumps({"job_id": "a" * 32, "source": "sources/shop.tar.gz"})}
    flaky = {**poison, "messageId": "flaky", "body": json.dumps({"job_id": "b" * 32, "source": "sources/flaky.tar.gz"})}
    event["Records"] += [flaky, good]
    fetch_source = S3ArtifactStore.fetch_source

    def flaky_store(store, key, dest):
        if key == "sources/flaky.tar.gz":
            raise StoreUnavailable("s3 throttled")
        return fetch_source(store, key, dest)

    monkeypatch.setattr(S3ArtifactStore, "fetch_source", flaky_store)
    # WHEN handled
    response = load_handler("index")(event, LocalContext("IndexFunction"))
    # THEN only the record a retry could cure is reported back; the poison one is consumed, the good one published
    assert response == {"batchItemFailures": [{"itemIdentifier": "flaky"}]}
    assert aws.store.pointer() is not None


def test_extract_takes_a_lone_top_directory_as_the_root(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar_gz({"top/pkg/mod.py": b"x = 1\n"}))
    root = extract(archive, tmp_path / "out", max_bytes=1_000)
    assert root == tmp_path / "out" / "top" and (root / "pkg" / "mod.py").is_file()


def test_extract_refuses_archives_that_unpack_too_large(tmp_path):
    for name, payload in (("a.tar.gz", _tar_gz({"big.txt": b"x" * 5000})), ("a.zip", _zip({"big.txt": b"x" * 5000}))):
        archive = tmp_path / name
        archive.write_bytes(payload)
        with pytest.raises(InvalidArgument, match="limit"):
            extract(archive, tmp_path / f"out-{name}", max_bytes=4096)
        assert not any((tmp_path / f"out-{name}").iterdir())
