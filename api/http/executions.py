"""Native API under ``/api/v1``: flows, execution history and detail, node logs, kill, graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint
from flask import Response
from flask import request
from marshmallow import ValidationError

from api.http import auth
from api.http import replies
from api.http.entrance import json_body
from api.http.entrance import owned_run
from api.http.entrance import owned_task
from api.http.envelope import Forbidden
from api.http.envelope import reply
from api.http.openapi import operation
from api.http.schemas import MAX_ID
from api.http.schemas import execution_list_query_schema
from api.http.schemas import flow_register_schema
from api.http.schemas import node_log_query_schema
from api.http.schemas import node_result_query_schema
from api.http.schemas import page_query_schema
from api.http.serializers import detail_view
from api.http.serializers import graph_svg
from api.http.serializers import iso
from api.http.serializers import read_results
from api.http.serializers import summary_view
from flowexec import service
from flowexec.errors import LinkisUnavailable
from flowexec.errors import NotFound
from flowexec.linkis.port import JobRef
from flowexec.service import reads
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask
from workers import dispatch
from workers.runtime import runtime

bp = Blueprint("native", __name__, url_prefix="/api/v1")
FLOWS, EXECUTIONS = ("flows",), ("executions",)


def _task_id(task_id: int) -> int:
    if task_id > MAX_ID:
        raise NotFound(f"execution {task_id} not found")
    return task_id


@bp.post("/flows")
@operation(
    "Register a flow version (201 when new, 200 when the same content exists)",
    tags=FLOWS,
    data=replies.FlowRefData,
    body=flow_register_schema,
    ok=201,
    also={200: "already registered"},
    errors=(400, 401, 403),
)
def register_flow() -> Response:
    """Register a flow version so that DSS's ``{flowId, version}`` resolves."""
    user = auth.current_user()
    body = flow_register_schema.load(json_body())
    ref = service.register_flow(
        body["flow"],
        body["scripts"],
        flow_id=body["flowId"],
        version=body["version"],
        name=body["name"],
        user=user,
        admin=auth.is_admin(user),
        limits=runtime().settings.flow_limits,
    )
    return reply(
        {
            "flowId": ref.flow_id,
            "version": ref.version,
            "name": ref.name,
            "nodes": ref.nodes,
            "created": ref.created,
        },
        http=201 if ref.created else 200,
    )


@bp.get("/flows")
@operation(
    "Registered flows with their newest version",
    tags=FLOWS,
    data=replies.FlowListData,
    query=page_query_schema,
    errors=(400, 401),
)
def list_flows() -> Response:
    auth.current_user()
    query = page_query_schema.load(request.args)
    flows, total = reads.list_flows(query["page"], query["pageSize"])
    return reply(
        {
            "flows": [
                {
                    "flowId": f.flow_id,
                    "name": f.name,
                    "latestVersion": f.latest_version,
                    "versions": f.versions,
                    "updatedTime": iso(f.updated_time),
                }
                for f in flows
            ],
            "total": total,
            "page": query["page"],
            "pageSize": query["pageSize"],
        }
    )


@bp.get("/flows/<int:flow_id>/versions")
@operation("Versions of a flow, newest first", tags=FLOWS, data=replies.FlowVersionsData, errors=(401, 404))
def flow_versions(flow_id: int) -> Response:
    auth.current_user()
    versions = reads.flow_versions(flow_id) if flow_id <= MAX_ID else []
    if not versions:
        raise NotFound(f"flow {flow_id} is not registered")
    return reply(
        {
            "flowId": flow_id,
            "versions": [
                {
                    "version": v.version,
                    "name": v.name,
                    "createdBy": v.created_by,
                    "createdTime": iso(v.created_time),
                    "contentHash": v.content_hash,
                    "sourcePath": v.source_path,
                }
                for v in versions
            ],
        }
    )


@bp.get("/executions")
@operation(
    "Execution history, newest first (yours; an admin's: everyone's)",
    tags=EXECUTIONS,
    data=replies.ExecutionListData,
    query=execution_list_query_schema,
)
def list_executions() -> Response:
    user = auth.current_user()
    query = execution_list_query_schema.load(request.args)
    who = query["user"]
    if not auth.is_admin(user):
        if who not in (None, user):
            raise Forbidden(f"user {user} may list only their own executions")
        who = user
    page = reads.list_executions(
        reads.ExecutionFilter(
            flow_id=query["flowId"],
            user=who,
            status=query["status"],
            since=query["since"],
            until=query["until"],
            page=query["page"],
            page_size=query["pageSize"],
        )
    )
    return reply(
        {
            "executions": [summary_view(r.task, r.execution) for r in page.rows],
            "total": page.total,
            "page": query["page"],
            "pageSize": query["pageSize"],
        }
    )


@bp.get("/executions/<int:task_id>")
@operation("One execution with all its nodes", tags=EXECUTIONS, data=replies.ExecutionDetailData)
def execution_detail(task_id: int) -> Response:
    user = auth.current_user()
    return reply(detail_view(*owned_task(user, _task_id(task_id))))


def _node(nodes: Sequence[NodeRun], node_key: str, task_id: int) -> NodeRun:
    for node in nodes:
        if node.node_key == node_key:
            return node
    raise NotFound(f"execution {task_id} has no node {node_key!r}")


@bp.get("/executions/<int:task_id>/nodes/<node_key>/log")
@operation(
    "A page of a node's Linkis log, by line (first line 1)",
    tags=EXECUTIONS,
    data=replies.NodeLogData,
    query=node_log_query_schema,
)
def node_log(task_id: int, node_key: str) -> Response:
    """Read through the Linkis client as the node's Linkis user; no job yet means no lines."""
    user = auth.current_user()
    query = node_log_query_schema.load(request.args)
    task, _, nodes = owned_task(user, _task_id(task_id))
    node = _node(nodes, node_key, task_id)
    lines: tuple[str, ...] = ()
    next_line = query["fromLine"]
    if node.linkis_task_id:
        page = _linkis_of(task).log(
            JobRef(node.linkis_exec_id or "", int(node.linkis_task_id)), query["fromLine"], query["size"]
        )
        lines, next_line = page.lines, page.next_line
    return reply(
        {
            "taskID": task.id,
            "nodeID": node.node_key,
            "fromLine": query["fromLine"],
            "nextLine": next_line,
            "lines": list(lines),
            "logPath": node.log_path,
        }
    )


@bp.get("/executions/<int:task_id>/nodes/<node_key>/result")
@operation(
    "A page of a node's result sets, read from Linkis (a SQL node's rows, a script's output)",
    tags=EXECUTIONS,
    data=replies.NodeResultData,
    query=node_result_query_schema,
)
def node_result(task_id: int, node_key: str) -> Response:
    """One page of every result set of the node's finished job, in set order; none before the job ends."""
    user = auth.current_user()
    query = node_result_query_schema.load(request.args)
    limit = runtime().settings.max_page_size
    if query["pageSize"] > limit:
        raise ValidationError(f"must be at most {limit} (FLOWEXEC_MAX_PAGE_SIZE)", "pageSize")
    task, _, nodes = owned_task(user, _task_id(task_id))
    node = _node(nodes, node_key, task_id)
    sets: list[dict[str, Any]] = []
    if node.result_location and node.linkis_task_id:
        sets = read_results(_linkis_of(task), node.result_location, query["page"], query["pageSize"])
    return reply(
        {
            "taskID": task.id,
            "nodeID": node.node_key,
            "resultLocation": node.result_location,
            "resultSets": sets,
        }
    )


def _linkis_of(task: WorkflowTask) -> Any:
    """The Linkis client of the user an execution's jobs run as (it also reads result sets)."""
    rt = runtime()
    if not rt.settings.linkis_url:
        raise LinkisUnavailable("no Linkis gateway is configured (FLOWEXEC_LINKIS_URL)")
    return rt.linkis_for(service.linkis_user(task, rt.settings))


@bp.post("/executions/<int:task_id>/kill")
@operation(
    "Kill an execution: unstarted nodes cancelled, running jobs killed",
    tags=EXECUTIONS,
    data=replies.KillResultData,
)
def kill_execution(task_id: int) -> Response:
    user = auth.current_user()
    owned_run(user, _task_id(task_id))
    dispatch.send(service.cancel_execution(task_id, by=user))
    status = reads.task(task_id).status
    return reply({"taskID": task_id, "nodeID": None, "status": status}, "Successfully killed the job")


@bp.post("/executions/<int:task_id>/nodes/<node_key>/kill")
@operation(
    "Kill one node; the failure policy decides what follows", tags=EXECUTIONS, data=replies.KillResultData
)
def kill_node(task_id: int, node_key: str) -> Response:
    user = auth.current_user()
    _, _, nodes = owned_task(user, _task_id(task_id))
    _node(nodes, node_key, task_id)
    dispatch.send(service.cancel_node(task_id, node_key, by=user))
    status = reads.task(task_id).status
    return reply({"taskID": task_id, "nodeID": node_key, "status": status}, "Successfully killed the node")


@bp.get("/executions/<int:task_id>/graph.svg")
@operation("The flow graph as SVG, nodes coloured by state", tags=EXECUTIONS, content="image/svg+xml")
def graph(task_id: int) -> Response:
    user = auth.current_user()
    return Response(graph_svg(*owned_task(user, _task_id(task_id))), mimetype="image/svg+xml")
