"""The warm-process index accessor on a local store: refresh interval, atomic swaps, keeping a good generation."""

from __future__ import annotations

import pytest

from pampax.config import ObservabilitySettings
from pampax.errors import IndexCorrupt, StoreUnavailable
from pampax.observability import MetricsSink, Telemetry, make_logger
from pampax.runtime import IndexAccessor
from pampax.stores import LocalArtifactStore


class CountingStore(LocalArtifactStore):
    """A local store that counts pointer reads and downloads."""

    def __init__(self, root):
        super().__init__(root)
        self.pointer_reads = 0
        self.downloads = 0

    def pointer(self):
        self.pointer_reads += 1
        return super().pointer()

    def _download(self, key, path):
        self.downloads += 1
        return super()._download(key, path)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def telemetry(tmp_path):
    settings = ObservabilitySettings()
    return Telemetry(settings, make_logger(settings, "test"), MetricsSink(path=tmp_path / "metrics.jsonl"))


@pytest.fixture
def setup(tmp_path, telemetry):
    store, clock = CountingStore(tmp_path / "store"), Clock()
    return store, clock, IndexAccessor(store, tmp_path / "work", refresh_seconds=10, telemetry=telemetry, clock=clock)


def test_the_pointer_is_read_at_most_once_per_interval(setup, generations, tmp_path):
    store, clock, accessor = setup
    # GIVEN a warm accessor serving the first generation
    first = store.publish(generations[0]).generation
    assert accessor.get().generation == first
    # WHEN a new generation is published and requests come within the interval
    second = store.publish(generations[1]).generation
    reads = store.pointer_reads
    clock.now += 9
    # THEN the old generation is served without reading the pointer
    assert accessor.get().generation == first and store.pointer_reads == reads
    # WHEN the interval has passed, THEN the new generation is swapped in and the old file deleted
    clock.now += 2
    assert accessor.get().generation == second
    assert not (tmp_path / "work" / "generations" / f"{first}.db").exists()


def test_a_corrupt_generation_is_refused_and_the_old_one_served(setup, generations):
    store, clock, accessor = setup
    # GIVEN a warm accessor and a new generation whose stored file is damaged
    good = store.publish(generations[0]).generation
    accessor.get()
    bad = store.publish(generations[1]).generation
    store._upload(f"generations/{bad}/index.db.zst", generations[2])
    # WHEN refreshed twice, THEN the good generation keeps serving
    clock.now += 11
    assert accessor.get().generation == good
    clock.now += 11
    assert accessor.get().generation == good
    # AND once the pointer moves to a sound generation, it is served
    third = store.publish(generations[2]).generation
    clock.now += 11
    assert accessor.get().generation == third


def test_rejected_generation_is_retried_after_refresh_seconds(setup, generations, tmp_path):
    store, clock, accessor = setup
    # GIVEN a cold accessor that refused the current generation because its stored file was damaged
    generation = store.publish(generations[0]).generation
    store._upload(f"generations/{generation}/index.db.zst", generations[1])
    with pytest.raises(IndexCorrupt):
        accessor.get()
    # WHEN the generation is repaired by publishing it again
    store.publish(generations[0])
    # THEN within the interval the refusal stands, without another download
    downloads = store.downloads
    with pytest.raises(IndexCorrupt):
        accessor.get()
    assert store.downloads == downloads
    # AND once the interval has passed, the repaired generation is fetched and served
    clock.now += 11
    assert accessor.get().generation == generation


def test_cold_failures_raise_and_are_retried_on_the_next_request(setup, generations):
    store, clock, accessor = setup
    # GIVEN nothing published, THEN a cold accessor raises
    with pytest.raises(StoreUnavailable, match="no current generation"):
        accessor.get()
    # WHEN a generation appears, THEN the very next request loads it (no interval wait while cold)
    generation = store.publish(generations[0]).generation
    assert accessor.get().generation == generation


def test_a_cold_accessor_refuses_a_corrupt_current_generation(setup, generations):
    store, _, accessor = setup
    generation = store.publish(generations[0]).generation
    store._upload(f"generations/{generation}/index.db.zst", generations[1])
    with pytest.raises(IndexCorrupt):
        accessor.get()
    with pytest.raises(IndexCorrupt):  # remembered: not fetched again
        downloads = store.downloads
        accessor.get()
    assert store.downloads == downloads


def test_a_store_outage_keeps_the_loaded_generation(setup, generations, monkeypatch):
    store, clock, accessor = setup
    generation = store.publish(generations[0]).generation
    accessor.get()

    def outage():
        raise StoreUnavailable("s3 is down")

    monkeypatch.setattr(store, "pointer", outage)
    clock.now += 11
    assert accessor.get().generation == generation


class Room:
    """Free bytes the accessor is told the work directory has (Lambda's /tmp is a fixed size)."""

    def __init__(self, free: int):
        self.free = free

    def __call__(self, path):
        return self.free


def test_a_generation_that_does_not_fit_in_the_work_dir_is_refused_and_the_loaded_one_kept(aws, generations,
                                                                                            telemetry):
    # GIVEN an accessor on S3 (moto) whose work directory has room for less than one generation
    room, clock = Room(free=1000), Clock()
    accessor = IndexAccessor(aws.store, aws.work_dir, refresh_seconds=10, telemetry=telemetry, clock=clock,
                             free_bytes=room)
    first = aws.store.publish(generations[0]).generation
    # WHEN cold, THEN the refusal is a store_unavailable naming the sizes and the template parameter, and
    # nothing was downloaded
    with pytest.raises(StoreUnavailable, match=r"unpacks to .* MiB but .* free .*EphemeralStorageSize"):
        accessor.get()
    assert not list((aws.work_dir / "generations").iterdir())
    # WHEN there is room, THEN it loads, and the load's stages were timed
    room.free = 10 << 30
    assert accessor.get().generation == first
    assert list(accessor.stages) == ["pointer", "manifest", "fetch", "open", "verify"]
    # WHEN the next generation does not fit beside it, THEN the loaded one keeps serving and health says why
    room.free = 1000
    aws.store.publish(generations[1])
    clock.now += 11
    assert accessor.get().generation == first
    with pytest.raises(StoreUnavailable, match="EphemeralStorageSize"):
        accessor.describe()
    assert sorted(p.name for p in (aws.work_dir / "generations").iterdir()) == [f"{first}.db"]
