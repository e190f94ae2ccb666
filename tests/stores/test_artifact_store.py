"""One contract suite for every artifact store: a local directory and S3 (moto, with a key prefix)."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import pytest

from pampax import db
from pampax.build import build_index
from pampax.config import AwsSettings
from pampax.errors import IndexCorrupt, InvalidArgument, StoreUnavailable
from pampax.index import open_index
from pampax.stores import LocalArtifactStore
from pampax.stores.aws import client
from pampax.stores.base import ARTIFACT, Manifest, compress, sha256_file
from pampax.stores.s3 import S3ArtifactStore
from tests.conftest import damage_pages


def _bucket(s3) -> str:
    name = f"artifacts-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def generation_of(path) -> str:
    with open_index(path) as index:
        return index.generation


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "store")
    s3 = request.getfixturevalue("s3")
    return S3ArtifactStore(client("s3", AwsSettings(region="us-east-1")), _bucket(s3), prefix="team/pampax/")


def test_publish_writes_a_verified_generation_and_flips_the_pointer(store, generations, tmp_path):
    # GIVEN an empty store
    assert store.pointer() is None
    # WHEN an index is published
    manifest = store.publish(generations[0])
    # THEN the pointer names its generation and the manifest describes the bytes
    assert store.pointer().generation == manifest.generation == generation_of(generations[0])
    assert manifest.sha256 == sha256_file(generations[0])
    assert manifest.size == generations[0].stat().st_size
    assert manifest.schema_version and manifest.pampax_version and manifest.engine
    # AND the stored object is the file zstd-compressed, its size and digest in the manifest
    key = f"generations/{manifest.generation}/{ARTIFACT}"
    assert store._size(key) == manifest.compressed_size < manifest.size
    assert manifest.compressed_sha256 != manifest.sha256
    # AND fetching gives back the same bytes, and nothing else
    fetched = store.fetch(store.manifest(manifest.generation), tmp_path / "out" / "index.db")
    assert fetched.read_bytes() == generations[0].read_bytes()
    assert sorted(p.name for p in fetched.parent.iterdir()) == ["index.db"]


@pytest.mark.parametrize("damage", ["truncated", "longer", "flipped byte", "not zstd", "other digest"])
def test_a_damaged_download_is_refused_while_streaming_and_removed(store, generations, tmp_path, damage):
    # GIVEN a published generation whose stored object, or manifest, was damaged afterwards
    manifest = store.publish(generations[0])
    key = f"generations/{manifest.generation}/{ARTIFACT}"
    packed = tmp_path / "packed.zst"
    compress(generations[0], packed)
    data = packed.read_bytes()
    damaged = {"truncated": data[: len(data) // 2], "longer": data + b"\0" * 100,
               "flipped byte": data[:200] + bytes([data[200] ^ 0xFF]) + data[201:],
               "not zstd": generations[0].read_bytes(), "other digest": data}[damage]
    (tmp_path / "damaged").write_bytes(damaged)
    store._upload(key, tmp_path / "damaged")
    if damage == "other digest":
        manifest = manifest.model_copy(update={"sha256": "0" * 64})
    dest = tmp_path / "out" / "index.db"
    # WHEN fetched, THEN it is refused as corrupt and nothing is left behind, not even the partial file
    with pytest.raises(IndexCorrupt, match=f"generation {manifest.generation} is corrupt"):
        store.fetch(manifest, dest)
    assert list(dest.parent.iterdir()) == []


def test_a_large_artifact_arrives_in_parallel_ranged_parts_in_order(s3, tmp_path):
    # GIVEN an S3 object above the multipart threshold (24 MiB that do not compress) and its manifest
    bucket = _bucket(s3)
    store = S3ArtifactStore(client("s3", AwsSettings(region="us-east-1")), bucket)
    original = tmp_path / "big.db"
    original.write_bytes(random.Random(7).randbytes(24 << 20))
    raw, packed = compress(original, tmp_path / "big.zst")
    store._upload(f"generations/abc/{ARTIFACT}", tmp_path / "big.zst")
    manifest = Manifest(generation="abc", sha256=raw.digest.hexdigest(), size=raw.size,
                        compressed_sha256=packed.digest.hexdigest(), compressed_size=packed.size,
                        schema_version="2", pampax_version="0", engine="x", published_at="now")
    ranges = []
    store.client.meta.events.register("before-parameter-build.s3.GetObject",
                                      lambda params, **_: ranges.append(params.get("Range")))
    # WHEN fetched
    fetched = store.fetch(manifest, tmp_path / "out" / "big.db")
    # THEN it came as several ranged GETs and was reassembled byte for byte
    assert len(ranges) >= 3 and all(r and r.startswith("bytes=") for r in ranges)
    assert sha256_file(fetched) == manifest.sha256


def test_generations_are_immutable(store, generations):
    # GIVEN a published generation
    first = store.publish(generations[0])
    # WHEN the same generation is published again from different bytes
    changed = generations[0].with_name("same-generation-other-bytes.db")
    changed.write_bytes(generations[0].read_bytes())
    with open(changed, "ab") as handle:
        handle.write(b"\0" * 4096)  # trailing free space: still a valid database of the same generation
    again = store.publish(changed)
    # THEN the stored generation is untouched
    assert again == first
    assert store.manifest(first.generation).sha256 == sha256_file(generations[0])


def test_rollback_goes_back_to_the_previous_or_a_named_generation(store, generations):
    # GIVEN two published generations, the second current
    old, new = (store.publish(path).generation for path in generations)
    assert store.pointer().generation == new
    # WHEN rolled back without a target, THEN the previous generation is current
    assert store.rollback().generation == old
    # WHEN rolled forward by name, THEN that one is current
    assert store.rollback(new).generation == new
    # AND an unknown generation is refused without moving the pointer
    with pytest.raises(InvalidArgument, match="no generation"):
        store.rollback("0123456789abcdef")
    assert store.pointer().generation == new


def test_rollback_with_nothing_before_is_refused(store, generations):
    store.publish(generations[0])
    with pytest.raises(InvalidArgument, match="no previous generation"):
        store.rollback()


def test_publish_without_flip_leaves_the_pointer(store, generations):
    current = store.publish(generations[0]).generation
    store.publish(generations[1], flip=False)
    assert store.pointer().generation == current


def test_fetch_refuses_bytes_that_do_not_match_the_manifest(store, generations, tmp_path):
    # GIVEN a published generation whose stored object was later damaged
    manifest = store.publish(generations[0])
    store._upload(f"generations/{manifest.generation}/index.db.zst", generations[1])
    dest = tmp_path / "out" / "index.db"
    # WHEN fetched, THEN it is reported corrupt and nothing is left at the destination
    with pytest.raises(IndexCorrupt, match="corrupt"):
        store.fetch(manifest, dest)
    assert list(dest.parent.iterdir()) == []


def test_fetch_of_a_missing_object_is_unavailable(store, generations, tmp_path):
    manifest = store.publish(generations[0])
    store._upload(f"generations/{manifest.generation}/index.db.zst", generations[0])  # still fine
    missing = manifest.model_copy(update={"generation": "feedfacefeedface"})
    with pytest.raises(StoreUnavailable, match="no index file"):
        store.fetch(missing, tmp_path / "index.db")


def test_a_failed_manifest_write_publishes_nothing(store, generations, monkeypatch):
    # GIVEN a current generation and a store that fails while writing the next manifest
    current = store.publish(generations[0]).generation
    real_write = store._write

    def failing_write(key, data):
        if key.endswith("manifest.json"):
            raise StoreUnavailable("injected failure")
        real_write(key, data)

    monkeypatch.setattr(store, "_write", failing_write)
    # WHEN the next index is published
    with pytest.raises(StoreUnavailable):
        store.publish(generations[1])
    # THEN the pointer is unchanged and the half-uploaded generation does not exist
    assert store.pointer().generation == current
    with pytest.raises(StoreUnavailable, match="no manifest"):
        store.manifest(generation_of(generations[1]))


@pytest.mark.parametrize("damage", ["not a database", "damaged pages"])
def test_publish_refuses_a_damaged_index(store, generations, tmp_path, damage):
    bad = tmp_path / "bad.db"
    if damage == "damaged pages":  # opens fine: only quick_check finds it
        damage_pages(generations[0], bad)
    else:
        bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(IndexCorrupt, match="quick_check" if damage == "damaged pages" else ""):
        store.publish(bad)
    assert store.pointer() is None


def test_an_unreadable_pointer_is_unavailable(store, generations):
    store.publish(generations[0])
    store._write("current.json", b"{not json")
    with pytest.raises(StoreUnavailable, match="unreadable"):
        store.pointer()


def test_source_archives_come_only_from_sources(store, tmp_path):
    # GIVEN an archive under sources/
    archive = tmp_path / "repo.tar.gz"
    archive.write_bytes(b"archive bytes")
    store._upload("sources/repo.tar.gz", archive)
    # THEN it can be fetched, and keys elsewhere or missing are refused
    assert store.fetch_source("sources/repo.tar.gz", tmp_path / "got").read_bytes() == b"archive bytes"
    for key in ("current.json", "sources/../current.json", "sources/nope.tar.gz"):
        with pytest.raises(InvalidArgument):
            store.fetch_source(key, tmp_path / "other")


def test_s3_keys_live_under_the_prefix(s3, generations):
    # GIVEN an S3 store with a prefix
    bucket = _bucket(s3)
    store = S3ArtifactStore(client("s3", AwsSettings(region="us-east-1")), bucket, prefix="/team/")
    # WHEN publishing
    manifest = store.publish(generations[0])
    # THEN every object is under the prefix, and the pointer is small JSON
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"team/current.json", f"team/generations/{manifest.generation}/index.db.zst",
                    f"team/generations/{manifest.generation}/manifest.json"}
    pointer = json.loads(s3.get_object(Bucket=bucket, Key="team/current.json")["Body"].read())
    assert pointer["generation"] == manifest.generation


def test_s3_failures_become_store_unavailable(s3):
    # GIVEN a bucket that does not exist
    store = S3ArtifactStore(client("s3", AwsSettings(region="us-east-1", max_attempts=1)), "no-such-bucket")
    # WHEN the pointer is read, THEN the failure is a StoreUnavailable naming S3's reason
    with pytest.raises(StoreUnavailable, match="NoSuchBucket"):
        store.pointer()


def test_an_unreachable_endpoint_fails_fast_as_store_unavailable(monkeypatch):
    # GIVEN an endpoint nothing listens on, one attempt and a short connect timeout
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9", max_attempts=1, connect_timeout=0.5)
    store = S3ArtifactStore(client("s3", settings), "bucket")
    # WHEN the pointer is read, THEN it fails as StoreUnavailable naming the connection error
    with pytest.raises(StoreUnavailable, match="EndpointConnectionError"):
        store.pointer()


def test_fetch_into_an_unwritable_place_is_unavailable(store, generations, tmp_path):
    # GIVEN a destination whose folder is a file (as a full or read-only /tmp would fail)
    manifest = store.publish(generations[0])
    (tmp_path / "blocked").write_text("a file, not a folder")
    # WHEN fetched there, THEN the failure is a StoreUnavailable, not a raw OSError
    with pytest.raises(StoreUnavailable, match="cannot fetch"):
        store.fetch(manifest, tmp_path / "blocked" / "index.db")


def test_a_live_wal_index_is_published_as_its_latest_self_contained_snapshot(store, shop_repo, tmp_path):
    # GIVEN a live index refreshed in place while a reader keeps its WAL open (frames not yet checkpointed)
    target = Path(build_index(shop_repo).index)
    with open_index(target) as reader:
        (shop_repo / "shop" / "late.py").write_text("def late():\n    pass\n")
        refreshed = build_index(shop_repo)
        assert db.is_wal(target) and db.sidecars(target)[0].stat().st_size > 0
        # WHEN it is published
        manifest = store.publish(target)
        reader.close()
    # THEN the artifact is the refreshed generation, in rollback-journal mode, opened alone
    assert manifest.generation == refreshed.generation
    fetched = store.fetch(manifest, tmp_path / "out" / "index.db")
    assert not db.is_wal(fetched) and sorted(p.name for p in fetched.parent.iterdir()) == ["index.db"]
    with open_index(fetched) as index:
        assert index.query("SELECT count(*) FROM symbols WHERE name = 'late'") == [(1,)]
    # AND no export is left beside the live index
    assert not list(target.parent.glob("*.export"))
