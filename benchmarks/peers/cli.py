"""``python -m benchmarks.peers``: install the peers, run the rounds, print the table, write JSON."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.config import DEFAULT_BROKER_URL
from benchmarks.config import DEFAULT_DATABASE_URL
from benchmarks.config import Options
from benchmarks.peers import specs
from benchmarks.peers.rounds import load_now
from benchmarks.peers.rounds import run_rounds
from benchmarks.peers.rounds import start_all
from benchmarks.peers.systems import System
from benchmarks.peers.systems import make_peer
from benchmarks.peers.table import COLUMNS
from benchmarks.peers.table import print_table
from benchmarks.peers.table import summarize
from benchmarks.peers.table import verdict
from benchmarks.peers.venvs import DEFAULT_VENVS
from benchmarks.peers.venvs import PEERS
from benchmarks.peers.venvs import ensure
from benchmarks.report import machine

#: ``--only`` names: the table's columns, and ``flowexec`` for both of flowexec's.
ALIASES = {"flowexec": ("embedded", "production")}


def parser() -> argparse.ArgumentParser:
    out = argparse.ArgumentParser(
        prog="python -m benchmarks.peers",
        description="flowexec (embedded and production) next to Celery canvas, Dagster, Prefect and "
        "Airflow on the same no-op workloads, in interleaved rounds; medians. DESTRUCTIVE for "
        "--database-url and --broker-url, as flowexec bench is: give it its own.",
    )
    out.add_argument("--quick", action="store_true", help="smaller workloads (chain 20, fan-out 50, DAG 40)")
    out.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    out.add_argument("--only", help=f"comma-separated: {', '.join([*COLUMNS, *ALIASES])} (default: all)")
    out.add_argument("--json", metavar="FILE", help="write the result object to FILE")
    out.add_argument(
        "--venvs", default=DEFAULT_VENVS, help=f"where the peers' virtualenvs live ({DEFAULT_VENVS})"
    )
    out.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="flowexec production's database")
    out.add_argument(
        "--broker-url", default=DEFAULT_BROKER_URL, help="Redis for flowexec production and canvas"
    )
    out.add_argument("--home", help="logs and the peers' state (default: a new temporary directory)")
    return out


def chosen(only: str | None) -> list[str]:
    if not only:
        return list(COLUMNS)
    names: list[str] = []
    for part in (p.strip() for p in only.split(",") if p.strip()):
        if part not in COLUMNS and part not in ALIASES:
            raise SystemExit(
                f"--only: unknown system {part!r}; choose from {', '.join([*COLUMNS, *ALIASES])}"
            )
        names.extend(ALIASES.get(part, (part,)))
    return [k for k in COLUMNS if k in names]


def build_systems(
    keys: list[str],
    args: argparse.Namespace,
    home: Path,
    workloads: list[specs.Workload],
    say: Callable[[str], None],
) -> tuple[list[System], dict[str, str], dict[str, str]]:
    """The systems to run, in the table's order; install errors and each peer's pins' source."""
    from benchmarks.peers.flowexec_systems import Embedded
    from benchmarks.peers.flowexec_systems import Production

    options = Options(
        database_url=args.database_url, broker_url=args.broker_url, home=str(home / "production")
    )
    spec = specs.write_spec(home / "workloads.json", workloads)
    systems: list[System] = []
    errors: dict[str, str] = {}
    pins: dict[str, str] = {}
    venvs = Path(args.venvs).expanduser()
    for key in keys:
        if key == "embedded":
            systems.append(Embedded(home / "embedded", workloads))
        elif key == "production":
            systems.append(Production(options))
        else:
            try:
                python, pins[key] = ensure(PEERS[key], venvs, say)
            except Exception as exc:  # the other peers still run
                errors[key] = f"install: {exc}"
                say(f"{key}: {exc}")
                continue
            systems.append(
                make_peer(
                    key,
                    python,
                    spec,
                    home,
                    workloads,
                    args.broker_url,
                    (options.workers, options.concurrency),
                )
            )
    return systems, errors, pins


def run(args: argparse.Namespace, say: Callable[[str], None]) -> tuple[dict[str, Any], list[specs.Workload]]:
    workloads = specs.workloads(specs.QUICK if args.quick else specs.FULL)
    home = Path(args.home or tempfile.mkdtemp(prefix="flowexec-peers-"))
    home.mkdir(parents=True, exist_ok=True)
    systems, errors, pins = build_systems(chosen(args.only), args, home, workloads, say)
    result: dict[str, Any] = {
        "flowexec_peers": 1,
        "taken": datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "rounds_asked": args.rounds,
        "workloads": {w.name: {"label": w.label, "tasks": w.tasks, "edges": len(w.edges)} for w in workloads},
        "home": str(home),
    }
    load = {"before": load_now()}
    try:
        started = start_all(systems, errors, say)
        rounds, load["during"] = run_rounds(started, workloads, args.rounds, errors, say)
        result["systems"] = {
            s.key: {"title": s.title, "versions": s.versions()} for s in systems if s.key not in errors
        }
    finally:
        for system in reversed(systems):
            system.stop()
    for key, message in errors.items():
        result.setdefault("systems", {}).setdefault(key, {"title": COLUMNS[key]})["error"] = message
    for key, source in pins.items():
        result["systems"].setdefault(key, {})["pins"] = source
    load["after"] = load_now()
    result.update(load=load, rounds=rounds, summary=summarize(rounds, workloads))
    result["verdict"] = verdict(result["summary"], workloads)
    return result, workloads


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    args = parser().parse_args(argv)
    console = Console(width=max(Console().width, 160))
    result, workloads = run(args, lambda text: console.log(text))
    print_table(result, workloads, console)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {args.json}")
    return 1 if any("error" in s for s in result["systems"].values()) else 0
