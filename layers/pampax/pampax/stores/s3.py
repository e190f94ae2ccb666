"""The artifact store in S3: maps the port's keys to objects under ``s3://bucket/prefix`` and translates failures."""

from __future__ import annotations

from pathlib import Path

from .aws import FAILURES, is_missing, unavailable
from .base import ArtifactStore


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

    def _download(self, key: str, path: Path) -> bool:
        try:
            self.client.download_file(self.bucket, self._object_key(key), str(path))
        except FAILURES as exc:
            if is_missing(exc):
                return False
            raise unavailable(f"{self.location}/{key}", exc) from exc
        return True
