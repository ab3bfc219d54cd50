"""The ``flowexec`` command: run a flow in one process, serve, register flows, migrate."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from flowexec import graph
from flowexec.errors import FlowexecError
from flowexec.planner import NodeLimits
from flowexec.skip import ExecuteStrategy
from flowexec.skip import StrategyArgs
from flowexec.skip import skipped_nodes
from flowexec.state import RUN_TERMINAL
from flowexec.state import RunState

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
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


class UsageError(Exception):
    """Bad input on the command line: exit status 2."""


def read_flow(path: str) -> tuple[Any, dict[str, str]]:
    """Read a flow file and the scripts it names (paths relative to the flow file)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: no such flow file")
    doc = graph.loads(file.read_text(encoding="utf-8"))
    scripts = {}
    for name in graph.script_names(doc):
        script = file.parent / name
        if script.is_file():
            scripts[name] = script.read_text(encoding="utf-8")
    graph.parse_flow(doc, scripts)  # validate before anything starts or is written
    return doc, scripts


def _strategy(args: argparse.Namespace) -> tuple[Any, frozenset[str], int | None]:
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

    doc, scripts = read_flow(args.flow)
    strategy, node_ids, rerun_of = _strategy(args)
    if strategy is not ExecuteStrategy.RERUN_FAILED:  # check the node ids before anything is written
        skipped_nodes(graph.parse_flow(doc, scripts), StrategyArgs(strategy, node_ids))
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


def watch(
    task_id: int, console: Console, live: bool, timeout: float | None = None, every: float = 0.05
) -> tuple[Any, Any]:
    """Refresh the node table every ``every`` seconds until the execution ends."""
    from flowexec import service

    deadline = time.monotonic() + timeout if timeout else None
    with Live(console=console, refresh_per_second=8, transient=True) if live else _nothing() as view:
        while True:
            task, _, nodes = service.execution_nodes(task_id)
            if view is not None:
                view.update(progress_table(task, nodes))
            if RunState(task.status) in RUN_TERMINAL:
                return task, nodes
            if deadline and time.monotonic() > deadline:
                raise FlowexecError(f"execution {task_id} did not finish in {timeout} s")
            time.sleep(every)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _duration(node: Any) -> str:
    if node.started_at is None:
        return ""
    end = node.finished_at or node.started_at.__class__.now()
    return f"{(end - node.started_at).total_seconds():.2f}s"


def node_depths(nodes: Any) -> dict[str, int]:
    """Each node's topological depth (longest path from a root), from the rows' children lists."""
    from api.svg import GraphNode
    from api.svg import depths

    return depths([GraphNode(n.node_key, n.title, n.state, json.loads(n.children or "[]")) for n in nodes])


def progress_table(task: Any, nodes: Any) -> Table:
    """The live view: nodes grouped by topological depth, state coloured, attempt and duration."""
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.state] = counts.get(node.state, 0) + 1
    tally = "  ".join(f"[{STATE_STYLE.get(k, '')}]{k} {v}[/]" for k, v in sorted(counts.items()))
    table = Table(title=f"task {task.id}: {task.status} {100 * (task.progress or 0):.0f}%", caption=tally)
    for column in ("depth", "node", "state", "attempt", "duration"):
        table.add_column(column, justify="right" if column in ("depth", "attempt", "duration") else "left")
    depth = node_depths(nodes)
    order = sorted(range(len(nodes)), key=lambda i: (depth[nodes[i].node_key], i))
    previous = None
    for i in order:
        node = nodes[i]
        level = depth[node.node_key]
        if previous is not None and level != previous:
            table.add_section()
        style = STATE_STYLE.get(node.state, "")
        table.add_row(
            str(level) if level != previous else "",
            node.title,
            f"[{style}]{node.state}[/]",
            str(node.attempt or ""),
            _duration(node),
        )
        previous = level
    return table


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


def cmd_gateway(args: argparse.Namespace) -> int:
    from flowexec.config import Settings
    from gateway import run_gateway

    settings = Settings.from_env(os.environ)
    run_gateway(
        args.host,
        args.port,
        args.state_dir or os.path.join(settings.home, "gateway"),
        users=settings.gateway_users,
        tokens=settings.gateway_tokens,
        faults_enabled=args.faults,
    )
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from api.embedded import embedded_stack

    with embedded_stack() as stack:
        settings = stack.app.extensions["flowexec"].settings
        server = make_server(args.host, args.port, stack.app, threaded=True)
        print(
            f"flowexec API on http://{args.host}:{server.server_port}  "
            f"(send Token-Code: {settings.token} and Token-User: <you>)",
            flush=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return EXIT_OK


def cmd_flow_register(args: argparse.Namespace) -> int:
    from api import create_app
    from flowexec import service

    doc, scripts = read_flow(args.file)
    app = create_app()
    with app.app_context():
        ref = service.register_flow(
            doc,
            scripts,
            flow_id=args.flow_id,
            version=args.version,
            name=args.name or Path(args.file).stem,
            user=getpass.getuser(),
        )
    print(
        json.dumps(
            {"flowId": ref.flow_id, "version": ref.version, "nodes": ref.nodes, "created": ref.created}
        )
    )
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    from api import create_app
    from api import migrations_dir

    app = create_app()
    with app.app_context():
        if args.action == "upgrade":
            upgrade(directory=migrations_dir(), revision=args.revision or "head")
        else:
            downgrade(directory=migrations_dir(), revision=args.revision or "-1")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from api import bench

    return bench.main(args)


def _non_negative(kind: Any) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < 0 or value != value:
            raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
        return value

    return parse


def _local_app() -> Any:
    """The app on FLOWEXEC_DATABASE_URL, or on the embedded SQLite in $FLOWEXEC_HOME (kept current)."""
    from api import create_app
    from api.embedded import upgrade_database

    app = create_app()
    if app.extensions["flowexec"].settings.database_url is None:
        upgrade_database(app)
    return app


def _task_id(text: str) -> int:
    from api.entrance import task_id_of

    return int(text) if text.isdigit() else task_id_of(text)


def _when(iso: str | None) -> str:
    return (iso or "")[:19].replace("T", " ")


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False))


def cmd_history(args: argparse.Namespace) -> int:
    from api.executions import summary_view
    from flowexec.service import reads as queries

    with _local_app().app_context():
        page = queries.list_executions(
            queries.ExecutionFilter(
                flow_id=args.flow_id, user=args.user, status=args.status, page_size=args.limit
            )
        )
        rows = [summary_view(r.task, r.execution) for r in page.rows]
    if args.json:
        _print_json(rows)
        return EXIT_OK
    table = Table(title=f"executions ({len(rows)} of {page.total}, newest first)")
    for column in ("taskID", "flow", "version", "strategy", "status", "user", "created", "duration"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = STATE_STYLE.get(row["status"], "")
        duration = f"{row['durationSeconds']:.2f}s" if row["durationSeconds"] is not None else ""
        table.add_row(
            str(row["taskID"]),
            str(row["flowId"]),
            row["version"],
            row["strategy"],
            f"[{style}]{row['status']}[/]",
            row["user"] or "",
            _when(row["createdTime"]),
            duration,
        )
    Console().print(table)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from api.executions import detail_view
    from flowexec import service

    with _local_app().app_context():
        detail = detail_view(*service.execution_nodes(_task_id(args.exec_id)))
    if args.json:
        _print_json(detail)
        return EXIT_OK
    table = Table(
        title=f"{detail['execID']} (task {detail['taskID']}): flow {detail['flowId']} "
        f"{detail['version']} {detail['strategy']} by {detail['user']}: {detail['status']}"
    )
    for column in ("node", "status", "attempt", "linkis task", "started", "finished", "error"):
        table.add_column(column, overflow="fold")
    for node in detail["nodes"]:
        style = STATE_STYLE.get(node["status"], "")
        table.add_row(
            node["title"],
            f"[{style}]{node['status']}[/]",
            str(node["attempt"]),
            str(node["linkisTaskID"] or ""),
            _when(node["startedAt"]),
            _when(node["finishedAt"]),
            node["error"] or "",
        )
    Console().print(table)
    return EXIT_OK


def _node_of(nodes: Any, key: str) -> Any:
    for node in nodes:
        if key in (node.node_key, node.title):
            return node
    raise UsageError(f"no node {key!r} in this execution")


@contextmanager
def _node_linkis(exec_id: str, key: str) -> Iterator[tuple[Any, Any]]:
    """A node's row and a Linkis client as its user, or ``(node, None)`` if it has no job."""
    from api.embedded import running_gateway
    from flowexec import service
    from flowexec.linkis.client import LinkisClient

    app = _local_app()
    settings = app.extensions["flowexec"].settings
    with app.app_context():
        task, _, nodes = service.execution_nodes(_task_id(exec_id))
        node = _node_of(nodes, key)
    if not node.linkis_task_id:
        print(f"flowexec: node {node.title} has no Linkis job ({node.state})", file=sys.stderr)
        yield node, None
        return
    # The embedded gateway keeps its history in SQLite under $FLOWEXEC_HOME: start it just for this read.
    with running_gateway(settings) as local_url:
        url = settings.linkis_url or local_url
        assert url is not None  # running_gateway serves one whenever no Linkis URL is set
        with LinkisClient(
            url, token=settings.linkis_token, user=service.linkis_user(task, settings)
        ) as linkis:
            yield node, linkis


def cmd_logs(args: argparse.Namespace) -> int:
    from flowexec.linkis.port import JobRef

    with _node_linkis(args.exec_id, args.node) as (node, linkis):
        if linkis is None:
            return EXIT_OK
        ref = JobRef(node.linkis_exec_id or "", int(node.linkis_task_id))
        line = 1
        while True:
            page = linkis.log(ref, line, 1000)
            for text in page.lines:
                print(text)
            if not page.lines:
                return EXIT_OK
            line = page.next_line


def cmd_result(args: argparse.Namespace) -> int:
    from api.executions import read_results

    with _node_linkis(args.exec_id, args.node) as (node, linkis):
        sets = read_results(linkis, node.result_location) if linkis and node.result_location else []
    if args.json:
        print(json.dumps({"nodeID": node.node_key, "resultSets": sets}))
        return EXIT_OK
    console = Console()
    for result in sets:
        table = Table(title=result["path"])
        for column in result["columns"] or ["output"]:
            table.add_column(column)
        for row in result["rows"]:
            table.add_row(*["NULL" if cell is None else cell for cell in row])
        console.print(table)
    return EXIT_OK


def cmd_kill(args: argparse.Namespace) -> int:
    from flowexec import service
    from flowexec.actions import KillJob
    from workers import dispatch

    app = _local_app()
    settings = app.extensions["flowexec"].settings
    with app.app_context():
        task_id = _task_id(args.exec_id)
        actions = service.cancel_node(task_id, args.node) if args.node else service.cancel_execution(task_id)
        if settings.embedded:
            # No worker shares this process's memory broker: kill the Linkis jobs here, if one is reachable.
            for action in actions:
                if isinstance(action, KillJob) and action.task_id and settings.linkis_url:
                    _kill_now(app, action)
        else:
            dispatch.send(actions)
        task, _, _ = service.execution_nodes(task_id)
    _print_json({"taskID": task_id, "node": args.node, "status": task.status})
    return EXIT_OK


def _kill_now(app: Any, action: Any) -> None:
    from flowexec import service
    from flowexec.linkis.port import JobRef

    rt = app.extensions["flowexec"]
    rt.linkis_for(service.node_linkis_user(action.node_id, rt.settings)).kill(
        JobRef(action.exec_id, action.task_id)
    )


def cmd_watch(args: argparse.Namespace) -> int:
    from flowexec import service

    console = Console()
    with _local_app().app_context():
        task_id = _task_id(args.exec_id)
        if args.once:
            task, _, nodes = service.execution_nodes(task_id)
        else:
            task, nodes = watch(
                task_id, console, live=console.is_terminal, timeout=args.timeout or None, every=args.every
            )
    console.print(progress_table(task, nodes))
    if not args.once and task.status != RunState.SUCCEED.value:
        return EXIT_FAILED
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    from api.executions import graph_svg
    from flowexec import service

    with _local_app().app_context():
        picture = graph_svg(*service.execution_nodes(_task_id(args.exec_id)))
    if args.output in (None, "-"):
        sys.stdout.write(picture + "\n")
    else:
        Path(args.output).write_text(picture + "\n", encoding="utf-8")
    return EXIT_OK


def _add_history_commands(sub: Any) -> None:
    history = sub.add_parser("history", help="executions, newest first")
    history.add_argument("--flow-id", type=int)
    history.add_argument("--user")
    history.add_argument("--status", choices=[s.value for s in RunState])
    history.add_argument("--limit", type=int, default=50)
    history.add_argument("--json", action="store_true", help="print one JSON array")
    history.set_defaults(func=cmd_history)
    show = sub.add_parser("show", help="one execution and its nodes")
    show.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)
    logs = sub.add_parser("logs", help="a node's Linkis log")
    logs.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    logs.add_argument("node", metavar="NODE", help="node id (key) or title")
    logs.set_defaults(func=cmd_logs)
    result = sub.add_parser("result", help="a node's result sets (a SQL node's rows, a script's output)")
    result.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    result.add_argument("node", metavar="NODE", help="node id (key) or title")
    result.add_argument("--json", action="store_true", help="print one JSON object")
    result.set_defaults(func=cmd_result)
    kill = sub.add_parser("kill", help="kill an execution, or one node of it")
    kill.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    kill.add_argument("--node", metavar="KEY")
    kill.set_defaults(func=cmd_kill)
    live = sub.add_parser("watch", help="a live view of an execution's nodes until it ends")
    live.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    live.add_argument("--once", action="store_true", help="print one snapshot and return")
    live.add_argument(
        "--every",
        type=_non_negative(float),
        default=0.5,
        metavar="SECONDS",
        help="refresh period (default 0.5)",
    )
    live.add_argument(
        "--timeout",
        type=_non_negative(float),
        default=0.0,
        metavar="SECONDS",
        help="give up after this long, 0 for never",
    )
    live.set_defaults(func=cmd_watch)
    picture = sub.add_parser("graph", help="the flow graph as SVG, nodes coloured by state")
    picture.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    picture.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    picture.set_defaults(func=cmd_graph)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="flowexec", description="DSS flow execution on Celery")
    sub = top.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a flow file to completion in this process (embedded)")
    run.add_argument("flow")
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
        type=_non_negative(int),
        default=0,
        help="default retries of a failed node (a node's flowexec.retries wins)",
    )
    run.add_argument("--retry-delay", type=_non_negative(float), default=0.0, metavar="SECONDS")
    run.add_argument(
        "--timeout",
        type=_non_negative(float),
        default=0.0,
        metavar="SECONDS",
        help="default node timeout, 0 for none (a node's flowexec.timeout wins)",
    )
    run.set_defaults(func=cmd_run)
    gw = sub.add_parser("gateway", help="serve the local Linkis-compatible gateway")
    gw.add_argument("--host", default="127.0.0.1")
    gw.add_argument("--port", type=int, default=9001)
    gw.add_argument("--state-dir")
    gw.add_argument("--faults", action="store_true", help="enable fault injection (tests)")
    gw.set_defaults(func=cmd_gateway)
    serve = sub.add_parser("serve", help="the REST API on the embedded stack")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=cmd_serve)
    flow = sub.add_parser("flow", help="flow versions").add_subparsers(dest="flow_command", required=True)
    register = flow.add_parser("register", help="register a flow file as flowId/version")
    register.add_argument("file")
    register.add_argument("--flow-id", type=int)
    register.add_argument("--version")
    register.add_argument("--name")
    register.set_defaults(func=cmd_flow_register)
    database = sub.add_parser("db", help="database migrations")
    database.add_argument("action", choices=["upgrade", "downgrade"])
    database.add_argument("revision", nargs="?")
    database.set_defaults(func=cmd_db)
    _add_history_commands(sub)
    bench = sub.add_parser("bench", help="measure scheduling overhead on MariaDB + Redis + workers")
    from api.bench import add_arguments

    add_arguments(bench)
    bench.set_defaults(func=cmd_bench)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (UsageError, FlowexecError) as exc:
        message = exc.message if isinstance(exc, FlowexecError) else str(exc)
        print(f"flowexec: error: {message}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
