"""The artifact store in S3: maps the port's keys to objects under ``s3://bucket/prefix`` and translates failures."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from boto3.s3.transfer import TransferConfig

from .aws import FAILURES, is_missing, unavailable
from .base import ArtifactStore

# Objects above 8 MiB download as 8 MiB ranged GETs, eight at a time (boto3's s3transfer); one GET
# stream tops out far below what a Lambda's network gives to several.
_TRANSFER = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=8)


class S3ArtifactStore(ArtifactStore):
    """Takes a ready boto3 S3 client (see ``aws.client``) so tests and callers choose its endpoint and timeouts."""

    def __init__(self, client, bucket: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def _object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _read(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._object_key(key))["Body"].read()
        except FAILURES as exc:
            if is_missing(exc):
                return None
            raise unavailable(f"{self.location}/{key}", exc) from exc

    def _write(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._object_key(key), Body=data, ContentType="application/json"
            )
        except FAILURES as exc:
            raise unavailable(f"{self.location}/{key}", exc) from exc

    def _upload(self, key: str, path: Path) -> None:
        try:
            self.client.upload_file(str(path), self.bucket, self._object_key(key))
        except FAILURES as exc:
            raise unavailable(f"{self.location}/{key}", exc) from exc

    def _size(self, key: str) -> int | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._object_key(key))["ContentLength"]
        except FAILURES as exc:
            if is_missing(exc):
                return None
            raise unavailable(f"{self.location}/{key}", exc) from exc

    def _download(self, key: str, out: BinaryIO) -> bool:
        try:
            self.client.download_fileobj(self.bucket, self._object_key(key), out, Config=_TRANSFER)
        except FAILURES as exc:
            if is_missing(exc):
                return False
            raise unavailable(f"{self.location}/{key}", exc) from exc
        return True
