"""Rows to the JSON the API returns, shared by the HTTP routes and the ``flowexec`` command."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from typing import Protocol

from api.http import svg
from flowexec import execid
from flowexec import planner
from flowexec.linkis.schemas import ResultPage
from flowexec.state import NodeState
from flowexec.store.models import Execution
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask


class ResultReader(Protocol):
    """What reading a job's result sets needs of a Linkis client."""

    def result_files(self, result_location: str) -> list[str]: ...

    def open_file(self, path: str, page: int = 1, page_size: int = 5000) -> ResultPage: ...


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None:
        return None
    return round(((end or datetime.now()) - start).total_seconds(), 3)


def children(node: NodeRun) -> list[str]:
    """A node row's children keys (stored as a JSON list)."""
    keys: list[str] = json.loads(node.children or "[]")
    return keys


def summary_view(task: WorkflowTask, execution: Execution) -> dict[str, Any]:
    """One execution of the history."""
    return {
        "taskID": task.id,
        "execID": execid.build(task.id, task.um_user or ""),
        "flowId": execution.flow_id,
        "version": execution.version,
        "strategy": execution.strategy,
        "status": task.status,
        "progress": task.progress,
        "user": task.um_user,
        "submitUser": task.submit_user,
        "createdTime": iso(task.created_time),
        "finishedTime": iso(execution.finished_time),
        "durationSeconds": seconds(execution.started_time, execution.finished_time),
    }


def node_view(node: NodeRun) -> dict[str, Any]:
    return {
        "id": node.node_key,
        "title": node.title,
        "jobType": node.job_type,
        "status": node.state,
        "attempt": node.attempt,
        "linkisExecID": node.linkis_exec_id,
        "linkisTaskID": node.linkis_task_id,
        "startedAt": iso(node.started_at),
        "finishedAt": iso(node.finished_at),
        "durationSeconds": seconds(node.started_at, node.finished_at) if node.started_at else None,
        "error": node.error,
        "logPath": node.log_path,
        "resultLocation": node.result_location,
        "children": children(node),
    }


def _source(task: WorkflowTask) -> dict[str, Any]:
    try:
        value = json.loads(task.script_path or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def detail_view(task: WorkflowTask, execution: Execution, nodes: Sequence[NodeRun]) -> dict[str, Any]:
    """An execution with every node: state, attempts, Linkis ids, times, error, log location."""
    return {
        **summary_view(task, execution),
        "failurePolicy": execution.failure_policy,
        "nodeIDs": [k for k in (execution.node_ids or "").split(",") if k],
        "errCode": task.err_code,
        "errDesc": task.err_desc,
        "logPath": task.log_path,
        "source": _source(task),
        "nodes": [node_view(n) for n in nodes],
    }


INFO_TEXT = {
    NodeState.SUBMITTING: "node in scheduled",
    NodeState.RUNNING: "node in running",
    NodeState.SUCCEED: "node execute success",
    NodeState.FAILED: "node execute fail",
    NodeState.TIMEOUT: "node execute fail",
    NodeState.CANCELLED: "node has cancelled",
    NodeState.SKIPPED: "node has skipped",
}


def _ms(value: datetime | None) -> int:
    return int(value.timestamp() * 1000) if value is not None else 0


def listed_state(node: NodeRun) -> NodeState:
    """The node's state as DSS's lists show it (never started: pending, whatever ended the run)."""
    return planner.listed_state(NodeState(node.state), node.started_at is not None)


def job_item(node: NodeRun, now_ms: int) -> dict[str, Any]:
    """One node as DSS's canvas reads it."""
    state = listed_state(node)
    item: dict[str, Any] = {
        "nodeID": node.node_key,
        "info": INFO_TEXT.get(state),
        "startTime": _ms(node.started_at),
        "nowTime": 0
        if node.started_at is None
        else (now_ms if state is NodeState.RUNNING else _ms(node.finished_at or node.updated_at)),
    }
    if node.linkis_task_id is not None:
        item["execID"] = node.linkis_exec_id
        item["taskID"] = node.linkis_task_id
    return item


def read_results(
    linkis: ResultReader, location: str, page: int = 1, page_size: int = 1000
) -> list[dict[str, Any]]:
    """Read one page of every result set under a job's result location (never a whole set)."""
    out = []
    for path in linkis.result_files(location):
        rows = linkis.open_file(path, page, page_size)
        out.append(
            {
                "path": path,
                "type": rows.type,
                "columns": list(rows.columns),
                "rows": [list(row) for row in rows.rows],
                "page": page,
                "more": len(rows.rows) >= page_size,
            }
        )
    return out


def graph_nodes(nodes: Sequence[NodeRun]) -> list[svg.GraphNode]:
    return [svg.GraphNode(n.node_key, n.title, n.state, children(n)) for n in nodes]


def graph_svg(task: WorkflowTask, execution: Execution, nodes: Sequence[NodeRun]) -> str:
    """The SVG of an execution's graph, nodes coloured by state (the API's and ``flowexec graph``'s)."""
    caption = f"task {task.id}: flow {execution.flow_id} {execution.version} {task.status}"
    return svg.render(graph_nodes(nodes), caption)
