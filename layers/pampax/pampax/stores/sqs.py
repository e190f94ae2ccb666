"""The index-job queue in SQS: send for ``POST /index``; receive, delete and release for the local harness's poller."""

from __future__ import annotations

import json

from .aws import FAILURES, unavailable


class SqsQueue:
    """Takes a ready boto3 SQS client (see ``aws.client``) and the queue's URL."""

    def __init__(self, client, url: str):
        self.client = client
        self.url = url

    def send(self, body: dict) -> str:
        """Enqueue ``body`` as JSON and return SQS's message id. Raises ``StoreUnavailable``."""
        try:
            return self.client.send_message(QueueUrl=self.url, MessageBody=json.dumps(body))["MessageId"]
        except FAILURES as exc:
            raise unavailable(self.url, exc) from exc

    def receive(self, max_messages: int = 10, wait_seconds: int = 1) -> list[dict]:
        """Return up to ``max_messages`` raw SQS messages, with their attributes. Raises ``StoreUnavailable``."""
        try:
            answer = self.client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds,
                AttributeNames=["All"], MessageAttributeNames=["All"],
            )
        except FAILURES as exc:
            raise unavailable(self.url, exc) from exc
        return answer.get("Messages", [])

    def delete(self, receipt_handle: str) -> None:
        """Remove a processed message. Raises ``StoreUnavailable``."""
        try:
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)
        except FAILURES as exc:
            raise unavailable(self.url, exc) from exc

    def release(self, receipt_handle: str) -> None:
        """Make a failed message visible again at once, as Lambda's event source mapping does after a failure."""
        try:
            self.client.change_message_visibility(QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=0)
        except FAILURES as exc:
            raise unavailable(self.url, exc) from exc
