"""DSS's FlowExecution REST routes under ``/api/rest_j/v1/dss/flow/entrance``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from flask import Blueprint
from flask import Response
from flask import request
from marshmallow import Schema
from marshmallow import ValidationError

from api.dss import workflow as dss
from api.http import auth
from api.http import replies
from api.http.envelope import reply
from api.http.openapi import operation
from api.http.schemas import execute_schema
from api.http.schemas import flow_log_query_schema
from api.http.schemas import labels_query_schema
from api.http.schemas import task_query_schema
from api.http.serializers import job_item
from api.http.serializers import listed_state
from flowexec import execid
from flowexec import flowlog
from flowexec import service
from flowexec.errors import InvalidRequest
from flowexec.errors import NotFound
from flowexec.limits import MAX_JSON_DEPTH
from flowexec.limits import json_depth_exceeds
from flowexec.service import reads
from flowexec.skip import ExecuteStrategy
from flowexec.state import RUN_TERMINAL
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.store.models import Execution
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask
from workers import dispatch
from workers.runtime import runtime

bp = Blueprint("entrance", __name__, url_prefix="/api/rest_j/v1/dss/flow/entrance")
TAGS = ("DSS entrance",)


def json_body() -> Any:
    """The request's JSON body; anything else is a validation error naming ``body``."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ValidationError(f"request body nests deeper than {MAX_JSON_DEPTH} levels", "body") from None
    if body is None:
        raise ValidationError("request body must be a JSON object", "body")
    if json_depth_exceeds(body):
        raise ValidationError(f"request body nests deeper than {MAX_JSON_DEPTH} levels", "body")
    return body


def _node_ids(text: Any) -> frozenset[str]:
    return frozenset(i.strip() for i in str(text or "").split(",") if i.strip())


def _strategy(body: dict[str, Any], params: dict[str, Any]) -> tuple[ExecuteStrategy, frozenset[str]]:
    """Rerun wins over selected (as in DSS); ``params.executeStrategy`` may ask for from/to a node."""
    if body["rerun"]:
        return ExecuteStrategy.RERUN_FAILED, frozenset()
    if body["selected"]:
        return ExecuteStrategy.SELECTED, _node_ids(body["nodeID"])
    if params.get("executeStrategy") in (ExecuteStrategy.FROM_NODE.value, ExecuteStrategy.TO_NODE.value):
        return ExecuteStrategy(params["executeStrategy"]), _node_ids(params.get("nodeID"))
    return ExecuteStrategy.EXECUTE, frozenset()


@bp.post("/execute")
@operation("Execute a flow version (DSS's body)", tags=TAGS, data=replies.ExecuteData, body=execute_schema)
def execute() -> Response:
    """Plan and persist an execution, then dispatch its first nodes (after commit)."""
    user = auth.current_user()
    body = execute_schema.load(json_body())
    params: dict[str, Any] = dict(body["params"])
    strategy, node_ids = _strategy(body, params)
    code = body["executionCode"]
    settings = runtime().settings
    if settings.dss_mode:  # dropped into a DSS: its workspace cookies, its flows (README "Drop into DSS")
        params["workspace"] = dss.workspace(request, settings)
        route = str(body["labels"].get("route") or "dev")
        dss.ensure_flow(settings, code["flowId"], code["version"], request.cookies, route, user)
    submitted, actions = service.submit_execution(
        service.ExecutionRequest(
            flow_id=code["flowId"],
            version=code["version"],
            user=user,
            strategy=strategy,
            node_ids=node_ids,
            failure_policy=body["failurePolicy"] or params.get("failurePolicy") or "fail_fast",
            variables=params.get("variable") or {},
            params=params,
            labels=body["labels"],
            source=body["source"],
            submit_user=user,
            rerun_all_if_none=True,
            idempotency_key=idempotency_key(),
        ),
        settings,
    )
    dispatch.send_or_defer(actions)
    return reply({"execID": submitted.exec_id, "taskID": submitted.task_id})


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` header: a retried execute returns the first execution."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 128 or not key.isprintable():
        raise InvalidRequest("Idempotency-Key must be 1 to 128 printable characters")
    return key


def owned_task(user: str, task_id: int) -> tuple[WorkflowTask, Execution, Sequence[NodeRun]]:
    """Load an execution the caller may see, with its nodes: their own, or any for an admin."""
    task, execution, nodes = service.execution_nodes(task_id)
    auth.check_owner(user, task.um_user)
    return task, execution, nodes


def owned_run(user: str, task_id: int) -> reads.RunView:
    """An execution the caller may see, without its nodes (one row each of task and counters)."""
    run = reads.execution(task_id)
    auth.check_owner(user, run.task.um_user)
    return run


def _asked(exec_id: str, schema: Schema) -> tuple[str, dict[str, Any], int]:
    """Who asks (401 first), then the query string, then the taskID the execID names."""
    user = auth.current_user()
    query = schema.load(request.args)
    tid = execid.task_id_of(exec_id)
    if query.get("taskID") is not None and query["taskID"] != tid:
        raise NotFound(f"execution {exec_id!r} has no task {query['taskID']}")
    return user, query, tid


def _entrance_run(exec_id: str, schema: Schema) -> tuple[dict[str, Any], reads.RunView]:
    """The checks of ``_asked``, then the execution the caller may see."""
    user, query, tid = _asked(exec_id, schema)
    return query, owned_run(user, tid)


def _entrance_status(exec_id: str) -> Any:
    """The checks of ``_asked``, then the one row ``status`` shows (owner checked)."""
    user, _, tid = _asked(exec_id, task_query_schema)
    row = reads.status(tid)
    auth.check_owner(user, row.um_user)
    return row


@bp.get("/<path:exec_id>/status")
@operation("State of a flow execution", tags=TAGS, data=replies.StatusData, query=task_query_schema)
def status(exec_id: str) -> Response:
    task = _entrance_status(exec_id)
    state = task.status
    if state == RunState.SCHEDULED.value and runtime().settings.dss_shared_tables:
        state = RunState.RUNNING.value  # the row waits at Scheduled for DSS's sweeper; the run is live
    return reply({"status": state, "execID": exec_id, "logPath": task.log_path})


@bp.get("/<path:exec_id>/kill")
@operation(
    "Kill a flow execution (its running nodes are killed in Linkis)",
    tags=TAGS,
    data=replies.KillData,
    query=task_query_schema,
)
def kill(exec_id: str) -> Response:
    """GET, as DSS's web calls it; the native ``/api/v1`` kill takes POST only."""
    task = _entrance_run(exec_id, task_query_schema)[1].task
    dispatch.send(service.cancel_execution(task.id, by=auth.current_user()))
    return reply({"execID": exec_id}, "Successfully killed the job(成功kill了job)")


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
@operation(
    "Node lists of a flow execution (DSS's canvas colours)",
    tags=TAGS,
    data=replies.ExecutionData,
    query=labels_query_schema,
)
def execution(exec_id: str) -> Response:
    """Node lists in DSS's key order (the web client's last list wins)."""
    _, run = _entrance_run(exec_id, labels_query_schema)
    nodes = reads.nodes(run.task.id)
    now_ms = int(time.time() * 1000)
    data: dict[str, list[dict[str, Any]]] = {
        name: [] for name in ("succeedJobs", "runningJobs", "failedJobs", "pendingJobs", "skippedJobs")
    }
    for node in nodes:
        state = listed_state(node)
        item = job_item(node, now_ms)
        if state is NodeState.SKIPPED:
            data["pendingJobs"].append(item)
            data["skippedJobs"].append(item)
        else:
            data[LIST_OF_STATE[state]].append(item)
    return reply(data, "Successfully get job execution info")


@bp.get("/<path:exec_id>/log")
@operation(
    "The flow log (Linkis's cursor: fromLine from 0, size -1 for all)",
    tags=TAGS,
    data=replies.FlowLogData,
    query=flow_log_query_schema,
)
def flow_log(exec_id: str) -> Response:
    query, run = _entrance_run(exec_id, flow_log_query_schema)
    task, nodes = run.task, reads.nodes(run.task.id)
    log, next_line = flowlog.page(
        service.flow_log_lines(task, nodes), query["fromLine"], query["size"], query["distinctLevel"]
    )
    return reply({"log": log, "execID": exec_id, "fromLine": next_line})


@bp.get("/<path:exec_id>/progress")
@operation(
    "Flow progress: share of settled nodes, 1.0 at the end",
    tags=TAGS,
    data=replies.ProgressData,
    query=task_query_schema,
)
def progress(exec_id: str) -> Response:
    _, run = _entrance_run(exec_id, task_query_schema)
    task, execution_row, nodes = run.task, run.execution, reads.nodes(run.task.id)
    done = RunState(task.status) in RUN_TERMINAL
    total = execution_row.total_nodes or 0
    share = 1.0 if done else (execution_row.settled_nodes / total if total else 0.0)
    counts = {"succeedTasks": 0, "failedTasks": 0, "runningTasks": 0}
    for node in nodes:
        name = {
            "succeedJobs": "succeedTasks",
            "failedJobs": "failedTasks",
            "runningJobs": "runningTasks",
        }.get(LIST_OF_STATE.get(listed_state(node), ""))
        if name:
            counts[name] += 1
    info = [{"id": exec_id, **counts, "totalTasks": total}]
    return reply({"progress": round(share, 4), "execID": exec_id, "progressInfo": info})
