"""Where pampax keeps things outside the process: the artifact store, the index-job queue and the cache store.

``open_store`` picks the artifact store from config (a local directory wins over S3, so the
harness and tests can run without AWS), ``open_queue`` the SQS job queue, ``open_cache_store``
the cache (DynamoDB when ``cache.table`` is set, else a SQLite file). The boto3-backed modules are
imported only when S3, SQS or DynamoDB is used.
"""

from __future__ import annotations

from pathlib import Path

from ..config import AwsSettings, Config
from ..errors import ConfigInvalid
from .base import ArtifactStore, Manifest, Pointer, open_verified
from .cache_base import CacheStore
from .local import LocalArtifactStore

__all__ = [
    "ArtifactStore", "CacheStore", "LocalArtifactStore", "Manifest", "Pointer", "open_bucket", "open_cache_store",
    "open_queue", "open_store", "open_verified",
]


def open_store(config: Config) -> ArtifactStore:
    """Return the configured artifact store. Raises ``ConfigInvalid`` when neither a directory nor a bucket is set."""
    if config.runtime.store_dir:
        return LocalArtifactStore(config.runtime.store_dir)
    return open_bucket(config.aws)


def open_bucket(settings: AwsSettings) -> ArtifactStore:
    """Return the S3 artifact store of ``aws.bucket``/``aws.prefix``. Raises ``ConfigInvalid`` without a bucket."""
    if not settings.bucket:
        raise ConfigInvalid("no artifact store: set aws.bucket (--bucket, PAMPAX_AWS_BUCKET) or runtime.store_dir")
    from . import aws
    from .s3 import S3ArtifactStore

    return S3ArtifactStore(aws.client("s3", settings), settings.bucket, settings.prefix)


def open_queue(config: Config):
    """Return the index-job ``SqsQueue``. Raises ``ConfigInvalid`` when ``aws.queue_url`` is not set."""
    if not config.aws.queue_url:
        raise ConfigInvalid("no index queue: set aws.queue_url (PAMPAX_AWS_QUEUE_URL)")
    from . import aws
    from .sqs import SqsQueue

    return SqsQueue(aws.client("sqs", config.aws), config.aws.queue_url)


def open_cache_store(config: Config, default_path: Path) -> CacheStore:
    """Return the configured cache store: the DynamoDB table when ``cache.table`` is set, else a SQLite file
    (``cache.path``, or ``default_path``)."""
    if config.cache.table:
        from . import aws
        from .dynamodb import DynamoCacheStore

        # One try: a slow cache is skipped like a failing one (the request runs uncached) rather than retried.
        return DynamoCacheStore(aws.client("dynamodb", config.aws, max_attempts=1), config.cache.table)
    from .sqlite_cache import SqliteCacheStore

    return SqliteCacheStore(Path(config.cache.path) if config.cache.path else default_path)
