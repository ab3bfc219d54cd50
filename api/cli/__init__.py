"""The ``flowexec`` command: the parser and ``main``; each job's commands live in their own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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
    args, rest = parser().parse_known_args(argv)
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
