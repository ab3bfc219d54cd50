"""``flowexec run``: a flow file to completion in this process, on the embedded stack."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from api.cli import lease
from api.cli.common import EXIT_FAILED
from api.cli.common import EXIT_INTERRUPTED
from api.cli.common import EXIT_OK
from api.cli.common import STATE_STYLE
from api.cli.common import UsageError
from api.cli.common import abbreviate
from api.cli.common import non_negative
from api.cli.common import resume_collections
from api.cli.live import progress_console
from api.cli.live import watch
from flowexec import graph
from flowexec.config import Settings
from flowexec.planner import NodeLimits
from flowexec.skip import ExecuteStrategy
from flowexec.skip import StrategyArgs
from flowexec.skip import skipped_nodes
from flowexec.state import RunState

if TYPE_CHECKING:
    from rich.table import Table


def read_flow(path: str, scripts_dir: str | None = None) -> tuple[Any, dict[str, str]]:
    """Read a flow file and local copies of the scripts it names: paths relative to the flow's
    folder (or ``scripts_dir``), never outside it, symlinks included. A node whose script is in
    BML reads it from there first; these copies are the fallback."""
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


def _simulate(names: str | None) -> dict[str, Any]:
    """``--simulate appconn,spark``: the local gateway's simulated engines (never a real Linkis)."""
    from flowexec.config import Settings

    if names is None:
        return {}
    chosen = frozenset(n.strip().lower() for n in names.split(",") if n.strip())
    if not chosen:
        raise UsageError("--simulate expects engine or engine.runType names, e.g. appconn,spark")
    if Settings.from_env(os.environ).linkis_url:
        raise UsageError(
            "--simulate applies to the local gateway only: FLOWEXEC_LINKIS_URL names a real Linkis"
        )
    return {"gateway_simulate": chosen}


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
    from workers import dispatch

    # A run is waited on and ends with its flow: its worker looks at the memory broker every 1 ms.
    overrides = {**_simulate(args.simulate), "memory_broker_poll": 0.001}
    _flow_after_rerun(args)
    doc, scripts = read_flow(args.flow, args.scripts)
    strategy, node_ids, rerun_of = _strategy(args)
    if strategy is not ExecuteStrategy.RERUN_FAILED:  # check the node ids before anything is written
        flow_limits = Settings.from_env(os.environ).flow_limits
        skipped_nodes(graph.parse_flow(doc, scripts, limits=flow_limits), StrategyArgs(strategy, node_ids))
    _require_linkis()
    request = dict(doc=doc, scripts=scripts, strategy=strategy, node_ids=node_ids, rerun_of=rerun_of)
    err = progress_console(args.quiet)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with embedded_stack(overrides, http=False) as stack, stack.app.app_context():
            settings = stack.app.extensions["flowexec"].settings
            lease.finalize_dead_runs(stack.app, send=lambda _, actions: dispatch.send(actions))
            with lease.held(settings.home) as held:
                submitted = _submit(args, request, settings)
                held.own(submitted.task_id)
                resume_collections()  # main() left them off while the stack started
                try:
                    # live or not, woken by this process's commits
                    task, nodes = watch(submitted.task_id, err, live=err is not None, every=0.5)
                except KeyboardInterrupt:
                    return _cancel(stack.app, submitted)
                result = summary(submitted.exec_id, task, nodes)
                result["logTails"] = _log_tails(stack, nodes)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(result))
    else:
        from rich.console import Console

        Console().print(summary_table(result))
        for title, lines in result["logTails"].items():
            Console().print(log_tail_panel(title, lines))
    return EXIT_OK if result["status"] == RunState.SUCCEED.value else EXIT_FAILED


def _flow_after_rerun(args: argparse.Namespace) -> None:
    """``--rerun-failed flow.json``: the optional EXEC_ID took the flow path; give it back."""
    if args.flow is None and args.rerun_failed:
        args.flow, args.rerun_failed = args.rerun_failed, ""
    if args.flow is None:
        raise UsageError("the following arguments are required: flow")


def _require_linkis() -> None:
    """A configured FLOWEXEC_LINKIS_URL that does not answer is said at once, before anything runs."""
    from api import preflight
    from flowexec.config import Settings

    check = preflight.linkis_check(Settings.from_env(os.environ).linkis_url)
    if not check.ok:
        raise preflight.NotReady(check.line())


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM is handled as Ctrl-C is: the run is cancelled, not left behind."""
    raise KeyboardInterrupt


def _submit(args: argparse.Namespace, request: dict[str, Any], settings: Any) -> Any:
    from flowexec import service
    from workers import dispatch

    ref = service.register_flow(
        request["doc"],
        request["scripts"],
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
            strategy=request["strategy"],
            node_ids=request["node_ids"],
            rerun_of=request["rerun_of"],
            failure_policy=args.failure_policy,
            variables=_variables(args.var or []),
            limits=NodeLimits(retries=args.retries, retry_delay=args.retry_delay, timeout=args.timeout),
            idempotency_key=args.idempotency_key,
        ),
        settings,
    )
    dispatch.send(actions)
    return submitted


def _cancel(app: Any, submitted: Any) -> int:
    """Ctrl-C / SIGTERM: cancel the execution, wait for its Linkis jobs to be killed, exit 130."""
    from api.cli.kill import DRAIN_SECONDS
    from api.cli.kill import _drain
    from flowexec import service
    from workers import dispatch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
    try:
        dispatch.send(
            service.cancel_execution(submitted.task_id, reason="killed: flowexec run was interrupted")
        )
        _drain(app.extensions["celery"], DRAIN_SECONDS)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"flowexec: interrupted; execution {submitted.exec_id} cancelled", file=sys.stderr)
    return EXIT_INTERRUPTED


#: Lines of a failed node's log shown under the run's summary.
LOG_TAIL = 8


def _log_tails(stack: Any, nodes: Any) -> dict[str, list[str]]:
    """The last lines of each failed node's Linkis log (while the embedded gateway still runs)."""
    from flowexec import service
    from flowexec.errors import LinkisError
    from flowexec.linkis.client import LinkisClient
    from flowexec.linkis.port import JobRef
    from flowexec.state import NODE_FAILED
    from flowexec.state import NodeState

    settings = stack.app.extensions["flowexec"].settings
    url = settings.linkis_url or stack.gateway_url
    tails: dict[str, list[str]] = {}
    failed = [n for n in nodes if NodeState(n.state) in NODE_FAILED and n.linkis_task_id]
    if not failed or not url:
        return tails
    user = service.linkis_user(service.execution_nodes(failed[0].task_id)[0], settings)
    with LinkisClient(url, token=settings.linkis_token, user=user, retries=1) as linkis:
        for node in failed:
            ref = JobRef(node.linkis_exec_id or "", int(node.linkis_task_id))
            lines: list[str] = []
            try:
                line = 1
                while True:
                    page = linkis.log(ref, line, 1000)
                    if not page.lines:
                        break
                    lines = (lines + list(page.lines))[-LOG_TAIL:]
                    line = page.next_line
            except LinkisError:
                continue
            if lines:
                tails[node.title] = lines
    return tails


def log_tail_panel(title: str, lines: Sequence[str]) -> Any:
    from rich.panel import Panel
    from rich.text import Text

    return Panel(Text("\n".join(lines)), title=f"{title}: last lines of its log", title_align="left")


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
    """The end-of-run table: one row per node, times of day and durations (fits 80 columns)."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"{abbreviate(result['execID'])} (task {result['taskID']}): {result['status']}",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("node", overflow="ellipsis", max_width=24)
    for column in ("status", "started", "duration"):
        table.add_column(column, no_wrap=True)
    table.add_column("error", overflow="ellipsis", ratio=1)
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
    return stamp[11:19] if stamp else ""


def _seconds_between(start: str | None, end: str | None) -> str:
    if not start or not end:
        return ""
    from datetime import datetime

    return f"{(datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds():.2f}s"


def add_parser(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run a flow file to completion in this process (embedded)",
        description="Run a flow file to completion in this process. Ctrl-C (or SIGTERM) cancels the "
        "execution, kills its Linkis jobs and exits 130.",
    )
    run.add_argument("flow", nargs="?", help="the flow file (JSON, DSS's flow format)")
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
        "--failure-policy",
        default="fail_fast",
        choices=["fail_fast", "continue", "finish_running"],
        help="what a node's failure does to the rest (default fail_fast, as DSS)",
    )
    run.add_argument(
        "--simulate",
        metavar="ENGINES",
        help="engines (or engine.runType) the local gateway completes without running, e.g. appconn,spark",
    )
    run.add_argument("--var", action="append", metavar="NAME=VALUE", help="override a flow variable")
    run.add_argument(
        "--retries",
        type=non_negative(int),
        default=0,
        help="default retries of a failed node (a node's flowexec.retries wins)",
    )
    run.add_argument(
        "--retry-delay",
        type=non_negative(float),
        default=0.0,
        metavar="SECONDS",
        help="default wait before a retry (a node's flowexec.retryDelay wins)",
    )
    run.add_argument(
        "--timeout",
        type=non_negative(float),
        default=0.0,
        metavar="SECONDS",
        help="default node timeout, 0 for none (a node's flowexec.timeout wins)",
    )
    run.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="run at most once per KEY: a repeated command reports the first execution",
    )
    run.set_defaults(func=cmd_run)
