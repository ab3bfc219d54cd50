"""What every ``flowexec`` command shares: exit codes, state colours, the local app, argument types."""

from __future__ import annotations

import argparse
import gc
import json
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from api.preflight import EXIT_NOT_READY

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: Ctrl-C / SIGTERM, as the shell reports it. EXIT_NOT_READY: a dependency is missing or misconfigured.
if TYPE_CHECKING:
    from flask import Flask


EXIT_INTERRUPTED = 130
STATE_STYLE = {
    "Succeed": "green",
    "Failed": "red",
    "Cancelled": "magenta",
    "Timeout": "red",
    "Skipped": "dim",
    "Running": "cyan",
    "Submitting": "cyan",
    "Queued": "yellow",
    "Pending": "white",
}
N = TypeVar("N", int, float)


def positive_int(text: str) -> int:
    """An argparse type: a whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


class UsageError(Exception):
    """Bad input on the command line: exit status 2."""


def non_negative(kind: Callable[[str], N]) -> Callable[[str], N]:
    """An argparse type: a number of ``kind`` that is not negative (nor NaN)."""

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < 0 or value != value:
            raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
        return value

    return parse


def local_app(broker: bool = False) -> Flask:
    """The app on FLOWEXEC_DATABASE_URL, or on the embedded SQLite in $FLOWEXEC_HOME (kept current).

    The database must answer at the migration head (and the broker, if asked), else
    ``preflight.NotReady`` says what to fix. Embedded runs whose process died are finalized first.
    """
    from api import preflight
    from api.app import create_app
    from api.embedded import upgrade_database

    app = create_app()
    settings = app.extensions["flowexec"].settings
    if settings.database_url is None:
        upgrade_database(app)
    preflight.require(app, broker=broker and not settings.embedded)
    from api.cli import lease

    lease.finalize_dead_runs(app)
    return app


def task_id(text: str) -> int:
    """A taskID given as digits or as an execID."""
    from flowexec import execid

    return execid.parse_task_id(text)


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False))


def abbreviate(text: str, width: int = 24) -> str:
    """A long id cut in its middle, for tables (``--json`` always has the whole value)."""
    if len(text) <= width:
        return text
    keep = width - 1
    return f"{text[: keep // 2]}…{text[-(keep - keep // 2) :]}"


__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_READY",
    "EXIT_OK",
    "EXIT_USAGE",
    "STATE_STYLE",
    "UsageError",
    "abbreviate",
    "local_app",
    "non_negative",
    "print_json",
    "task_id",
]


def resume_collections() -> None:
    """Turn garbage collection back on after a start that ran without it (``flowexec run``).

    What the start allocated (modules, classes, the apps: a hundred thousand objects) lives as
    long as the process, so it first moves out of the collector's sight (``gc.freeze``,
    CPython's recipe for a long-lived heap) instead of being traversed by the first
    collections: about a tenth of a one-node run's CPU.
    """
    gc.freeze()
    gc.enable()
