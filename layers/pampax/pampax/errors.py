"""Every error pampax raises, and the one table that maps each kind to an exit code and HTTP status.

Adapters never invent their own codes: the CLI exits with ``exit_code_for(kind)`` and handlers answer
with ``http_status_for(kind)``. ``docs/errors.md``-style tables in the README are checked against
``ERROR_TABLE`` by a test, so the two cannot drift.
"""

from __future__ import annotations

from typing import NamedTuple


class ErrorSpec(NamedTuple):
    exit_code: int
    http_status: int
    meaning: str


# kind -> (CLI exit code, HTTP status, meaning). Exit codes are stable: never renumber, only add.
ERROR_TABLE: dict[str, ErrorSpec] = {
    "internal": ErrorSpec(1, 500, "an unexpected failure; the message names the operation"),
    "invalid_argument": ErrorSpec(2, 400, "a bad flag, field or query value (e.g. a zero budget)"),
    "invalid_request": ErrorSpec(2, 422, "a request body that fails validation (missing, extra or mistyped fields)"),
    "payload_too_large": ErrorSpec(2, 413, "a request body over the configured size limit"),
    "route_not_found": ErrorSpec(2, 404, "no such HTTP route or CLI command"),
    "path_not_found": ErrorSpec(3, 404, "the repository path does not exist"),
    "not_a_directory": ErrorSpec(3, 400, "the repository path is a file, not a directory"),
    "index_missing": ErrorSpec(4, 503, "no index has been built at the given location yet"),
    "index_corrupt": ErrorSpec(5, 503, "the index file is unreadable, fails its integrity check or has a foreign schema"),
    "config_invalid": ErrorSpec(6, 500, "pampax.toml or a PAMPAX_* variable holds a bad value"),
    "engine_unsupported": ErrorSpec(7, 500, "the SQLite engine lacks FTS5 (install pysqlite3-binary)"),
    "cache_unavailable": ErrorSpec(8, 503, "the cache store cannot be reached (requests still bypass it)"),
    "store_unavailable": ErrorSpec(9, 503, "the artifact store (S3) cannot be reached or holds no valid artifact"),
    "job_not_found": ErrorSpec(10, 404, "no index job has that id"),
    "build_running": ErrorSpec(11, 409, "a background build of that index is already running"),
}


def exit_code_for(kind: str) -> int:
    """Return the CLI exit code of an error kind (``internal``'s for unknown kinds)."""
    return ERROR_TABLE.get(kind, ERROR_TABLE["internal"]).exit_code


def http_status_for(kind: str) -> int:
    """Return the HTTP status of an error kind (``internal``'s for unknown kinds)."""
    return ERROR_TABLE.get(kind, ERROR_TABLE["internal"]).http_status


def is_caller_error(kind: str) -> bool:
    """Return whether an error kind is the caller's doing (a 4xx): retrying the same request cannot cure it."""
    return 400 <= http_status_for(kind) < 500


class PampaxError(Exception):
    """Base of every pampax error: a stable ``kind`` and a one-line, user-facing ``message``."""

    kind = "internal"
    # Set once the error was logged and counted, so an adapter answering it does not count it twice.
    reported = False

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> int:
        return exit_code_for(self.kind)

    def to_dict(self) -> dict:
        """Return the ``{"error": {...}}`` body shared by the CLI's JSON output and the HTTP API."""
        return {"error": {"code": self.code, "kind": self.kind, "message": self.message}}


class InvalidArgument(PampaxError):
    """A flag, field or query value is out of range or malformed."""

    kind = "invalid_argument"


class InvalidRequest(PampaxError):
    """A request body fails model validation."""

    kind = "invalid_request"


class PayloadTooLarge(PampaxError):
    """A request body is larger than the configured limit."""

    kind = "payload_too_large"


class RouteNotFound(PampaxError):
    """No HTTP route matches the request."""

    kind = "route_not_found"


class PathNotFound(PampaxError):
    """The repository path does not exist."""

    kind = "path_not_found"


class NotADirectory(PampaxError):
    """The repository path is a file."""

    kind = "not_a_directory"


class IndexMissing(PampaxError):
    """No index file exists where one was expected."""

    kind = "index_missing"


class IndexCorrupt(PampaxError):
    """The index exists but cannot be used: unreadable, failed integrity check, or a foreign schema."""

    kind = "index_corrupt"


class ConfigInvalid(PampaxError):
    """A configuration value (file or environment) is invalid; the message names key and source."""

    kind = "config_invalid"


class EngineUnsupported(PampaxError):
    """The SQLite engine in use lacks a feature pampax needs (FTS5)."""

    kind = "engine_unsupported"


class CacheUnavailable(PampaxError):
    """The cache store failed; callers bypass the cache instead of failing the request."""

    kind = "cache_unavailable"


class StoreUnavailable(PampaxError):
    """The artifact store failed or holds no valid artifact."""

    kind = "store_unavailable"


class JobNotFound(PampaxError):
    """No index job has the id asked for."""

    kind = "job_not_found"


class BuildRunning(PampaxError):
    """A background build was asked for while another one of the same index runs."""

    kind = "build_running"


def error_for(kind: str, message: str) -> PampaxError:
    """Return an error of ``kind`` (``internal`` for unknown kinds), e.g. for a failure reported as data."""
    for cls in PampaxError.__subclasses__():
        if cls.kind == kind:
            return cls(message)
    return PampaxError(message)
