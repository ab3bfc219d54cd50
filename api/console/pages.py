"""The console's pages: executions, one execution, flows, one flow, operations."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import Response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from api.console import operations
from api.console.web import bp
from api.console.web import signed_in
from api.console.web import viewer
from api.http import auth
from api.http.entrance import owned_run
from api.http.envelope import Forbidden
from api.http.schemas import MAX_ID
from api.http.serializers import seconds
from flowexec import execid
from flowexec.errors import InvalidRequest
from flowexec.errors import NotAllowed
from flowexec.errors import NotFound
from flowexec.service import FAILURE_POLICIES
from flowexec.service import overview
from flowexec.service import reads
from flowexec.state import RunState
from flowexec.store.history import ExecutionRow
from workers.runtime import runtime

RANGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
STATUSES = [s.value for s in RunState]
PAGE_SIZE = 25
GRID_RUNS = 15


def _me() -> str:
    user = viewer()
    assert user is not None  # guarded by @signed_in
    return user


def _int_arg(name: str, default: int | None, top: int = MAX_ID) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) <= top:
        raise InvalidRequest(f"{name} must be a positive whole number, got {raw!r}")
    return int(raw)


def row_view(row: ExecutionRow) -> dict[str, Any]:
    task, execution = row.task, row.execution
    return {
        "task_id": task.id,
        "exec_id": execid.build(task.id, task.um_user or ""),
        "flow_id": execution.flow_id,
        "version": execution.version,
        "user": task.um_user,
        "strategy": execution.strategy,
        "status": task.status,
        "progress": round(100 * (task.progress or 0)),
        "settled": execution.settled_nodes,
        "total": execution.total_nodes,
        "created": task.created_time,
        "duration": seconds(execution.started_time, execution.finished_time),
    }


@bp.get("/")
def home() -> Response:
    return redirect(url_for("console.executions"))  # type: ignore[return-value]


@bp.get("/executions")
@signed_in
def executions() -> str:
    me = _me()
    who = request.args.get("user", "").strip() or None
    if not auth.is_admin(me):
        if who not in (None, me):
            raise Forbidden(f"user {me} may list only their own executions")
        who = me
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    span = request.args.get("range") or "all"
    if span != "all" and span not in RANGES:
        raise InvalidRequest(f"range must be one of all, {', '.join(RANGES)}, got {span!r}")
    page_no = _int_arg("page", 1, 100_000) or 1
    flow_id = _int_arg("flow", None)
    found = reads.list_executions(
        reads.ExecutionFilter(
            flow_id=flow_id,
            user=who,
            status=status,
            since=datetime.now() - RANGES[span] if span in RANGES else None,
            page=page_no,
            page_size=PAGE_SIZE,
        )
    )
    pages = max(1, -(-found.total // PAGE_SIZE))
    template = "console/_execution_rows.html" if request.args.get("partial") else "console/executions.html"
    return render_template(
        template,
        rows=[row_view(r) for r in found.rows],
        total=found.total,
        page=page_no,
        pages=pages,
        filters={
            "flow": flow_id or "",
            "user": who if auth.is_admin(me) else "",
            "status": status or "",
            "range": span,
        },
        statuses=STATUSES,
        ranges=["all", *RANGES],
    )


@bp.get("/executions/<int:task_id>")
@signed_in
def execution(task_id: int) -> str:
    if task_id > MAX_ID:
        raise NotFound(f"execution {task_id} not found")
    me = _me()
    run = owned_run(me, task_id)
    return render_template(
        "console/execution.html",
        run=run,
        execid=execid.build(task_id, run.task.um_user or ""),
        edges=_edges(run.execution.flow_id, run.execution.version, me),
    )


def _edges(flow_id: int, version: str | None, me: str) -> dict[str, list[str]]:
    """The whole flow's children by node (a node row lists only the children its run plans);
    none when the flow is gone or not the viewer's: the page then draws the rows' own links."""
    try:
        graph = overview.flow_graph(flow_id, version, me, auth.is_admin(me))[1]
    except (NotFound, NotAllowed):
        return {}
    return {key: list(children) for key, children in graph.children.items()}


@bp.get("/flows")
@signed_in
def flows() -> str:
    me = _me()
    page_no = _int_arg("page", 1, 100_000) or 1
    found, total = reads.list_flows(page_no, PAGE_SIZE)
    who = None if auth.is_admin(me) else me
    items = []
    for flow in found:
        newest = reads.flow_version(flow.flow_id, flow.latest_version)
        last = overview.last_run(flow.flow_id, who)
        items.append(
            {
                "flow": flow,
                "owner": newest.created_by if newest else None,
                "nodes": _node_count(newest.definition) if newest else 0,
                "last": row_view(last) if last else None,
            }
        )
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("console/flows.html", items=items, total=total, page=page_no, pages=pages)


def _node_count(definition: str) -> int:
    import json

    try:
        nodes = json.loads(definition).get("nodes")
    except (ValueError, AttributeError):
        return 0
    return len(nodes) if isinstance(nodes, list) else 0


@bp.get("/flows/<int:flow_id>")
@signed_in
def flow(flow_id: int) -> str:
    me = _me()
    if flow_id > MAX_ID:
        raise NotFound(f"flow {flow_id} is not registered")
    version = request.args.get("version") or None
    row, graph = overview.flow_graph(flow_id, version, me, auth.is_admin(me))
    nodes = [
        {"id": n.key, "title": n.title, "jobType": n.job_type, "children": list(graph.children[n.key])}
        for n in graph.nodes
    ]
    runs = overview.recent_runs(flow_id, None if auth.is_admin(me) else me, GRID_RUNS)
    return render_template(
        "console/flow.html",
        row=row,
        versions=reads.flow_versions(flow_id),
        nodes=nodes,
        runs=[{**row_view(r.row), "states": r.states} for r in reversed(runs)],
        policies=FAILURE_POLICIES,
    )


@bp.get("/operations")
@signed_in
def operations_page() -> str:
    settings = runtime().settings
    return render_template(
        "console/operations.html",
        report=operations.celery_report(),
        engines=overview.engine_use(settings),
        flower_url=f"{request.scheme}://{request.host.rsplit(':', 1)[0]}:5555/",
    )
