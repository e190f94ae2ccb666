"""``pampax publish`` and ``pampax rollback``: put a built index into the artifact bucket and move its pointer.

Thin wrappers over ``pampax.stores``: the bucket comes from ``--bucket`` or ``aws.bucket``, the
endpoint (a moto server, say) from ``aws.endpoint_url``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pampax.config import AwsSettings
from pampax.stores import open_bucket
from pampax_local.command import config_of, find_index, print_json, run

cloud_app = typer.Typer()

BucketOption = Annotated[Optional[str], typer.Option("--bucket", metavar="NAME", help="artifact bucket (default: aws.bucket)")]
PrefixOption = Annotated[Optional[str], typer.Option("--prefix", metavar="PREFIX", help="key prefix in the bucket (default: aws.prefix)")]


@cloud_app.command()
def publish(
    ctx: typer.Context,
    bucket: BucketOption = None,
    index: Annotated[Optional[Path], typer.Option("--index", metavar="FILE", help="index file (default: the nearest .pampax/index.db)")] = None,
    prefix: PrefixOption = None,
    flip: Annotated[bool, typer.Option("--flip/--no-flip", help="point `current` at the published generation")] = True,
) -> None:
    """Upload a built index as an immutable generation and point `current` at it; prints the manifest.

    Example: pampax publish --bucket my-pampax-artifacts --index .pampax/index.db
    """

    def action() -> dict:
        store = open_bucket(_aws_settings(config_of(ctx).config.aws, bucket, prefix))
        manifest = store.publish(find_index(index), flip=flip)
        pointer = store.pointer()
        return {"location": store.location, "manifest": manifest.model_dump(mode="json"),
                "current": pointer.model_dump(mode="json") if pointer else None}

    print_json(run(action, json_errors=True))


@cloud_app.command()
def rollback(
    ctx: typer.Context,
    to: Annotated[Optional[str], typer.Option("--to", metavar="GENERATION", help="generation to point at (default: the one before the last flip)")] = None,
    bucket: BucketOption = None,
    prefix: PrefixOption = None,
) -> None:
    """Point `current` back at an earlier published generation; prints the new pointer.

    Example: pampax rollback --to 3f9c0a1b2c3d4e5f --bucket my-pampax-artifacts
    """

    def action() -> dict:
        store = open_bucket(_aws_settings(config_of(ctx).config.aws, bucket, prefix))
        return {"location": store.location, "current": store.rollback(to).model_dump(mode="json")}

    print_json(run(action, json_errors=True))


def _aws_settings(settings: AwsSettings, bucket: str | None, prefix: str | None) -> AwsSettings:
    """Return ``settings`` with ``--bucket``/``--prefix`` applied where given (flags win over config)."""
    flags = {"bucket": bucket, "prefix": prefix}
    return settings.model_copy(update={k: v for k, v in flags.items() if v is not None})
