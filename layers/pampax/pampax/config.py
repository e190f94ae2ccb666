"""Effective configuration: defaults, then ``pampax.toml``, then ``PAMPAX_<SECTION>_<KEY>``, then flags.

Resolved once by the adapter (CLI or handler) and passed into the core; core functions never read
the environment. Every value remembers where it came from, for ``pampax config show``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigInvalid

CONFIG_FILE = "pampax.toml"
ENV_PREFIX = "PAMPAX_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndexSettings(_Section):
    max_file_bytes: int = Field(1_048_576, ge=1, description="files larger than this are skipped")
    minified_line_chars: int = Field(1_000, ge=80, description="a file with a line this long and a long mean line is treated as minified and skipped")
    workers: int = Field(0, ge=0, description="parser processes; 0 means one per CPU")


class SearchSettings(_Section):
    limit: int = Field(10, ge=1, le=200, description="results returned when a request names no limit")
    max_terms: int = Field(24, ge=1, le=200, description="terms kept from a long query, most informative first")
    # File ranking (group=file, and the seeds of a bundle): see pampax/filerank.py for each signal.
    file_chunk_share: float = Field(0.5, ge=0, le=1, description="weight of a file's second and third best chunks beside its best")
    definition_weight: float = Field(0.5, ge=0, description="weight of the files that define the names a query writes as code")
    mention_weight: float = Field(0.5, ge=0, description="weight of a file whose path or module the query writes")
    title_weight: float = Field(1.0, ge=0, description="weight of a long query's first line searched on its own")
    import_weight: float = Field(0.0, ge=0, description="weight of the modules the best files import (score shared along import edges)")
    frame_weight: float = Field(0.5, ge=0, description="weight of a file a traceback frame is in")
    frame_decay: float = Field(0.15, ge=0, le=1, description="frame weight lost per frame outward from the innermost")
    outer_frame_floor: float = Field(0.45, ge=0, le=1, description="least weight of an outer frame")
    test_factor: float = Field(0.3, ge=0, le=1, description="prior of test files (by path convention or content)")
    prose_factor: float = Field(0.2, ge=0, le=1, description="prior of files in no parsed language: docs, data, config")
    script_factor: float = Field(0.5, ge=0, le=1, description="prior of Python files outside any package (examples, docs, setup)")
    max_defining_files: int = Field(25, ge=1, description="a name defined in more files than this is no evidence for any of them")
    # Chunk scoring (search.py): multipliers on a chunk's BM25 score.
    qualname_boost: float = Field(4.0, ge=1, description="chunk defining a dotted name the query writes (QuerySet.filter)")
    exact_boost: float = Field(3.0, ge=1, description="chunk defining a name the query writes, same case")
    folded_boost: float = Field(2.4, ge=1, description="chunk defining a name the query writes, other case")
    prefix_boost: float = Field(1.5, ge=1, description="chunk defining a name that starts with a query name of 4+ characters")
    identifier_boost: float = Field(2.0, ge=1, description="intent identifier: the name boosts above are multiplied by this")
    traceback_file_boost: float = Field(2.5, ge=1, description="chunk in a file a traceback frame names (decays like frame_weight)")
    traceback_function_boost: float = Field(2.0, ge=1, description="further multiplier when the chunk defines the frame's function")
    phrase_boost_per_word: float = Field(1.0, ge=0, description="per word of an error-message run a chunk holds verbatim")
    exact_entry_share: float = Field(0.5, ge=0, le=1, description="share of the BM25 pool's lowest score given to chunks found only by name or phrase")
    chunk_test_factor: float = Field(0.6, ge=0, le=1, description="prior of a chunk in a test file")
    chunk_prose_factor: float = Field(0.5, ge=0, le=1, description="prior of a chunk in no parsed language")
    # Bundles (assemble.py): seed spans, and neighbour score = seed score x edge factor / sqrt(definitions).
    seed_spans: int = Field(7, ge=0, le=50, description="spans a seed file offers besides its best")
    span_decay: float = Field(0.9, ge=0, le=1, description="each further seed span weighs this times the one before")
    callee_factor: float = Field(0.3, ge=0, description="weight of what a seed calls")
    caller_factor: float = Field(0.25, ge=0, description="weight of what calls a seed")
    test_edge_factor: float = Field(0.2, ge=0, description="weight of the tests of a seed")


class AssembleSettings(_Section):
    seeds: int = Field(5, ge=1, le=50, description="ranked files whose best spans seed a bundle")
    max_items: int = Field(40, ge=1, le=500, description="items a bundle may hold")


class AwsSettings(_Section):
    bucket: str = Field("", description="S3 bucket holding index artifacts and source archives; empty means no S3 store")
    prefix: str = Field("", description="key prefix inside the bucket, for a bucket shared with other data")
    region: str = Field("", description="AWS region; empty means boto3's default chain (AWS_REGION in Lambda)")
    endpoint_url: str = Field("", description="S3/SQS endpoint override, e.g. a local moto server")
    queue_url: str = Field("", description="SQS queue that feeds the index function")
    # Every attempt is bounded by connect + read, and an attempt starts only if it can end before the
    # request's deadline (``pampax.deadline``): a hung endpoint costs seconds, never the function's timeout.
    connect_timeout: float = Field(1.0, gt=0, description="seconds to open a connection to AWS")
    read_timeout: float = Field(2.0, gt=0, description="seconds to wait for AWS to answer")
    max_attempts: int = Field(2, ge=1, le=10, description="tries per AWS call, with exponential backoff (botocore standard mode)")


class RuntimeSettings(_Section):
    store_dir: str = Field("", description="a local artifact store directory used instead of S3 (local harness, tests)")
    work_dir: str = Field("/tmp/pampax", description="where a handler keeps fetched index generations and index jobs their scratch files")
    refresh_seconds: float = Field(30.0, ge=0, description="a warm handler re-reads the current-generation pointer at most this often")
    # A 64K-character query JSON-escaped as \uXXXX is ~384 KiB; 512 KiB admits it and still bounds parsing.
    max_body_bytes: int = Field(524_288, ge=1024, description="largest HTTP request body accepted (larger: 413)")
    max_archive_bytes: int = Field(1_073_741_824, ge=1, description="largest unpacked size of a source archive an index job accepts")


class CacheSettings(_Section):
    enabled: bool = Field(True, description="serve repeated search and assemble requests from the cache")
    ttl_seconds: int = Field(86_400, ge=1, description="how long a cached response lives")
    path: str = Field("", description="local cache file (SQLite); empty means cache.db beside the index")
    table: str = Field("", description="DynamoDB table; when set the cache lives there instead of the local file")


class ObservabilitySettings(_Section):
    service: str = Field("pampax", description="service name on every log line and metric")
    namespace: str = Field("Pampax", description="CloudWatch metrics namespace")
    log_level: str = Field("WARNING", pattern="^(DEBUG|INFO|WARNING|ERROR)$", description="lowest level logged")
    log_format: str = Field("auto", pattern="^(auto|json|text)$", description="auto: JSON when stderr is not a terminal")
    metrics_file: str = Field("", description="offline EMF sink; empty means metrics.jsonl beside the index")
    metrics_max_bytes: int = Field(10_485_760, ge=4096, description="a metrics file larger than this is moved to FILE.1 (replacing it) before the next write")
    record_queries: bool = Field(False, description="keep each query's first 200 characters in its metric document (CloudWatch Logs in AWS) for `analytics export --include-queries`; off, only its sha256 prefix is kept")


class Config(_Section):
    index: IndexSettings = IndexSettings()
    search: SearchSettings = SearchSettings()
    assemble: AssembleSettings = AssembleSettings()
    aws: AwsSettings = AwsSettings()
    runtime: RuntimeSettings = RuntimeSettings()
    cache: CacheSettings = CacheSettings()
    observability: ObservabilitySettings = ObservabilitySettings()


SECTIONS: dict[str, type[_Section]] = {name: field.annotation for name, field in Config.model_fields.items()}


class ResolvedConfig(BaseModel):
    """The effective config plus, for every ``section.key``, where its value came from."""

    config: Config
    sources: dict[str, str]
    file: str | None


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
) -> ResolvedConfig:
    """Return the effective config. ``path`` (``--config``) wins over ``PAMPAX_CONFIG``, then the nearest
    ``pampax.toml`` in ``cwd`` or above it.

    ``flags`` maps ``section.key`` to a value given on the command line. Raises ``ConfigInvalid``
    naming the key and its source for unknown keys, bad values and unreadable files.
    """
    env = os.environ if env is None else env
    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    sources = {f"{s}.{k}": "default" for s, model in SECTIONS.items() for k in model.model_fields}

    file = _find_file(path, env, cwd or Path.cwd())
    if file is not None:
        for section, table in _read_file(file).items():
            if not isinstance(table, dict):
                raise ConfigInvalid(f"{section}: expected a [{section}] table in {file}")
            for key, value in table.items():
                _set(values, sources, f"{section}.{key}", value, f"file:{file}")
    for name, value in sorted(env.items()):
        if name.startswith(ENV_PREFIX) and name != "PAMPAX_CONFIG":
            _set(values, sources, _env_key(name), value, f"env:{name}")
    for dotted, value in (flags or {}).items():
        if value is not None:
            _set(values, sources, dotted, value, "flag")

    try:
        config = Config(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        dotted = ".".join(str(p) for p in error["loc"])
        raise ConfigInvalid(f"{dotted}: {error['msg']} (from {sources.get(dotted, 'default')})") from None
    return ResolvedConfig(config=config, sources=sources, file=str(file) if file else None)


def _find_file(path: str | Path | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    if path is not None or env.get("PAMPAX_CONFIG"):
        chosen = Path(path if path is not None else env["PAMPAX_CONFIG"])
        if not chosen.is_file():
            raise ConfigInvalid(f"config file {chosen} does not exist")
        return chosen
    # Found the way the CLI finds the index: the nearest one in the working directory or above it.
    here = cwd.resolve()
    return next((d / CONFIG_FILE for d in (here, *here.parents) if (d / CONFIG_FILE).is_file()), None)


def _read_file(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigInvalid(f"cannot read {file}: {exc}") from exc


def _env_key(name: str) -> str:
    rest = name[len(ENV_PREFIX):].lower()
    for section in SECTIONS:
        if rest.startswith(section + "_"):
            return f"{section}.{rest[len(section) + 1:]}"
    return rest


def _set(values: dict[str, dict[str, Any]], sources: dict[str, str], dotted: str, value: Any, source: str) -> None:
    if dotted not in sources:
        raise ConfigInvalid(f"{dotted}: unknown setting (from {source})")
    section, key = dotted.split(".", 1)
    values[section][key] = value
    sources[dotted] = source
