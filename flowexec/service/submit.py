"""Start an execution: plan it and persist its task, counters and node rows in one transaction."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flowexec import execid
from flowexec import planner
from flowexec.actions import Action
from flowexec.config import Settings
from flowexec.errors import InvalidRequest
from flowexec.errors import NotFound
from flowexec.graph import Flow
from flowexec.graph import NodeKind
from flowexec.policy import FailurePolicy
from flowexec.service import completion
from flowexec.service import flowlogs
from flowexec.service.common import now
from flowexec.service.common import run_actions
from flowexec.service.flows import load_flow
from flowexec.skip import ExecuteStrategy
from flowexec.skip import StrategyArgs
from flowexec.skip import skipped_nodes
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.store import projections
from flowexec.store import repository as repo
from flowexec.store import submits as rows
from flowexec.store.db import in_transaction
from flowexec.store.flows import VersionRow
from flowexec.variables import flow_variables
from flowexec.variables import render

APPLICATION = execid.APPLICATION


@dataclass(frozen=True)
class ExecutionRequest:
    """What a caller asks for: DSS's execute body, decoded."""

    flow_id: int
    version: str | None
    user: str
    strategy: ExecuteStrategy = ExecuteStrategy.EXECUTE
    node_ids: frozenset[str] = frozenset()
    rerun_of: int | None = None
    failure_policy: FailurePolicy | str = FailurePolicy.FAIL_FAST
    variables: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, Any] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict)
    submit_user: str | None = None
    limits: planner.NodeLimits = planner.NodeLimits()
    max_parallel: int = 0
    #: DSS's ``isReExecute``: with no failed execution of the version, every node runs (the
    #: CLI's ``--rerun-failed`` says there is nothing to rerun instead).
    rerun_all_if_none: bool = False
    #: A client's ``Idempotency-Key``: the same key of the same user returns the first execution.
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Submitted:
    task_id: int
    exec_id: str
    status: RunState


def submit_execution(request: ExecutionRequest, settings: Settings) -> tuple[Submitted, list[Action]]:
    """Plan an execution, persist its task and node rows in one transaction.

    With an idempotency key already used by this user, nothing is written: the first
    execution is returned, with no actions (it was dispatched when it started).
    """
    try:
        return _submit(request, settings)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its execution.
        if request.idempotency_key is None:
            raise
        first = in_transaction(lambda session: _first_of_key(session, request), attempts=1)
        if first is None:
            raise
        return first, []


def _first_of_key(session: Session, request: ExecutionRequest) -> Submitted | None:
    assert request.idempotency_key is not None
    task_id = repo.idempotent_task(session, request.user, request.idempotency_key)
    if task_id is None:
        return None
    task = repo.get_task(session, task_id)
    return Submitted(task_id, execid.build(task_id, request.user), RunState(task.status))


def _submit(request: ExecutionRequest, settings: Settings) -> tuple[Submitted, list[Action]]:
    policy = FailurePolicy.parse(request.failure_policy)

    def work(session: Session) -> tuple[Submitted, list[Action]]:
        at = now()
        if request.idempotency_key is not None:
            first = _first_of_key(session, request)
            if first is not None:
                return first, []
        version_row, flow = load_flow(
            session,
            request.flow_id,
            request.version,
            request.user,
            request.user in settings.admins,
            settings.flow_limits,
        )
        args = StrategyArgs(request.strategy, _strategy_ids(session, request, version_row.version))
        plans = planner.plan_nodes(flow, skipped_nodes(flow, args))
        task = _insert_task(session, request, version_row, at, settings)
        task_id = task["id"]
        if request.idempotency_key is not None:
            repo.insert_idempotency_key(session, request.user, request.idempotency_key, task_id, at)
        skipped = sum(1 for p in plans if p.state is NodeState.SKIPPED)
        execution = {
            "task_id": task_id,
            "flow_id": version_row.flow_id,
            "version": version_row.version,
            "strategy": args.strategy.value,
            "node_ids": ",".join(sorted(args.node_ids)) or None,
            "failure_policy": policy.value,
            "total_nodes": len(plans),
            "settled_nodes": skipped,
            "failed_nodes": 0,
            "cancel_requested": False,
            "started_time": at,
            "max_parallel": request.max_parallel,
        }
        nodes = _node_rows(task_id, flow, plans, request, at, settings.max_code_chars)
        writes = [
            rows.name_task(task_id, task["exec_id"], task["log_path"]),
            rows.insert_execution(execution),
        ]
        # Where a node is queued, the execution is complete once written: it commits with them.
        queued_any = any(node["state"] == NodeState.QUEUED.value for node in nodes)
        if queued_any:
            flowlogs.write_first_after_commit(session, task, nodes)  # submitted, accepted, scheduled
        roots = rows.write_execution(session, task_id, writes, nodes, commit=queued_any)
        actions: list[Action] = list(run_actions(roots))
        status = RunState(task["status"])
        if not roots:  # nothing to run: the execution ends now, and its whole log is written
            completion.finalize(session, repo.get_execution(session, task_id))
            status = RunState(repo.get_task(session, task_id).status)
        exec_id = execid.build(task_id, request.user, route=settings.route)
        return Submitted(task_id, exec_id, status), actions

    return in_transaction(work, attempts=1)


def _strategy_ids(session: Session, request: ExecutionRequest, version: str) -> frozenset[str]:
    """The node ids a strategy works from; for a rerun, what succeeded or was skipped before."""
    if request.strategy is not ExecuteStrategy.RERUN_FAILED:
        return request.node_ids
    if request.rerun_of is not None:
        return _done_in(session, request.flow_id, request.rerun_of)
    done = projections.rerun_done(session, request.flow_id, version)
    if done is None and request.rerun_all_if_none:
        return frozenset()
    if done is None:
        raise InvalidRequest(
            f"nothing to rerun: flow {request.flow_id} version {version} has no failed or cancelled execution"
        )
    return done


def _done_in(session: Session, flow_id: int, task_id: int) -> frozenset[str]:
    """Nodes that succeeded or were skipped in one given failed execution of this flow."""
    try:
        execution, task = repo.get_execution(session, task_id), repo.get_task(session, task_id)
    except NotFound:
        execution = None
    if execution is None or execution.flow_id != flow_id:
        raise InvalidRequest(f"nothing to rerun: execution {task_id} is not an execution of flow {flow_id}")
    if task.status not in (RunState.FAILED.value, RunState.CANCELLED.value, RunState.TIMEOUT.value):
        raise InvalidRequest(
            f"nothing to rerun: execution {task_id} is {task.status}, not failed or cancelled"
        )
    states = repo.node_states(session, task_id)
    return frozenset(k for k, s in states.items() if s in (NodeState.SUCCEED, NodeState.SKIPPED))


def _insert_task(
    session: Session, request: ExecutionRequest, version_row: VersionRow, at: datetime, settings: Settings
) -> dict[str, Any]:
    """Insert the run's ``dss_workflow_task`` row; return its values, ``id`` included."""
    params = dict(request.params)
    params["executeStrategy"] = request.strategy.value
    if request.node_ids:
        params["nodeID"] = ",".join(sorted(request.node_ids))
    params.setdefault("labels", {"route": request.labels.get("route", "dev")})
    params.setdefault("execByProxyUser", "false")
    labels = {
        "engineType": APPLICATION,
        "codeType": "json",
        "userCreator": f"{request.user}-{APPLICATION}",
        **{k: str(v) for k, v in request.labels.items()},
    }
    task: dict[str, Any] = {
        "instance": (settings.route.instance if settings.route else execid.instance_name())[:50],
        "um_user": request.user,
        "submit_user": request.submit_user or request.user,
        "execution_code": json.dumps({"flowId": request.flow_id, "version": version_row.version}),
        "progress": 0.0,
        # Beside dss-server >= 1.1.2 its sweeper fails every Inited/Running row it does not own:
        # the row waits at Scheduled (which it ignores) until the terminal status is written.
        "status": (RunState.SCHEDULED if settings.dss_shared_tables else RunState.INITED).value,
        # DSS's DATETIME columns hold whole seconds (MariaDB drops the rest): the same on every
        # database, and the same in the first flow log lines as in the file rewritten at the end.
        "created_time": at.replace(microsecond=0),
        "updated_time": at.replace(microsecond=0),
        "execute_application_name": APPLICATION,
        "request_application_name": APPLICATION,
        "script_path": json.dumps(dict(request.source))[:200],
        "params": json.dumps(params),
        "label_json": json.dumps(labels)[:200],
    }
    task_id = rows.insert_task(session, task)
    day = at.strftime("%Y-%m-%d")
    task.update(
        id=task_id,
        exec_id=execid.short_exec_id(task_id, request.user),
        # DSS's pattern: <log root>/log/<yyyy-MM-dd>/<creator>/<user>/<taskID>.log
        log_path=f"file://{settings.flow_log_root}/log/{day}/{APPLICATION}/{request.user}/{task_id}.log"[
            :200
        ],
    )
    return task


def _node_rows(
    task_id: int,
    flow: Flow,
    plans: Sequence[planner.NodePlan],
    request: ExecutionRequest,
    at: datetime,
    max_code: int,
) -> list[dict[str, Any]]:
    roots = set(planner.roots(plans))
    variables = flow_variables(flow.props, request.variables, at)
    rows = []
    for plan in plans:
        state = NodeState.QUEUED if plan.key in roots else plan.state
        limits = _limits(flow, plan.key, request.limits)
        rows.append(
            {
                "task_id": task_id,
                "node_key": plan.key,
                "title": plan.title[:128],
                "job_type": plan.job_type[:128],
                "kind": plan.kind.value,
                "state": state.value,
                "pending_parents": plan.pending_parents,
                "children": json.dumps(list(plan.children)),
                "spec": _node_spec(flow, plan, variables, request.variables, limits, max_code),
                "attempt": 0,
                "retries_left": limits.retries,
                "polls": 0,
                "queued_at": at if state is NodeState.QUEUED else None,
                "finished_at": at if state is NodeState.SKIPPED else None,
                "updated_at": at,
                "version": 0,
            }
        )
    return rows


def _limits(flow: Flow, key: str, defaults: planner.NodeLimits) -> planner.NodeLimits:
    try:
        return planner.node_limits(flow.node(key).configuration.get("special", {}), defaults)
    except ValueError as exc:
        raise InvalidRequest(f"node {key!r}: {exc}") from None


def _node_spec(
    flow: Flow,
    plan: planner.NodePlan,
    variables: Mapping[str, str],
    overrides: Mapping[str, Any],
    limits: planner.NodeLimits,
    max_code: int,
) -> str | None:
    node = flow.node(plan.key)
    if node.kind is not NodeKind.LINKIS or plan.state is NodeState.SKIPPED:
        return None
    # Node variables override the flow's; the request's overrides win over both (DSS 3.6).
    merged = {
        **variables,
        **{k: str(v) for k, v in node.variables.items()},
        **{str(k): str(v) for k, v in overrides.items()},
    }
    try:  # the code as it will be sent must fit: refuse now, not when the node runs
        render(node.code or "", merged, max_code)
    except InvalidRequest as exc:
        raise InvalidRequest(f"node {plan.key!r}: {exc.message}") from None
    return json.dumps(
        {
            "engine": node.engine,
            "runType": node.run_type,
            "code": node.code,
            "script": node.script,
            "bml": None if node.bml is None else dataclasses.asdict(node.bml),
            "scriptError": node.script_error,
            "configured": list(node.configured),
            "variables": merged,
            "configuration": node.configuration,
            "title": node.title,
            "timeout": limits.timeout,
            "retryDelay": limits.retry_delay,
        }
    )
