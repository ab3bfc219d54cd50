"""Request schemas, module-level instances (marshmallow)."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validate
from marshmallow import validates_schema

from flowexec.service import FAILURE_POLICIES
from flowexec.skip import ExecuteStrategy
from flowexec.state import RunState

#: Largest id a BIGINT column holds; anything above is not found, not a database error.
MAX_ID = 2**63 - 1


class ExecutionCodeField(fields.Field[dict[str, Any]]):
    """DSS sends ``executionCode`` as a JSON string ``{"flowId": N, "version": "v..."}``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"not JSON: {exc.msg}") from None
        if not isinstance(value, dict):
            raise ValidationError('must be {"flowId": N, "version": "v..."}')
        flow_id = value.get("flowId")
        if isinstance(flow_id, str) and flow_id.isdigit():
            flow_id = int(flow_id)
        if not isinstance(flow_id, int) or isinstance(flow_id, bool) or not 0 <= flow_id <= MAX_ID:
            raise ValidationError("flowId must be a non-negative integer (BIGINT)")
        version = value.get("version")
        if version is not None and (not isinstance(version, str) or len(version) > 200):
            raise ValidationError("version must be a string of at most 200 characters")
        return {"flowId": flow_id, "version": version or None}


STRATEGIES = [s.value for s in ExecuteStrategy]
#: DSS's ``dss_workflow_task.params`` is a TEXT (64 KiB), with room for what flowexec adds.
MAX_PARAMS_BYTES = 60_000


def _check_params(params: dict[str, Any]) -> None:
    """``params.variable`` is name to scalar; ``params.executeStrategy`` one DSS knows (or from/to)."""
    variables = params.get("variable")
    if variables is not None and not isinstance(variables, dict):
        raise ValidationError("params.variable must be an object", "params")
    for name, value in (variables or {}).items():
        if not isinstance(value, str | int | float | bool) or value != value:
            raise ValidationError(f"params.variable.{name} must be a string or number", "params")
    strategy = params.get("executeStrategy")
    if strategy is not None and strategy not in STRATEGIES:
        raise ValidationError(
            f"params.executeStrategy: unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}", "params"
        )
    if strategy in ("fromNode", "toNode") and not str(params.get("nodeID") or "").strip():
        raise ValidationError(f"params.nodeID: {strategy} needs a node id", "params")
    policy = params.get("failurePolicy")
    if policy is not None and policy not in FAILURE_POLICIES:
        raise ValidationError(f"params.failurePolicy: one of {', '.join(FAILURE_POLICIES)}", "params")
    size = len(json.dumps(params, default=str).encode())
    if size > MAX_PARAMS_BYTES:  # DSS's params column is a TEXT
        raise ValidationError(f"params is {size} bytes as JSON; at most {MAX_PARAMS_BYTES}", "params")


class ExecuteSchema(Schema):
    """DSS's ``POST /dss/flow/entrance/execute`` body."""

    class Meta:
        unknown = EXCLUDE

    executeApplicationName = fields.String(load_default="flowexecution")
    requestApplicationName = fields.String(load_default="flowexecution")
    runType = fields.String(load_default="json")
    executionCode = ExecutionCodeField(
        required=True,
        metadata={
            "type": "string",
            "description": 'JSON text {"flowId": N, "version": "v..."} (an object is accepted too)',
            "example": '{"flowId":1,"version":"v000001"}',
        },
    )
    params = fields.Dict(keys=fields.String(), load_default=dict)
    labels = fields.Dict(keys=fields.String(), load_default=dict)
    source = fields.Dict(keys=fields.String(), load_default=dict)
    isReExecute = fields.Raw(load_default=None)
    isSelectedExecute = fields.Raw(load_default=None)
    nodeID = fields.String(load_default=None)
    failurePolicy = fields.String(load_default=None, validate=validate.OneOf(FAILURE_POLICIES))

    @validates_schema(pass_original=True)
    def _selection(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        if isinstance(original, dict) and "isSelectedExecute" in original and "isReExecute" not in original:
            if not (data.get("nodeID") or "").strip():
                raise ValidationError("selected execute needs nodeID (comma-separated node ids)", "nodeID")
        _check_params(data.get("params", {}))

    @post_load(pass_original=True)
    def _flags(self, data: dict[str, Any], original: Any, **_: Any) -> dict[str, Any]:
        original = original if isinstance(original, dict) else {}
        data["rerun"] = "isReExecute" in original
        data["selected"] = "isSelectedExecute" in original and not data["rerun"]
        return data


class FlowRegisterSchema(Schema):
    """Native ``POST /api/v1/flows``: a flow JSON, its scripts, and optional id/version."""

    class Meta:
        unknown = EXCLUDE

    flowId = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID), strict=True)
    version = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    flow = fields.Dict(required=True)
    scripts = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class TaskQuerySchema(Schema):
    """``?taskID=`` of DSS's status and kill."""

    class Meta:
        unknown = EXCLUDE

    taskID = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID))
    labels = fields.String(load_default=None)


class LabelsQuerySchema(Schema):
    """``?labels=`` of DSS's execution view (the route; not used by flowexec)."""

    class Meta:
        unknown = EXCLUDE

    labels = fields.String(load_default=None)


class FlowLogQuerySchema(Schema):
    """Linkis's ``/{execID}/log`` cursor."""

    class Meta:
        unknown = EXCLUDE

    fromLine = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))
    size = fields.Integer(load_default=100, validate=validate.Range(min=-1, max=100_000))
    distinctLevel = fields.Boolean(load_default=True)
    taskID = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID))


class PageQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    pageSize = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


class ExecutionListQuerySchema(PageQuerySchema):
    """Filters of the history: flow, user, status, creation time range; newest first."""

    flowId = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID))
    user = fields.String(load_default=None, validate=validate.Length(min=1, max=50))
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in RunState]))
    since = fields.DateTime(load_default=None, metadata={"description": "created at or after (ISO 8601)"})
    until = fields.DateTime(load_default=None, metadata={"description": "created before (ISO 8601)"})

    @post_load
    def _local_times(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # Rows hold naive local times (as DSS writes them); compare like with like.
        for key in ("since", "until"):
            if data.get(key) is not None and data[key].tzinfo is not None:
                data[key] = data[key].astimezone().replace(tzinfo=None)
        return data


class NodeLogQuerySchema(Schema):
    """A page of a node's log, by line (the first line is 1)."""

    class Meta:
        unknown = EXCLUDE

    fromLine = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**9))
    size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=10_000))


class NodeResultQuerySchema(Schema):
    """A page of each of a node's result sets (the first page is 1); at most 5000 rows a page."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    pageSize = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000))


execute_schema = ExecuteSchema()
flow_register_schema = FlowRegisterSchema()
task_query_schema = TaskQuerySchema()
labels_query_schema = LabelsQuerySchema()
flow_log_query_schema = FlowLogQuerySchema()
page_query_schema = PageQuerySchema()
execution_list_query_schema = ExecutionListQuerySchema()
node_log_query_schema = NodeLogQuerySchema()
node_result_query_schema = NodeResultQuerySchema()
