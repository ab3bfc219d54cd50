"""DSS's FlowExecution REST routes under ``/api/rest_j/v1/dss/flow/entrance``."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint
from flask import Response
from flask import request

from api import auth
from api.envelope import reply
from api.schemas import execute_schema
from api.schemas import task_query_schema
from flowexec import service
from flowexec.errors import NotFound
from flowexec.skip import ExecuteStrategy
from flowexec.state import NodeState
from flowexec.store.models import NodeRun
from workers import dispatch
from workers.runtime import runtime

bp = Blueprint("entrance", __name__, url_prefix="/api/rest_j/v1/dss/flow/entrance")


def json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        from marshmallow import ValidationError

        raise ValidationError("request body must be a JSON object", "body")
    return body


@bp.post("/execute")
def execute() -> Response:
    """Plan and persist an execution, then dispatch its first nodes (after commit)."""
    user = auth.current_user()
    body = execute_schema.load(json_body())
    params: dict[str, Any] = dict(body["params"])
    strategy, node_ids = ExecuteStrategy.EXECUTE, frozenset[str]()
    if body["rerun"]:
        strategy = ExecuteStrategy.RERUN_FAILED
    elif body["selected"]:
        strategy = ExecuteStrategy.SELECTED
        node_ids = frozenset(i.strip() for i in body["nodeID"].split(",") if i.strip())
    elif params.get("executeStrategy") in (ExecuteStrategy.FROM_NODE.value, ExecuteStrategy.TO_NODE.value):
        strategy = ExecuteStrategy(params["executeStrategy"])
        node_ids = frozenset(i.strip() for i in str(params.get("nodeID", "")).split(",") if i.strip())
    code = body["executionCode"]
    submitted, actions = service.submit_execution(
        service.ExecutionRequest(
            flow_id=code["flowId"], version=code["version"], user=user, strategy=strategy,
            node_ids=node_ids, failure_policy=body["failurePolicy"] or params.get("failurePolicy") or "fail_fast",
            variables=params.get("variable") or {}, params=params, labels=body["labels"],
            source=body["source"],
        ),
        runtime().settings,
    )
    dispatch.send(actions)
    return reply({"execID": submitted.exec_id, "taskID": submitted.task_id})


def _owned_task(exec_id: str, task_id: int | None) -> Any:
    user = auth.current_user()
    tid = service.task_id_of(exec_id)
    if task_id is not None and task_id != tid:
        raise NotFound(f"execution {exec_id!r} has no task {task_id}")
    task, execution, nodes = service.execution_nodes(tid)
    auth.check_owner(user, task.um_user)
    return task, execution, nodes


@bp.get("/<path:exec_id>/status")
def status(exec_id: str) -> Response:
    query = task_query_schema.load(request.args)
    task, _, _ = _owned_task(exec_id, query["taskID"])
    return reply({"status": task.status, "execID": exec_id, "logPath": task.log_path})


@bp.get("/<path:exec_id>/kill")
def kill(exec_id: str) -> Response:
    query = task_query_schema.load(request.args)
    task, _, _ = _owned_task(exec_id, query["taskID"])
    dispatch.send(service.cancel_execution(task.id))
    return reply({"execID": exec_id}, "Successfully killed the job(成功kill了job)")


INFO_TEXT = {
    NodeState.SUBMITTING: "node in scheduled",
    NodeState.RUNNING: "node in running",
    NodeState.SUCCEED: "node execute success",
    NodeState.FAILED: "node execute fail",
    NodeState.TIMEOUT: "node execute fail",
    NodeState.CANCELLED: "node has cancelled",
    NodeState.SKIPPED: "node has skipped",
}


def _ms(value: Any) -> int:
    return int(value.timestamp() * 1000) if value is not None else 0


def job_item(node: NodeRun, now_ms: int) -> dict[str, Any]:
    """One node as DSS's canvas reads it."""
    state = NodeState(node.state)
    item: dict[str, Any] = {
        "nodeID": node.node_key,
        "info": INFO_TEXT.get(state),
        "startTime": _ms(node.started_at),
        "nowTime": now_ms if state is NodeState.RUNNING else _ms(node.finished_at),
    }
    if node.linkis_task_id is not None:
        item["execID"] = node.linkis_exec_id
        item["taskID"] = node.linkis_task_id
    return item


LIST_OF_STATE = {
    NodeState.SUCCEED: "succeedJobs",
    NodeState.SUBMITTING: "runningJobs",
    NodeState.RUNNING: "runningJobs",
    NodeState.FAILED: "failedJobs",
    NodeState.CANCELLED: "failedJobs",
    NodeState.TIMEOUT: "failedJobs",
    NodeState.PENDING: "pendingJobs",
    NodeState.QUEUED: "pendingJobs",
}


@bp.get("/<path:exec_id>/execution")
def execution(exec_id: str) -> Response:
    """Node lists in DSS's key order (the web client's last list wins)."""
    _, _, nodes = _owned_task(exec_id, None)
    now_ms = int(time.time() * 1000)
    data: dict[str, list[dict[str, Any]]] = {
        name: [] for name in ("succeedJobs", "runningJobs", "failedJobs", "pendingJobs", "skippedJobs")
    }
    for node in nodes:
        state = NodeState(node.state)
        item = job_item(node, now_ms)
        if state is NodeState.SKIPPED:
            data["pendingJobs"].append(item)
            data["skippedJobs"].append(item)
        else:
            data[LIST_OF_STATE[state]].append(item)
    return reply(data, "Successfully get job execution info")
