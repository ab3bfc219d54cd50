"""Reply schemas: what each endpoint puts in the envelope's ``data`` (used for the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields

from flowexec.state import NodeState
from flowexec.state import RunState

RUN_STATES = [s.value for s in RunState]
NODE_STATES = [s.value for s in NodeState]


def _text(**kw: object) -> fields.String:
    return fields.String(allow_none=True, **kw)  # type: ignore[arg-type]


class ErrorData(Schema):
    """``data`` of an error reply: field messages or ``errorMsg``, depending on the error."""

    errors = fields.Raw(metadata={"description": "field name to messages (validation errors)"})
    errorMsg = fields.Dict(metadata={"description": "{errCode, desc} of a flowexec error"})


class ExecuteData(Schema):
    execID = fields.String(required=True)
    taskID = fields.Integer(required=True)


class StatusData(Schema):
    status = fields.String(required=True, metadata={"enum": RUN_STATES})
    execID = fields.String(required=True)
    logPath = _text()


class KillData(Schema):
    execID = fields.String(required=True)


class JobItem(Schema):
    """One node as DSS's canvas reads it; ``execID``/``taskID`` are its Linkis job's, once submitted."""

    nodeID = fields.String(required=True)
    info = _text(required=True)
    startTime = fields.Integer(required=True, metadata={"description": "epoch ms, 0 if never started"})
    nowTime = fields.Integer(required=True, metadata={"description": "epoch ms, 0 if never started"})
    execID = _text()
    taskID = fields.Integer(allow_none=True)


class ExecutionData(Schema):
    succeedJobs = fields.List(fields.Nested(JobItem), required=True)
    runningJobs = fields.List(fields.Nested(JobItem), required=True)
    failedJobs = fields.List(fields.Nested(JobItem), required=True)
    pendingJobs = fields.List(fields.Nested(JobItem), required=True)
    skippedJobs = fields.List(fields.Nested(JobItem), required=True)


class FlowLogData(Schema):
    log = fields.Raw(
        required=True,
        metadata={"description": "[error, warn, info, all] with distinctLevel=true, else one string"},
    )
    execID = fields.String(required=True)
    fromLine = fields.Integer(required=True)


class ProgressData(Schema):
    progress = fields.Float(required=True)
    execID = fields.String(required=True)
    progressInfo = fields.List(fields.Dict(), required=True)


class FlowRefData(Schema):
    flowId = fields.Integer(required=True)
    version = fields.String(required=True)
    name = _text()
    nodes = fields.Integer(required=True)
    created = fields.Boolean(required=True)


class FlowSummary(Schema):
    flowId = fields.Integer(required=True)
    name = _text()
    latestVersion = fields.String(required=True)
    versions = fields.Integer(required=True)
    updatedTime = fields.String(required=True)


class FlowListData(Schema):
    flows = fields.List(fields.Nested(FlowSummary), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pageSize = fields.Integer(required=True)


class FlowVersionItem(Schema):
    version = fields.String(required=True)
    name = _text()
    createdBy = _text()
    createdTime = fields.String(required=True)
    contentHash = fields.String(required=True)
    sourcePath = _text()


class FlowVersionsData(Schema):
    flowId = fields.Integer(required=True)
    versions = fields.List(fields.Nested(FlowVersionItem), required=True)


class ExecutionSummary(Schema):
    taskID = fields.Integer(required=True)
    execID = fields.String(required=True)
    flowId = fields.Integer(required=True)
    version = fields.String(required=True)
    strategy = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": RUN_STATES})
    progress = fields.Float(allow_none=True)
    user = _text(required=True)
    submitUser = _text(required=True)
    createdTime = _text(required=True)
    finishedTime = _text(required=True)
    durationSeconds = fields.Float(allow_none=True, required=True)


class ExecutionListData(Schema):
    executions = fields.List(fields.Nested(ExecutionSummary), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pageSize = fields.Integer(required=True)


class NodeView(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    jobType = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": NODE_STATES})
    attempt = fields.Integer(required=True)
    linkisExecID = _text(required=True)
    linkisTaskID = fields.Integer(allow_none=True, required=True)
    startedAt = _text(required=True)
    finishedAt = _text(required=True)
    durationSeconds = fields.Float(allow_none=True, required=True)
    error = _text(required=True)
    logPath = _text(required=True)
    resultLocation = _text(required=True)
    children = fields.List(fields.String(), required=True)


class ExecutionDetailData(ExecutionSummary):
    failurePolicy = fields.String(required=True)
    nodeIDs = fields.List(fields.String(), required=True)
    errCode = fields.Integer(allow_none=True, required=True)
    errDesc = _text(required=True)
    logPath = _text(required=True)
    source = fields.Dict(required=True)
    nodes = fields.List(fields.Nested(NodeView), required=True)


class NodeLogData(Schema):
    taskID = fields.Integer(required=True)
    nodeID = fields.String(required=True)
    fromLine = fields.Integer(required=True)
    nextLine = fields.Integer(required=True)
    lines = fields.List(fields.String(), required=True)
    logPath = _text(required=True)


class ResultSet(Schema):
    path = fields.String(required=True)
    type = fields.String(required=True, metadata={"description": "Linkis result type: 1 TEXT, 2 TABLE"})
    columns = fields.List(fields.String(), required=True)
    rows = fields.List(fields.List(fields.String(allow_none=True)), required=True)
    page = fields.Integer(required=True)
    more = fields.Boolean(required=True, metadata={"description": "a full page: ask for the next one"})


class NodeResultData(Schema):
    taskID = fields.Integer(required=True)
    nodeID = fields.String(required=True)
    resultLocation = _text(required=True)
    resultSets = fields.List(fields.Nested(ResultSet), required=True)


class KillResultData(Schema):
    taskID = fields.Integer(required=True)
    nodeID = _text()
    status = fields.String(required=True, metadata={"enum": RUN_STATES})


class HealthData(Schema):
    database = fields.String(required=True)
    schema_ = fields.String(required=True, data_key="schema")
    broker = fields.String(required=True)
    revision = fields.String(required=True, metadata={"description": "the database's migration revision"})
    head = fields.String(required=True, metadata={"description": "the migration head this code expects"})
