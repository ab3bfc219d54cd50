"""``flowexec bench``: its arguments, and the run that prints the table and writes the JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path

from benchmarks.config import DEFAULT_BROKER_URL
from benchmarks.config import DEFAULT_DATABASE_URL
from benchmarks.config import FULL
from benchmarks.config import QUICK
from benchmarks.config import Options
from benchmarks.report import print_table
from benchmarks.run import run_bench

DESCRIPTION = (
    "Measure flowexec's scheduling overhead against real MariaDB, Redis, worker processes and the "
    "gateway, next to the limits this machine allows. DESTRUCTIVE: it drops flowexec's tables "
    "(flowexec_*, dss_workflow_*, alembic_version) in the bench database (--database-url) and "
    "flushes the whole Redis database of --broker-url, before and after the run: give it its own."
)


def parser(prog: str = "flowexec bench") -> argparse.ArgumentParser:
    out = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(out)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", metavar="FILE", help="write the result object to FILE ('-' for stdout only)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="MySQL/MariaDB database of the bench's own (flowexec's tables in it are dropped)",
    )
    parser.add_argument(
        "--broker-url",
        default=DEFAULT_BROKER_URL,
        help="Redis database of the bench's own (the whole db is flushed)",
    )
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes")
    parser.add_argument("--concurrency", type=int, default=4, help="threads per worker process")
    parser.add_argument(
        "--linkis-workers", type=int, default=2, help="worker processes for Linkis submits and polls"
    )
    parser.add_argument(
        "--linkis-pool", choices=["threads", "gevent"], default="threads", help="their Celery pool (threads)"
    )
    parser.add_argument(
        "--linkis-concurrency", type=int, default=4, help="threads (or greenlets) per Linkis worker (4)"
    )
    parser.add_argument(
        "--skip", action="append", default=[], choices=["shell", "polling", "api", "embedded"]
    )
    parser.add_argument("--home", help="directory for logs and gateway state (default: a new temp dir)")


def options_from(args: argparse.Namespace, progress: Callable[[str], None]) -> Options:
    return Options(
        database_url=args.database_url,
        broker_url=args.broker_url,
        sizes=QUICK if args.quick else FULL,
        workers=args.workers,
        concurrency=args.concurrency,
        linkis_workers=args.linkis_workers,
        linkis_pool=args.linkis_pool,
        linkis_concurrency=args.linkis_concurrency,
        skip=frozenset(args.skip),
        home=args.home,
        progress=progress,
    )


def main(argv: Sequence[str] | None = None, prog: str = "flowexec bench") -> int:
    """``flowexec bench``: run, print the table, write the JSON."""
    from rich.console import Console

    args = parser(prog).parse_args(argv)
    to_stdout = args.json == "-"
    console = Console(stderr=to_stdout, width=max(Console(stderr=to_stdout).width, 150))
    result = run_bench(options_from(args, lambda text: console.log(text)))
    print_table(result, console)
    text = json.dumps(result, indent=2)
    if to_stdout:
        print(text)
    elif args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {args.json}")
    return 0 if all(v is not False for v in result["targets"].values()) else 1
