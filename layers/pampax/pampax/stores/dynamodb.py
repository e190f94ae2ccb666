"""The cloud cache store: Powertools' own DynamoDB persistence layer, plus scope clearing and a ping."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from ..errors import CacheUnavailable
from .aws import FAILURES
from .cache_base import CacheStore


class DynamoCacheStore(CacheStore):
    """A DynamoDB table keyed by ``id`` with a TTL on ``expiration`` (template.yaml's CacheTable)."""

    def __init__(self, client, table: str):
        self.client = client
        self.table = table
        self.layer = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)

    def persistence(self) -> DynamoDBPersistenceLayer:
        return self.layer

    def clear(self, prefix: str) -> int:
        removed = 0
        try:
            for key in self._keys(prefix):
                self.client.delete_item(TableName=self.table, Key={"id": {"S": key}})
                removed += 1
        except FAILURES as exc:
            raise CacheUnavailable(f"cache table {self.table}: {exc}") from exc
        return removed

    def count(self, prefix: str) -> int:
        try:
            return sum(1 for _ in self._keys(prefix))
        except FAILURES as exc:
            raise CacheUnavailable(f"cache table {self.table}: {exc}") from exc

    def ping(self) -> str:
        try:
            self.client.describe_table(TableName=self.table)
        except FAILURES as exc:
            raise CacheUnavailable(f"cache table {self.table}: {exc}") from exc
        return f"dynamodb:{self.table}"

    def _keys(self, prefix: str):
        # A scan is acceptable here: clearing is an operator action, not a request path.
        scan = {"ProjectionExpression": "#id", "ExpressionAttributeNames": {"#id": "id"}}
        if prefix:
            scan |= {"FilterExpression": "begins_with(#id, :prefix)", "ExpressionAttributeValues": {":prefix": {"S": prefix}}}
        for page in self.client.get_paginator("scan").paginate(TableName=self.table, **scan):
            for item in page.get("Items", []):
                yield item["id"]["S"]
