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


class ExecutionCodeField(fields.Field):
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
        if not isinstance(flow_id, int) or isinstance(flow_id, bool) or flow_id < 0:
            raise ValidationError("flowId must be a non-negative integer")
        version = value.get("version")
        if version is not None and not isinstance(version, str):
            raise ValidationError("version must be a string")
        return {"flowId": flow_id, "version": version or None}


class ExecuteSchema(Schema):
    """DSS's ``POST /dss/flow/entrance/execute`` body."""

    class Meta:
        unknown = EXCLUDE

    executeApplicationName = fields.String(load_default="flowexecution")
    requestApplicationName = fields.String(load_default="flowexecution")
    runType = fields.String(load_default="json")
    executionCode = ExecutionCodeField(required=True)
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
        variables = data.get("params", {}).get("variable")
        if variables is not None and not isinstance(variables, dict):
            raise ValidationError("params.variable must be an object", "params")

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

    flowId = fields.Integer(load_default=None, validate=validate.Range(min=0), strict=True)
    version = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    flow = fields.Dict(required=True)
    scripts = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class TaskQuerySchema(Schema):
    """``?taskID=`` of DSS's status and kill."""

    class Meta:
        unknown = EXCLUDE

    taskID = fields.Integer(load_default=None)
    labels = fields.String(load_default=None)


execute_schema = ExecuteSchema()
flow_register_schema = FlowRegisterSchema()
task_query_schema = TaskQuerySchema()
