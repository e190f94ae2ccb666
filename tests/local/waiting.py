"""Polling for what a child process does in its own time (a detached worker, a build being killed)."""

import time


def wait_for(predicate, seconds: float = 60.0, interval: float = 0.02):
    """Return the first truthy ``predicate()`` within ``seconds``, else its last (falsy) value."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if value := predicate():
            return value
        time.sleep(interval)
    return predicate()
