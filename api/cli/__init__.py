"""The ``flowexec`` command: the parser and ``main``; each job's commands live in their own module."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import NoReturn

from api.cli import admin
from api.cli import bml
from api.cli import inspect
from api.cli import kill
from api.cli import run
from api.cli.common import EXIT_INTERRUPTED
from api.cli.common import EXIT_NOT_READY
from api.cli.common import EXIT_USAGE
from api.cli.common import UsageError
from flowexec.errors import FlowexecError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="flowexec", description="DSS flow execution on Celery")
    top.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = top.add_subparsers(dest="command", required=True)
    run.add_parser(sub)
    admin.add_parsers(sub)
    inspect.add_reading_parsers(sub)
    kill.add_parser(sub)
    bml.add_parser(sub)
    inspect.add_watching_parsers(sub)
    admin.add_bench_parser(sub)
    return top


def _version() -> str:
    from flowexec import __version__

    return str(__version__)


def main(argv: Sequence[str] | None = None) -> int:
    """The command; as the process's own (``argv`` None), ``flowexec run`` ends it at once."""
    args, rest = parser().parse_known_args(argv)
    if argv is None and args.command == "run":
        # Starting the stack allocates much and frees little: no collections until the
        # execution is under way (cmd_run enables them again).
        gc.disable()
        exit_now(_main(args, rest))
    return _main(args, rest)


def exit_now(code: int) -> NoReturn:
    """End the process once its output is out, skipping the interpreter's teardown.

    ``flowexec run`` has stopped its worker and gateway and committed everything by now; what
    is left is freeing a few hundred thousand objects module by module, about a third of a
    second of a one-node run. The database needs nothing: every transaction has committed
    (SQLite keeps them in its write-ahead log, which the next open reads).
    """
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)


def _main(args: argparse.Namespace, rest: list[str]) -> int:
    from sqlalchemy.exc import DBAPIError

    from api.preflight import NotReady

    try:
        if args.command == "bench":
            return admin.cmd_bench(rest)
        if rest:
            parser().error(f"unrecognized arguments: {' '.join(rest)}")
        return int(args.func(args))
    except (UsageError, FlowexecError) as exc:
        message = exc.message if isinstance(exc, FlowexecError) else str(exc)
        print(f"flowexec: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except NotReady as exc:
        print(f"flowexec: error: {exc}", file=sys.stderr)
        return EXIT_NOT_READY
    except DBAPIError as exc:  # the database went away after the preflight: one line, no traceback
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        print(f"flowexec: error: database: {reason[:200]} (see `flowexec doctor`)", file=sys.stderr)
        return EXIT_NOT_READY
    except KeyboardInterrupt:
        print("flowexec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
