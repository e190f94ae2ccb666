"""boto3 clients with explicit timeouts and retries, and the one translation of AWS failures into pampax errors.

Every S3, SQS and DynamoDB call pampax makes goes through a client built here, so no call can wait
on botocore's 60-second defaults, retry without backoff, or outlast the request's deadline.
"""

from __future__ import annotations

import boto3
from boto3.exceptions import RetriesExceededError, S3UploadFailedError
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError
from s3transfer.exceptions import RetriesExceededError as PartRetriesExceeded

from .. import deadline
from ..config import AwsSettings
from ..errors import ConfigInvalid, StoreUnavailable

# What an S3 or SQS call can raise: service errors, transport errors (timeouts, refused
# connections), and s3transfer's wrappers around a failed multipart upload and a ranged part whose
# reads kept timing out (boto3's name for it from download_file, s3transfer's from download_fileobj).
FAILURES = (ClientError, BotoCoreError, S3UploadFailedError, RetriesExceededError, PartRetriesExceeded)
_MISSING = {"404", "NoSuchKey", "NotFound"}


class DeadlineExceeded(BotoCoreError):
    """Raised instead of an attempt that could not finish before the request's deadline (never retried)."""

    fmt = "no time for another {service} call: {left:.1f} s left before the deadline, an attempt may take {attempt:.1f} s"


def client(service: str, settings: AwsSettings, max_attempts: int | None = None):
    """Return a boto3 client for ``service`` configured from ``settings`` (``max_attempts`` overrides its tries).

    Retries use botocore's ``standard`` mode (exponential backoff with jitter, throttling-aware).
    Every attempt checks the request's deadline first (``pampax.deadline``): one that could outlast
    it (connect plus read timeout) fails at once with ``DeadlineExceeded``. Raises ``ConfigInvalid``
    when no region can be found.
    """
    config = BotoConfig(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"max_attempts": max_attempts or settings.max_attempts, "mode": "standard"},
    )
    try:
        made = boto3.client(
            service, region_name=settings.region or None, endpoint_url=settings.endpoint_url or None, config=config
        )
    except NoRegionError as exc:
        raise ConfigInvalid("aws.region: no AWS region set (set PAMPAX_AWS_REGION or AWS_REGION)") from exc
    attempt = settings.connect_timeout + settings.read_timeout

    def within_deadline(**_) -> None:
        left = deadline.remaining()
        if left is not None and left < attempt:
            raise DeadlineExceeded(service=service, left=max(left, 0.0), attempt=attempt)

    made.meta.events.register("before-send", within_deadline)
    return made


def is_missing(exc: Exception) -> bool:
    """Return whether a boto3 failure means "no such object" rather than "the store failed"."""
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _MISSING


def unavailable(where: str, exc: Exception) -> StoreUnavailable:
    """Return the ``StoreUnavailable`` for a failed call: where it failed and AWS's one-line reason."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        reason = f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return StoreUnavailable(f"{where}: {reason}")
