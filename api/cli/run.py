"""``flowexec run``: a flow file to completion in this process, on the embedded stack."""

from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api.cli.common import EXIT_FAILED
from api.cli.common import EXIT_OK
from api.cli.common import STATE_STYLE
from api.cli.common import UsageError
from api.cli.common import non_negative
from api.cli.live import watch
from flowexec import graph
from flowexec.config import Settings
from flowexec.planner import NodeLimits
from flowexec.skip import ExecuteStrategy
from flowexec.skip import StrategyArgs
from flowexec.skip import skipped_nodes
from flowexec.state import RunState


def read_flow(path: str, scripts_dir: str | None = None) -> tuple[Any, dict[str, str]]:
    """Read a flow file and the scripts it names: paths relative to the flow's folder (or
    ``scripts_dir``), never outside it, symlinks included."""
    from flowexec.limits import MAX_JSON_DEPTH
    from flowexec.limits import json_depth_exceeds

    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: no such flow file")
    doc = graph.loads(file.read_text(encoding="utf-8"))
    if json_depth_exceeds(doc):
        raise UsageError(f"{path}: JSON nests deeper than {MAX_JSON_DEPTH} levels")
    base = Path(scripts_dir or file.parent).resolve()
    scripts = {}
    for name in graph.script_names(doc):
        script = (base / name).resolve()
        if not script.is_relative_to(base):
            raise UsageError(
                f"script {name!r} is outside {base} (scripts stay in the flow's folder or --scripts)"
            )
        if script.is_file():
            scripts[name] = script.read_text(encoding="utf-8")
    # validate before anything starts or is written
    graph.parse_flow(doc, scripts, limits=Settings.from_env(os.environ).flow_limits)
    return doc, scripts


def _strategy(args: argparse.Namespace) -> tuple[ExecuteStrategy, frozenset[str], int | None]:
    chosen = [
        name
        for name in ("selected", "rerun_failed", "from_node", "to_node")
        if getattr(args, name) is not None
    ]
    if len(chosen) > 1:
        raise UsageError("choose one of --selected, --rerun-failed, --from, --to")
    if not chosen:
        return ExecuteStrategy.EXECUTE, frozenset(), None
    name = chosen[0]
    if name == "rerun_failed":
        rerun = args.rerun_failed
        return ExecuteStrategy.RERUN_FAILED, frozenset(), int(rerun.rsplit("_", 1)[-1]) if rerun else None
    ids = frozenset(i.strip() for i in getattr(args, name).split(",") if i.strip())
    strategy = {
        "selected": ExecuteStrategy.SELECTED,
        "from_node": ExecuteStrategy.FROM_NODE,
        "to_node": ExecuteStrategy.TO_NODE,
    }[name]
    return strategy, ids, None


def _variables(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, found, value = pair.partition("=")
        if not found or not key:
            raise UsageError(f"--var expects name=value, got {pair!r}")
        out[key] = value
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from api.embedded import embedded_stack
    from flowexec import service
    from workers import dispatch

    doc, scripts = read_flow(args.flow, args.scripts)
    strategy, node_ids, rerun_of = _strategy(args)
    if strategy is not ExecuteStrategy.RERUN_FAILED:  # check the node ids before anything is written
        flow_limits = Settings.from_env(os.environ).flow_limits
        skipped_nodes(graph.parse_flow(doc, scripts, limits=flow_limits), StrategyArgs(strategy, node_ids))
    variables = _variables(args.var or [])
    limits = NodeLimits(retries=args.retries, retry_delay=args.retry_delay, timeout=args.timeout)
    err = Console(stderr=True)
    with embedded_stack() as stack, stack.app.app_context():
        settings = stack.app.extensions["flowexec"].settings
        ref = service.register_flow(
            doc,
            scripts,
            source_path=os.path.abspath(args.flow),
            name=Path(args.flow).stem,
            user=getpass.getuser(),
            limits=settings.flow_limits,
        )
        submitted, actions = service.submit_execution(
            service.ExecutionRequest(
                flow_id=ref.flow_id,
                version=ref.version,
                user=getpass.getuser(),
                strategy=strategy,
                node_ids=node_ids,
                rerun_of=rerun_of,
                failure_policy=args.failure_policy,
                variables=variables,
                limits=limits,
            ),
            settings,
        )
        dispatch.send(actions)
        task, nodes = watch(submitted.task_id, err, live=not args.quiet and err.is_terminal)
    result = summary(submitted.exec_id, task, nodes)
    if args.json:
        print(json.dumps(result))
    else:
        Console().print(summary_table(result))
    return EXIT_OK if result["status"] == RunState.SUCCEED.value else EXIT_FAILED


def summary(exec_id: str, task: Any, nodes: Any) -> dict[str, Any]:
    """The ``--json`` result: one object describing the execution and its nodes."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "execID": exec_id,
        "taskID": task.id,
        "status": task.status,
        "nodes": [
            {
                "id": n.node_key,
                "title": n.title,
                "status": n.state,
                "startedAt": iso(n.started_at),
                "finishedAt": iso(n.finished_at),
                "error": n.error,
            }
            for n in nodes
        ],
    }


def summary_table(result: dict[str, Any]) -> Table:
    """The end-of-run table: one row per node, times of day and durations."""
    table = Table(title=f"{result['execID']} (task {result['taskID']}): {result['status']}")
    for column in ("node", "status", "started", "duration"):
        table.add_column(column, no_wrap=True)
    table.add_column("error", overflow="fold")
    for node in result["nodes"]:
        style = STATE_STYLE.get(node["status"], "")
        table.add_row(
            node["title"],
            f"[{style}]{node['status']}[/]",
            _clock(node["startedAt"]),
            _seconds_between(node["startedAt"], node["finishedAt"]),
            node["error"] or "",
        )
    return table


def _clock(stamp: str | None) -> str:
    return stamp[11:23] if stamp else ""


def _seconds_between(start: str | None, end: str | None) -> str:
    if not start or not end:
        return ""
    from datetime import datetime

    return f"{(datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds():.2f}s"


def add_parser(sub: Any) -> None:
    run = sub.add_parser("run", help="run a flow file to completion in this process (embedded)")
    run.add_argument("flow")
    run.add_argument("--scripts", metavar="DIR", help="folder of the flow's scripts (default: the flow's)")
    run.add_argument("--json", action="store_true", help="print one JSON object as the only output")
    run.add_argument("--quiet", action="store_true", help="no live progress")
    run.add_argument("--selected", metavar="IDS", help="run only these node ids (comma-separated)")
    run.add_argument(
        "--rerun-failed",
        nargs="?",
        const="",
        metavar="EXEC_ID",
        help="rerun the latest failed execution of this flow (or EXEC_ID)",
    )
    run.add_argument("--from", dest="from_node", metavar="NODE", help="a node and all downstream")
    run.add_argument("--to", dest="to_node", metavar="NODE", help="a node and all upstream")
    run.add_argument(
        "--failure-policy", default="fail_fast", choices=["fail_fast", "continue", "finish_running"]
    )
    run.add_argument("--var", action="append", metavar="NAME=VALUE", help="override a flow variable")
    run.add_argument(
        "--retries",
        type=non_negative(int),
        default=0,
        help="default retries of a failed node (a node's flowexec.retries wins)",
    )
    run.add_argument("--retry-delay", type=non_negative(float), default=0.0, metavar="SECONDS")
    run.add_argument(
        "--timeout",
        type=non_negative(float),
        default=0.0,
        metavar="SECONDS",
        help="default node timeout, 0 for none (a node's flowexec.timeout wins)",
    )
    run.set_defaults(func=cmd_run)
