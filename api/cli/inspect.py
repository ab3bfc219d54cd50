"""Reading executions: ``flowexec history``, ``show``, ``logs``, ``result``, ``watch`` and ``graph``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from api.cli.common import EXIT_FAILED
from api.cli.common import EXIT_OK
from api.cli.common import STATE_STYLE
from api.cli.common import UsageError
from api.cli.common import abbreviate
from api.cli.common import local_app
from api.cli.common import non_negative
from api.cli.common import print_json
from api.cli.common import task_id
from api.cli.live import progress_table
from api.cli.live import watch
from flowexec.state import RunState


def _when(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def _clock(iso: str | None) -> str:
    return (iso or "")[11:19]


def cmd_history(args: argparse.Namespace) -> int:
    from api.http.serializers import summary_view
    from flowexec.service import reads

    with local_app().app_context():
        page = reads.list_executions(
            reads.ExecutionFilter(
                flow_id=args.flow_id, user=args.user, status=args.status, page_size=args.limit
            )
        )
        rows = [summary_view(r.task, r.execution) for r in page.rows]
    if args.json:
        print_json(rows)
        return EXIT_OK
    table = history_table(rows, page.total)
    Console().print(table)
    return EXIT_OK


def history_table(rows: list[dict[str, Any]], total: int) -> Table:
    """One line per execution, fitting 80 columns (the strategy and full times are in --json)."""
    cells = [
        (
            str(row["taskID"]),
            str(row["flowId"]),
            row["version"],
            row["status"],
            row["user"] or "",
            _when(row["createdTime"]),
            f"{row['durationSeconds']:.2f}s" if row["durationSeconds"] is not None else "",
        )
        for row in rows
    ]
    table = Table(
        title=f"executions ({len(rows)} of {total}, newest first)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for i, column in enumerate(("taskID", "flow", "version", "status", "user", "created", "duration")):
        widest = max([len(column), *(len(c[i]) for c in cells)])
        if column == "user":  # the one column that gives way
            table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=12)
        else:
            table.add_column(
                column, no_wrap=True, min_width=widest, justify="right" if i in (0, 1, 6) else "left"
            )
    for cell in cells:
        style = STATE_STYLE.get(cell[3], "")
        table.add_row(*cell[:3], f"[{style}]{cell[3]}[/]", *cell[4:])
    return table


def cmd_show(args: argparse.Namespace) -> int:
    from api.http.serializers import detail_view
    from flowexec import service

    with local_app().app_context():
        detail = detail_view(*service.execution_nodes(task_id(args.exec_id)))
    if args.json:
        print_json(detail)
        return EXIT_OK
    table = Table(
        title=f"{abbreviate(detail['execID'])} (task {detail['taskID']}): flow {detail['flowId']} "
        f"{detail['version']} {detail['strategy']} by {detail['user']}: {detail['status']}",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("node", overflow="ellipsis", max_width=20)
    table.add_column("status", no_wrap=True)
    table.add_column("try", no_wrap=True, justify="right")
    table.add_column("linkis", no_wrap=True, overflow="ellipsis", max_width=10)
    table.add_column("started", no_wrap=True)
    table.add_column("finished", no_wrap=True)
    table.add_column("error", overflow="ellipsis", ratio=1)
    for node in detail["nodes"]:
        style = STATE_STYLE.get(node["status"], "")
        table.add_row(
            node["title"],
            f"[{style}]{node['status']}[/]",
            str(node["attempt"]),
            str(node["linkisTaskID"] or ""),
            _clock(node["startedAt"]),
            _clock(node["finishedAt"]),
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

    app = local_app()
    settings = app.extensions["flowexec"].settings
    with app.app_context():
        task, _, nodes = service.execution_nodes(task_id(exec_id))
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
    from api.http.serializers import read_results

    with _node_linkis(args.exec_id, args.node) as (node, linkis):
        location = node.result_location
        sets = read_results(linkis, location, args.page, args.page_size) if linkis and location else []
    if args.json:
        print(json.dumps({"nodeID": node.node_key, "resultSets": sets}))
        return EXIT_OK
    console = Console()
    for result in sets:
        table = Table(title=result["path"], title_justify="left")
        for column in result["columns"] or ["output"]:
            table.add_column(column, overflow="fold")
        for row in result["rows"]:
            table.add_row(*["NULL" if cell is None else cell for cell in row])
        console.print(table)
    return EXIT_OK


def _page_arg(top: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if not 1 <= value <= top:
            raise argparse.ArgumentTypeError(f"must be between 1 and {top}")
        return value

    return parse


def cmd_watch(args: argparse.Namespace) -> int:
    from flowexec import service

    console = Console()
    with local_app().app_context():
        tid = task_id(args.exec_id)
        if args.once:
            task, _, nodes = service.execution_nodes(tid)
        else:
            task, nodes = watch(
                tid, console, live=console.is_terminal, timeout=args.timeout or None, every=args.every
            )
    console.print(progress_table(task, nodes))
    if not args.once and task.status != RunState.SUCCEED.value:
        return EXIT_FAILED
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    from api.http.serializers import graph_svg
    from flowexec import service

    with local_app().app_context():
        picture = graph_svg(*service.execution_nodes(task_id(args.exec_id)))
    if args.output in (None, "-"):
        sys.stdout.write(picture + "\n")
    else:
        Path(args.output).write_text(picture + "\n", encoding="utf-8")
    return EXIT_OK


def add_reading_parsers(sub: Any) -> None:
    history = sub.add_parser("history", help="executions, newest first")
    history.add_argument("--flow-id", type=int, help="only this flow's executions")
    history.add_argument("--user", help="only this user's executions")
    history.add_argument(
        "--status", choices=[s.value for s in RunState], help="only executions in this state"
    )
    history.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    history.add_argument("--json", action="store_true", help="print one JSON array")
    history.set_defaults(func=cmd_history)
    show = sub.add_parser("show", help="one execution and its nodes")
    show.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    show.add_argument("--json", action="store_true", help="print one JSON object (full ids)")
    show.set_defaults(func=cmd_show)
    logs = sub.add_parser("logs", help="a node's Linkis log")
    logs.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    logs.add_argument("node", metavar="NODE", help="node id (key) or title")
    logs.set_defaults(func=cmd_logs)
    result = sub.add_parser("result", help="a node's result sets (a SQL node's rows, a script's output)")
    result.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    result.add_argument("node", metavar="NODE", help="node id (key) or title")
    result.add_argument("--json", action="store_true", help="print one JSON object")
    result.add_argument(
        "--page", type=_page_arg(1_000_000), default=1, help="page of each result set (from 1)"
    )
    result.add_argument("--page-size", type=_page_arg(5000), default=1000, help="rows a page (at most 5000)")
    result.set_defaults(func=cmd_result)


def add_watching_parsers(sub: Any) -> None:
    live = sub.add_parser("watch", help="a live view of an execution's nodes until it ends")
    live.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    live.add_argument("--once", action="store_true", help="print one snapshot and return")
    live.add_argument(
        "--every",
        type=non_negative(float),
        default=0.5,
        metavar="SECONDS",
        help="refresh period (default 0.5)",
    )
    live.add_argument(
        "--timeout",
        type=non_negative(float),
        default=0.0,
        metavar="SECONDS",
        help="give up after this long, 0 for never",
    )
    live.set_defaults(func=cmd_watch)
    picture = sub.add_parser("graph", help="the flow graph as SVG, nodes coloured by state")
    picture.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    picture.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    picture.set_defaults(func=cmd_graph)
