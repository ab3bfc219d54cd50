"""Native API under ``/api/v1``: flows and executions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response

from api import auth
from api.entrance import json_body
from api.envelope import reply
from api.schemas import flow_register_schema
from flowexec import service

bp = Blueprint("native", __name__, url_prefix="/api/v1")


@bp.post("/flows")
def register_flow() -> Response:
    """Register a flow version so that DSS's ``{flowId, version}`` resolves."""
    user = auth.current_user()
    body = flow_register_schema.load(json_body())
    ref = service.register_flow(
        body["flow"], body["scripts"], flow_id=body["flowId"], version=body["version"],
        name=body["name"], user=user,
    )
    return reply({"flowId": ref.flow_id, "version": ref.version, "name": ref.name,
                  "nodes": ref.nodes, "created": ref.created}, http=201 if ref.created else 200)


def node_view(node: Any) -> dict[str, Any]:
    return {
        "id": node.node_key, "title": node.title, "jobType": node.job_type, "status": node.state,
        "attempt": node.attempt, "linkisExecID": node.linkis_exec_id, "linkisTaskID": node.linkis_task_id,
        "startedAt": node.started_at.isoformat() if node.started_at else None,
        "finishedAt": node.finished_at.isoformat() if node.finished_at else None,
        "error": node.error, "logPath": node.log_path, "resultLocation": node.result_location,
    }


@bp.get("/executions/<int:task_id>")
def execution_detail(task_id: int) -> Response:
    user = auth.current_user()
    task, execution, nodes = service.execution_nodes(task_id)
    auth.check_owner(user, task.um_user)
    return reply({
        "taskID": task.id, "execID": service.exec_id_for(task.id, task.um_user or ""),
        "flowId": execution.flow_id, "version": execution.version, "strategy": execution.strategy,
        "failurePolicy": execution.failure_policy, "status": task.status, "progress": task.progress,
        "user": task.um_user, "createdTime": task.created_time.isoformat() if task.created_time else None,
        "finishedTime": execution.finished_time.isoformat() if execution.finished_time else None,
        "errDesc": task.err_desc, "nodes": [node_view(n) for n in nodes],
    })
