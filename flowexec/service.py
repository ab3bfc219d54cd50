"""Use cases: load, plan, persist in one transaction, and return the actions to dispatch.

Every function that changes state commits before it returns its actions: a message sent
before the commit could reach a worker before the rows it names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import TypeVar

from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from flowexec import logcontext
from flowexec import planner
from flowexec.config import Settings
from flowexec.errors import InvalidRequest
from flowexec.errors import LinkisError
from flowexec.errors import LinkisUnavailable
from flowexec.errors import NotFound
from flowexec.graph import Flow
from flowexec.graph import NodeKind
from flowexec.graph import parse_flow
from flowexec.linkis.port import DEFAULT_ENGINE_VERSIONS
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import Linkis
from flowexec.linkis.port import engine_type
from flowexec.planner import Action
from flowexec.planner import AdoptNode
from flowexec.planner import KillJob
from flowexec.planner import PollNode
from flowexec.planner import RunNodes
from flowexec.signals import Change
from flowexec.signals import Transitions
from flowexec.signals import node_transitioned
from flowexec.skip import ExecuteStrategy
from flowexec.skip import StrategyArgs
from flowexec.skip import skipped_nodes
from flowexec.state import NODE_ACTIVE
from flowexec.state import NODE_FAILED
from flowexec.state import NODE_UNSTARTED
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.state import run_transition
from flowexec.store import repository as repo
from flowexec.store.db import db
from flowexec.store.models import Execution
from flowexec.store.models import FlowVersion
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowExecuteInfo
from flowexec.store.models import WorkflowTask

log = logging.getLogger(__name__)
T = TypeVar("T")

APPLICATION = "flowexecution"
FAILURE_POLICIES = ("fail_fast", "continue", "finish_running")
LINKIS_OUTCOMES = {
    "Succeed": NodeState.SUCCEED,
    "Failed": NodeState.FAILED,
    "Cancelled": NodeState.CANCELLED,
    "Timeout": NodeState.TIMEOUT,
}


def now() -> datetime:
    return datetime.now()


def _session() -> Session:
    return db.session  # type: ignore[return-value]  # a scoped_session proxies a Session


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit on success, roll back on any error."""
    session = _session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _retryable(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "args", [None])[0]
    return code in (1213, 1205) or "database is locked" in str(exc.orig)


def in_transaction(work: Callable[[Session], T], attempts: int = 5) -> T:
    """Run ``work`` in a transaction, again from the start after a deadlock or lock timeout."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction() as session:
                return work(session)
        except OperationalError as exc:
            if attempt == attempts or not _retryable(exc):
                raise
            log.warning("transaction retried attempt=%s error=%s", attempt, exc.orig)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- flows


@dataclass(frozen=True)
class FlowRef:
    flow_id: int
    version: str
    name: str | None
    nodes: int
    created: bool


def content_hash(definition: Any, scripts: Mapping[str, str]) -> str:
    blob = json.dumps({"flow": definition, "scripts": dict(scripts)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def register_flow(
    definition: Any,
    scripts: Mapping[str, str],
    *,
    flow_id: int | None = None,
    version: str | None = None,
    name: str | None = None,
    user: str | None = None,
    source_path: str | None = None,
) -> FlowRef:
    """Validate and store a flow version; registering the same content again is a no-op."""
    flow = parse_flow(definition, scripts)
    digest = content_hash(definition, scripts)

    def work(session: Session) -> FlowRef:
        fid = flow_id if flow_id is not None else _flow_id_for(session, source_path, digest)
        existing = _find_version(session, fid, version, digest)
        if existing is not None:
            if existing.content_hash != digest:
                raise InvalidRequest(
                    f"flow {fid} version {existing.version} is already registered with other content"
                )
            return FlowRef(fid, existing.version, existing.name, len(flow.nodes), False)
        ver = version or _next_version(session, fid)
        session.add(
            FlowVersion(
                flow_id=fid,
                version=ver,
                name=name,
                definition=json.dumps(definition),
                scripts=json.dumps(dict(scripts)),
                content_hash=digest,
                source_path=source_path,
                created_by=user,
                created_time=now(),
            )
        )
        return FlowRef(fid, ver, name, len(flow.nodes), True)

    return in_transaction(work)


def _flow_id_for(session: Session, source_path: str | None, digest: str) -> int:
    if source_path:
        found = session.execute(
            select(FlowVersion.flow_id).where(FlowVersion.source_path == source_path).limit(1)
        ).scalar_one_or_none()
        if found is not None:
            return int(found)
    top = session.execute(select(func.max(FlowVersion.flow_id))).scalar_one_or_none()
    return int(top or 0) + 1


def _find_version(session: Session, fid: int, version: str | None, digest: str) -> FlowVersion | None:
    query = select(FlowVersion).where(FlowVersion.flow_id == fid)
    if version is not None:
        query = query.where(FlowVersion.version == version)
    else:
        query = query.where(FlowVersion.content_hash == digest)
    return session.execute(query.limit(1)).scalar_one_or_none()


def _next_version(session: Session, fid: int) -> str:
    count = session.execute(
        select(func.count()).select_from(FlowVersion).where(FlowVersion.flow_id == fid)
    ).scalar_one()
    return f"v{int(count) + 1:06d}"


def load_flow(session: Session, flow_id: int, version: str | None) -> tuple[FlowVersion, Flow]:
    """Return a registered version (the newest when ``version`` is None) and its parsed DAG."""
    query = select(FlowVersion).where(FlowVersion.flow_id == flow_id)
    if version:
        query = query.where(FlowVersion.version == version)
    row = session.execute(query.order_by(FlowVersion.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        what = f"flow {flow_id}" + (f" version {version}" if version else "")
        raise NotFound(f"{what} is not registered")
    return row, parse_flow(json.loads(row.definition), json.loads(row.scripts), _resolver(session))


def _resolver(session: Session) -> Callable[[str], tuple[Any, Mapping[str, str]] | None]:
    """Find a subflow's child flow among the registered ones (its newest version)."""

    def resolve(embedded_flow_id: str) -> tuple[Any, Mapping[str, str]] | None:
        if not str(embedded_flow_id).isdigit():
            return None
        row = session.execute(
            select(FlowVersion)
            .where(FlowVersion.flow_id == int(embedded_flow_id))
            .order_by(FlowVersion.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return (json.loads(row.definition), json.loads(row.scripts)) if row else None

    return resolve


# ------------------------------------------------------------------------ submit


@dataclass(frozen=True)
class ExecutionRequest:
    """What a caller asks for: DSS's execute body, decoded."""

    flow_id: int
    version: str | None
    user: str
    strategy: ExecuteStrategy = ExecuteStrategy.EXECUTE
    node_ids: frozenset[str] = frozenset()
    rerun_of: int | None = None
    failure_policy: str = "fail_fast"
    variables: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, Any] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict)
    submit_user: str | None = None
    limits: planner.NodeLimits = planner.NodeLimits()
    max_parallel: int = 0


@dataclass(frozen=True)
class Submitted:
    task_id: int
    exec_id: str
    status: RunState


def instance_name() -> str:
    return socket.gethostname()[:40] or "flowexec"


def exec_id_for(task_id: int, user: str) -> str:
    """Return a DSS-shaped execID: lengths, application, instance, scheduler id with taskID."""
    instance = instance_name()
    return f"exec_id{len(APPLICATION):03d}{len(instance):03d}{APPLICATION}{instance}{short_exec_id(task_id, user)}"


def short_exec_id(task_id: int, user: str) -> str:
    candidate = f"{APPLICATION}_{user}_{APPLICATION}_{task_id}"
    return candidate if len(candidate) <= 50 else f"{APPLICATION}_{task_id}"


def task_id_of(exec_id: str) -> int:
    """Return the taskID an execID ends with; a malformed execID is a clean NotFound."""
    match = re.search(r"_(\d+)$", exec_id)
    if not match or not exec_id.startswith("exec_id") or int(match.group(1)) >= 2**63:
        raise NotFound(f"execution {exec_id!r} not found")
    return int(match.group(1))


def submit_execution(request: ExecutionRequest, settings: Settings) -> tuple[Submitted, list[Action]]:
    """Plan an execution, persist its task, info and node rows in one transaction."""
    if request.failure_policy not in FAILURE_POLICIES:
        raise InvalidRequest(
            f"unknown failure policy {request.failure_policy!r}; one of {', '.join(FAILURE_POLICIES)}"
        )

    def work(session: Session) -> tuple[Submitted, list[Action]]:
        version_row, flow = load_flow(session, request.flow_id, request.version)
        args = StrategyArgs(request.strategy, _strategy_ids(session, request))
        plans = planner.plan_nodes(flow, skipped_nodes(flow, args))
        task = _insert_task(session, request, version_row)
        _insert_execution(session, task, version_row, request, args, plans)
        roots = _insert_nodes(session, task.id, flow, plans, request, settings)
        _start_info(session, task.id, version_row, plans, set(planner.roots(plans)))
        actions: list[Action] = list(run_actions(roots))
        if not roots:
            _finalize(session, repo.lock_execution(session, task.id))
        return Submitted(task.id, exec_id_for(task.id, request.user), RunState(task.status)), actions

    return in_transaction(work, attempts=1)


def _strategy_ids(session: Session, request: ExecutionRequest) -> frozenset[str]:
    """The node ids a strategy works from; for a rerun, what succeeded or was skipped before."""
    if request.strategy is not ExecuteStrategy.RERUN_FAILED:
        return request.node_ids
    if request.rerun_of is not None:
        return _done_in(session, request.flow_id, request.rerun_of)
    query = select(WorkflowExecuteInfo).where(
        WorkflowExecuteInfo.flow_id == request.flow_id, WorkflowExecuteInfo.status == 0
    )
    info = session.execute(query.order_by(WorkflowExecuteInfo.id.desc()).limit(1)).scalar_one_or_none()
    if info is None:
        raise InvalidRequest(f"nothing to rerun: flow {request.flow_id} has no failed or cancelled execution")
    done = f"{info.succeed_jobs or ''},{info.skipped_jobs or ''}"
    return frozenset(k for k in done.split(",") if k)


def _done_in(session: Session, flow_id: int, task_id: int) -> frozenset[str]:
    """Nodes that succeeded or were skipped in one given failed execution of this flow."""
    execution = session.get(Execution, task_id)
    task = session.get(WorkflowTask, task_id)
    if execution is None or task is None or execution.flow_id != flow_id:
        raise InvalidRequest(f"nothing to rerun: execution {task_id} is not an execution of flow {flow_id}")
    if task.status not in (RunState.FAILED.value, RunState.CANCELLED.value, RunState.TIMEOUT.value):
        raise InvalidRequest(
            f"nothing to rerun: execution {task_id} is {task.status}, not failed or cancelled"
        )
    rows = repo.all_nodes(session, task_id)
    return frozenset(
        r.node_key for r in rows if r.state in (NodeState.SUCCEED.value, NodeState.SKIPPED.value)
    )


def _insert_task(session: Session, request: ExecutionRequest, version_row: FlowVersion) -> WorkflowTask:
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
    task = WorkflowTask(
        instance=instance_name(),
        um_user=request.user,
        submit_user=request.submit_user or request.user,
        execution_code=json.dumps({"flowId": request.flow_id, "version": version_row.version}),
        progress=0.0,
        status=RunState.INITED.value,
        created_time=now(),
        updated_time=now(),
        execute_application_name=APPLICATION,
        request_application_name=APPLICATION,
        script_path=json.dumps(dict(request.source))[:200],
        params=json.dumps(params),
        label_json=json.dumps(labels)[:200],
    )
    session.add(task)
    session.flush()
    task.exec_id = short_exec_id(task.id, request.user)
    day = task.created_time.strftime("%Y-%m-%d") if task.created_time else ""
    task.log_path = f"file:///flowexec/log/{day}/{APPLICATION}/{request.user}/{task.id}.log"[:200]
    return task


def _insert_execution(
    session: Session,
    task: WorkflowTask,
    version_row: FlowVersion,
    request: ExecutionRequest,
    args: StrategyArgs,
    plans: Sequence[planner.NodePlan],
) -> None:
    skipped = sum(1 for p in plans if p.state is NodeState.SKIPPED)
    session.add(
        Execution(
            task_id=task.id,
            flow_id=version_row.flow_id,
            version=version_row.version,
            strategy=args.strategy.value,
            node_ids=",".join(sorted(args.node_ids)) or None,
            failure_policy=request.failure_policy,
            total_nodes=len(plans),
            settled_nodes=skipped,
            failed_nodes=0,
            cancel_requested=False,
            started_time=now(),
            max_parallel=request.max_parallel,
        )
    )
    session.flush()


def _insert_nodes(
    session: Session,
    task_id: int,
    flow: Flow,
    plans: Sequence[planner.NodePlan],
    request: ExecutionRequest,
    settings: Settings,
) -> list[NodeRun]:
    at = now()
    roots = set(planner.roots(plans))
    variables = planner.flow_variables(flow.props, request.variables, at.date())
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
                "spec": _node_spec(flow, plan, variables, request.variables, limits),
                "attempt": 0,
                "retries_left": limits.retries,
                "polls": 0,
                "queued_at": at if state is NodeState.QUEUED else None,
                "finished_at": at if state is NodeState.SKIPPED else None,
                "updated_at": at,
                "version": 0,
            }
        )
    session.execute(insert(NodeRun), rows)
    return list(repo.nodes_in(session, task_id, [NodeState.QUEUED]))


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
    return json.dumps(
        {
            "engine": node.engine,
            "runType": node.run_type,
            "code": node.code,
            "script": node.script,
            "variables": merged,
            "configuration": node.configuration,
            "title": node.title,
            "timeout": limits.timeout,
            "retryDelay": limits.retry_delay,
        }
    )


def _start_info(
    session: Session,
    task_id: int,
    version_row: FlowVersion,
    plans: Sequence[planner.NodePlan],
    roots: set[str],
) -> None:
    """Point the version's execute_info row at this execution, with its initial lists."""
    states = {p.key: (NodeState.QUEUED if p.key in roots else p.state) for p in plans}
    lists = planner.info_lists(states)
    info = repo.latest_info(session, version_row.flow_id, version_row.version, lock=True)
    if info is None:
        info = WorkflowExecuteInfo(
            flow_id=version_row.flow_id, version=version_row.version, createtime=now(), task_id=task_id
        )
        session.add(info)
    info.task_id = task_id
    info.status = None
    info.updatetime = now()
    _write_lists(info, lists)


def _write_lists(info: WorkflowExecuteInfo, lists: Mapping[str, str]) -> None:
    for column, value in lists.items():
        setattr(info, column, value)


# ------------------------------------------------------------------ node steps


@dataclass(frozen=True)
class Claimed:
    """A node this delivery owns, ready to submit; ``None`` spec for control nodes."""

    node_id: int
    task_id: int
    attempt: int
    spec: JobSpec | None


def _emit(
    session: Session, execution: Execution | _Counters, changes: Sequence[Change], task_written: bool = False
) -> None:
    if changes:
        node_transitioned.send(
            session,
            batch=Transitions(
                task_id=execution.task_id,
                flow_id=execution.flow_id,
                version=execution.version,
                settled=execution.settled_nodes,
                total=execution.total_nodes,
                changes=tuple(changes),
                task_written=task_written,
            ),
        )


def _lock_node(session: Session, node_id: int) -> tuple[NodeRun, Execution]:
    """Lock the node's execution, then read the node: its state is current under the lock."""
    task_id = session.execute(select(NodeRun.task_id).where(NodeRun.id == node_id)).scalar_one_or_none()
    if task_id is None:
        raise NotFound(f"node run {node_id} not found")
    execution = repo.lock_execution(session, task_id)
    node = repo.get_node(session, node_id)
    logcontext.bind(task_id, node.node_key)
    return node, execution


# Control nodes' steps run these prebuilt Core statements: building a statement costs more
# Python than the round trip it makes.
_NODES = NodeRun.__table__
_EXECUTIONS = Execution.__table__
_CONTROL_DONE = (
    update(_NODES)
    .where(
        _NODES.c.id == bindparam("node_id"),
        _NODES.c.state == NodeState.QUEUED.value,
        _NODES.c.kind != NodeKind.LINKIS.value,
    )
    .values(
        state=NodeState.SUCCEED.value,
        version=_NODES.c.version + 2,
        attempt=_NODES.c.attempt + 1,
        started_at=bindparam("at"),
        finished_at=bindparam("at"),
        updated_at=bindparam("at"),
        parked=False,
    )
)
#: The claimed node (its row already locked by ``_CONTROL_DONE``) and its execution's counters,
#: whose row this locks.
_LOCK_COUNTERS = (
    select(
        _NODES.c.task_id,
        _NODES.c.node_key,
        _NODES.c.children,
        _EXECUTIONS.c.flow_id,
        _EXECUTIONS.c.version,
        _EXECUTIONS.c.total_nodes,
        _EXECUTIONS.c.settled_nodes,
        _EXECUTIONS.c.cancel_requested,
    )
    .select_from(_NODES.join(_EXECUTIONS, _EXECUTIONS.c.task_id == _NODES.c.task_id))
    .where(_NODES.c.id == bindparam("node_id"))
    .with_for_update()
)
_SETTLE_ONE = (
    update(_EXECUTIONS)
    .where(_EXECUTIONS.c.task_id == bindparam("b_task_id"))
    .values(settled_nodes=_EXECUTIONS.c.settled_nodes + 1)
)
#: MariaDB/MySQL: the counter and the task row's progress (Running at a node's submission, as
#: ``receivers.update_task`` writes them) in one statement, while the execution's row is locked.
_SETTLE_AND_PROGRESS = text(
    "UPDATE flowexec_execution e JOIN dss_workflow_task t ON t.id = e.task_id "
    "SET e.settled_nodes = :settled, t.progress = :progress, t.updated_time = :at, "
    "t.status = CASE WHEN t.status IN (:inited, :scheduled, :wait) THEN :running ELSE t.status END "
    "WHERE e.task_id = :task_id"
)
_CHILDREN = (
    select(
        _NODES.c.id,
        _NODES.c.task_id,
        _NODES.c.node_key,
        _NODES.c.job_type,
        _NODES.c.kind,
        _NODES.c.state,
        _NODES.c.pending_parents,
    )
    .where(_NODES.c.task_id == bindparam("task_id"), _NODES.c.node_key.in_(bindparam("keys", expanding=True)))
    .order_by(_NODES.c.id)
    .with_for_update()
)
_QUEUE_READY = (
    update(_NODES)
    .where(_NODES.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state=NodeState.QUEUED.value,
        version=_NODES.c.version + 1,
        queued_at=bindparam("at"),
        updated_at=bindparam("at"),
        pending_parents=_NODES.c.pending_parents - 1,
    )
)
_DECREMENT = (
    update(_NODES)
    .where(_NODES.c.id.in_(bindparam("ids", expanding=True)))
    .values(pending_parents=_NODES.c.pending_parents - 1)
)
_QUEUE = (
    update(_NODES)
    .where(_NODES.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state=NodeState.QUEUED.value,
        version=_NODES.c.version + 1,
        queued_at=bindparam("at"),
        updated_at=bindparam("at"),
    )
)


@dataclass
class _Counters:
    """What ``_emit`` and ``_release_keys`` read of an execution, without an ORM object."""

    task_id: int
    flow_id: int
    version: str
    total_nodes: int
    settled_nodes: int


def start_node(node_id: int, settings: Settings) -> tuple[Claimed | None, list[Action]]:
    """Claim a queued node (Queued -> Submitting); control nodes complete at once."""

    def work(session: Session) -> tuple[Claimed | None, list[Action]]:
        at = now()
        # A queued control node completes in one compare-and-set; anything else (a Linkis node,
        # a claim lost) takes the general path below.
        if session.execute(_CONTROL_DONE, {"node_id": node_id, "at": at}).rowcount == 1:  # type: ignore[attr-defined]
            return None, _run_control(session, node_id, at)
        node, execution = _lock_node(session, node_id)
        if node.state == NodeState.QUEUED.value and _over_cap(session, execution, node, settings):
            repo.cas_node(session, node_id, [NodeState.QUEUED], NodeState.QUEUED, parked=True)
            log.info("node parked at its cap node_id=%s", node_id)
            return None, []
        if not repo.cas_node(
            session,
            node_id,
            [NodeState.QUEUED],
            NodeState.SUBMITTING,
            attempt=NodeRun.attempt + 1,
            started_at=at,
            updated_at=at,
            parked=False,
        ):
            log.info("claim lost node_id=%s state=%s", node_id, node.state)
            return None, []
        claim = Change(node.node_key, NodeState.QUEUED, NodeState.SUBMITTING)
        if node.kind != NodeKind.LINKIS.value:
            # One batch for both moves: the seed tables are written once for a control node.
            return None, _complete(
                session, execution, node, NodeState.SUBMITTING, NodeState.SUCCEED, prior=(claim,)
            )
        _emit(session, execution, [claim])
        task = repo.get_task(session, node.task_id)
        spec = job_spec(node, task, settings)
        return Claimed(node_id, node.task_id, node.attempt + 1, spec), []

    return in_transaction(work)


def _run_control(session: Session, node_id: int, at: datetime) -> list[Action]:
    """The rest of a control node's step, once ``_CONTROL_DONE`` moved it Queued -> Succeed (the
    Submitting in between is never visible outside this transaction): under the execution's
    lock, the counters, the children and the seed tables, as ``_complete`` does for a Succeed."""
    row = locked = session.execute(_LOCK_COUNTERS, {"node_id": node_id}).one()
    logcontext.bind(row.task_id, row.node_key)
    counters = _Counters(
        row.task_id, locked.flow_id, locked.version, locked.total_nodes, locked.settled_nodes + 1
    )
    task_written = session.get_bind().dialect.name in ("mysql", "mariadb")
    if task_written:
        session.execute(
            _SETTLE_AND_PROGRESS,
            {
                "task_id": row.task_id,
                "settled": counters.settled_nodes,
                "at": at,
                "progress": counters.settled_nodes / counters.total_nodes if counters.total_nodes else 1.0,
                "inited": RunState.INITED.value,
                "scheduled": RunState.SCHEDULED.value,
                "wait": RunState.WAIT_FOR_RETRY.value,
                "running": RunState.RUNNING.value,
            },
        )
    else:
        session.execute(_SETTLE_ONE, {"b_task_id": row.task_id})
    changes = [
        Change(row.node_key, NodeState.QUEUED, NodeState.SUBMITTING),
        Change(row.node_key, NodeState.SUBMITTING, NodeState.SUCCEED),
    ]
    actions: list[Action] = []
    if not locked.cancel_requested:
        children = json.loads(row.children or "[]")
        actions += run_actions(_release_keys(session, counters, children, changes, at))
    _emit(session, counters, changes, task_written=task_written)
    if counters.settled_nodes >= counters.total_nodes:
        execution = session.execute(
            select(Execution)
            .where(Execution.task_id == row.task_id)
            .execution_options(populate_existing=True)
        ).scalar_one()
        _finalize(session, execution)
    return actions


def _over_cap(session: Session, execution: Execution, node: NodeRun, settings: Settings) -> bool:
    """True when starting this node would exceed its execution's or its engine's cap."""
    if node.kind != NodeKind.LINKIS.value:
        return False
    if (
        execution.max_parallel
        and repo.active_in_execution(session, execution.task_id) >= execution.max_parallel
    ):
        return True
    engine = repo.engine_of(node) or ""
    cap = settings.engine_caps.get(engine)
    return cap is not None and repo.active_of_engine(session, engine) >= cap


def run_actions(nodes: Sequence[NodeRun], countdown: float = 0.0) -> list[RunNodes]:
    """One ``RunNodes`` per engine, so that dispatch can route each engine to its queue."""
    by_engine: dict[str | None, list[NodeRun]] = {}
    for node in nodes:
        by_engine.setdefault(repo.engine_of(node), []).append(node)
    return [
        RunNodes(tuple(n.id for n in group), countdown, engine, tuple(label(n) for n in group))
        for engine, group in by_engine.items()
    ]


def label(node: NodeRun) -> str:
    """How a node's tasks read in Flower: ``<taskID>:<node key>``."""
    return f"{node.task_id}:{node.node_key}"


def _unpark(session: Session, execution: Execution, node: NodeRun) -> list[RunNodes]:
    """A slot freed: send the oldest node parked at this execution's cap, or at this engine's."""
    waiting = repo.parked(session, 1, task_id=execution.task_id) if execution.max_parallel else []
    engine = repo.engine_of(node)
    if not waiting and engine is not None:
        waiting = repo.parked(session, 1, engine=engine)
    return run_actions(waiting)


def job_spec(node: NodeRun, task: WorkflowTask, settings: Settings) -> JobSpec:
    """Build the Linkis job of a node: code with variables substituted, DSS's labels and source."""
    spec = json.loads(node.spec or "{}")
    configuration = spec.get("configuration") or {}
    variables = {str(k): str(v) for k, v in (spec.get("variables") or {}).items()}
    user = linkis_user(task, settings)
    params = json.loads(task.params or "{}")
    code = planner.render(spec.get("code") or "", variables)
    source = json.loads(task.script_path or "{}") if (task.script_path or "").startswith("{") else {}
    return JobSpec(
        code=code,
        run_type=spec.get("runType") or "shell",
        engine_type=engine_type(
            spec.get("engine") or "shell", {**DEFAULT_ENGINE_VERSIONS, **settings.engine_versions}
        ),
        user=user,
        variables=variables,
        startup=configuration.get("startup") or {},
        runtime={**(configuration.get("runtime") or {}), "nodeName": spec.get("title") or node.title},
        special=configuration.get("special") or {},
        labels={"route": str((params.get("labels") or {}).get("route", "dev"))},
        source={
            **{k: str(v) for k, v in source.items()},
            "nodeName": node.title,
            "flowexecNodeRunId": str(node.id),
            "flowexecAttempt": str(node.attempt + 1),
        },
    )


LinkisFor = Callable[[str], Linkis]


def linkis_user(task: WorkflowTask, settings: Settings) -> str:
    """The Linkis user a node's job runs as: the configured one, else the submitter."""
    return settings.linkis_user or task.um_user or "hadoop"


def submit_node(claimed: Claimed, linkis_for: LinkisFor, settings: Settings) -> list[Action]:
    """Submit a claimed node's job and record its ids at once (-> Running).

    Crash window: between Linkis accepting the job and the commit below, a crash leaves the
    node Submitting with no ids; the reconciler hands such nodes back after a grace period.
    """
    assert claimed.spec is not None
    try:
        ref = linkis_for(claimed.spec.user).submit(claimed.spec)
    except LinkisError as exc:
        if isinstance(exc, LinkisUnavailable):
            raise
        return finish_node(claimed.node_id, NodeState.FAILED, [NodeState.SUBMITTING], error=str(exc))
    return record_submission(claimed.node_id, ref, settings)


def record_submission(node_id: int, ref: JobRef, settings: Settings) -> list[Action]:
    def work(session: Session) -> list[Action]:
        node, execution = _lock_node(session, node_id)
        at = now()
        timeout = float(json.loads(node.spec or "{}").get("timeout") or 0)
        deadline = (node.started_at or at) + timedelta(seconds=timeout) if timeout > 0 else None
        countdown = _until_deadline(
            planner.poll_countdown(0, settings.poll_min, settings.poll_max), deadline, at
        )
        if repo.cas_node(
            session,
            node_id,
            [NodeState.SUBMITTING],
            NodeState.RUNNING,
            linkis_exec_id=ref.exec_id,
            linkis_task_id=ref.task_id,
            updated_at=at,
            polls=0,
            next_poll_at=at + timedelta(seconds=countdown),
            deadline_at=deadline,
        ):
            _emit(session, execution, [Change(node.node_key, NodeState.SUBMITTING, NodeState.RUNNING)])
            return [PollNode(node_id, countdown, label(node))]
        # The node was cancelled while we submitted: its job must not run on.
        log.info("submitted after cancel node_id=%s exec_id=%s", node_id, ref.exec_id)
        repo.cas_node(
            session,
            node_id,
            [NodeState.CANCELLED],
            NodeState.CANCELLED,
            linkis_exec_id=ref.exec_id,
            linkis_task_id=ref.task_id,
        )
        return [KillJob(node_id, ref.exec_id, ref.task_id)]

    return in_transaction(work)


def _until_deadline(countdown: float, deadline: datetime | None, at: datetime) -> float:
    """Never sleep past a node's deadline: the poll after it is the one that times it out."""
    if deadline is None:
        return countdown
    return max(0.0, min(countdown, (deadline - at).total_seconds()))


def release_node(node_id: int) -> None:
    """Hand a node whose submission failed transiently back to the queue (Submitting -> Queued)."""

    def work(session: Session) -> None:
        node, execution = _lock_node(session, node_id)
        if repo.cas_node(
            session,
            node_id,
            [NodeState.SUBMITTING],
            NodeState.QUEUED,
            attempt=NodeRun.attempt - 1,
            queued_at=now(),
            updated_at=now(),
        ):
            _emit(session, execution, [Change(node.node_key, NodeState.SUBMITTING, NodeState.QUEUED)])

    in_transaction(work)


@dataclass(frozen=True)
class PollResult:
    """What a poll found: ``retry_in`` seconds when the job still runs, else the actions."""

    retry_in: float | None
    actions: list[Action]


def poll_node(node_id: int, linkis_for: LinkisFor, settings: Settings) -> PollResult:
    """Ask Linkis how a running node's job is doing; complete the node when it has ended."""
    node, task = in_transaction(lambda s: _node_and_task(s, node_id))
    if node.state != NodeState.RUNNING.value or node.linkis_task_id is None:
        return PollResult(None, [])
    linkis = linkis_for(linkis_user(task, settings))
    ref = JobRef(node.linkis_exec_id or "", int(node.linkis_task_id))
    if node.deadline_at is not None and now() >= node.deadline_at:
        return PollResult(None, time_out_node(node_id))
    status = linkis.status(ref)
    if not status.terminal:
        at = now()
        countdown = _until_deadline(
            planner.poll_countdown(node.polls + 1, settings.poll_min, settings.poll_max), node.deadline_at, at
        )
        _note_poll(node_id, countdown, status.progress)
        return PollResult(countdown, [])
    info = linkis.history(ref.task_id)
    outcome = LINKIS_OUTCOMES[info.status if info.status in LINKIS_OUTCOMES else status.state]
    error = None
    if outcome is not NodeState.SUCCEED:
        error = f"Linkis job {ref.task_id} {info.status}: {info.err_desc or 'no error text'}"
        if info.err_code:
            error += f" (errCode {info.err_code})"
    actions = finish_node(
        node_id,
        outcome,
        [NodeState.RUNNING],
        error=error,
        log_path=info.log_path,
        result_location=info.result_location,
        progress=1.0,
    )
    return PollResult(None, actions)


def time_out_node(node_id: int) -> list[Action]:
    """End a running node past its deadline: Timeout (terminal, a failure) and kill its job."""

    def work(session: Session) -> list[Action]:
        node, execution = _lock_node(session, node_id)
        if node.state != NodeState.RUNNING.value:
            return []
        timeout = json.loads(node.spec or "{}").get("timeout")
        actions = _complete(
            session,
            execution,
            node,
            NodeState.RUNNING,
            NodeState.TIMEOUT,
            error=f"timed out after {timeout} s; Linkis job killed",
        )
        if node.linkis_task_id:
            actions.append(KillJob(node.id, node.linkis_exec_id or "", int(node.linkis_task_id)))
        return actions

    return in_transaction(work)


def _node_and_task(session: Session, node_id: int) -> tuple[NodeRun, WorkflowTask]:
    node = repo.get_node(session, node_id)
    return node, repo.get_task(session, node.task_id)


def _note_poll(node_id: int, countdown: float, progress: float | None) -> None:
    def work(session: Session) -> None:
        values: dict[str, Any] = {
            "polls": NodeRun.polls + 1,
            "next_poll_at": now() + timedelta(seconds=countdown),
        }
        if progress is not None:
            values["progress"] = progress
        session.execute(
            update(NodeRun)
            .where(NodeRun.id == node_id, NodeRun.state == NodeState.RUNNING.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    in_transaction(work)


def finish_node(
    node_id: int, outcome: NodeState, expected: Sequence[NodeState], **values: Any
) -> list[Action]:
    """Record a node's end and queue what it unblocked (one transaction)."""

    def work(session: Session) -> list[Action]:
        node, execution = _lock_node(session, node_id)
        old = NodeState(node.state)
        if old not in expected:
            log.info("completion lost node_id=%s state=%s outcome=%s", node_id, old, outcome)
            return []
        return _complete(session, execution, node, old, outcome, **values)

    return in_transaction(work)


def fail_node(node_id: int, error: str) -> list[Action]:
    """Fail a node whose task crashed, from wherever it was left."""
    return finish_node(
        node_id,
        NodeState.FAILED,
        [NodeState.QUEUED, NodeState.SUBMITTING, NodeState.RUNNING],
        error=error[:4000],
    )


def _complete(
    session: Session,
    execution: Execution,
    node: NodeRun,
    old: NodeState,
    outcome: NodeState,
    prior: Sequence[Change] = (),
    **values: Any,
) -> list[Action]:
    """Move a node (locked, in ``old``) to its outcome and do what follows, in the caller's transaction.

    ``prior``: changes this transaction made before, sent in the same signal batch.
    """
    at = now()
    if outcome is NodeState.FAILED and node.retries_left > 0 and not execution.cancel_requested:
        _emit(session, execution, prior)
        return _retry(session, execution, node, old, values.get("error"), at)
    if not repo.cas_node(session, node.id, [old], outcome, finished_at=at, updated_at=at, **values):
        log.info("completion lost node_id=%s state=%s outcome=%s", node.id, old, outcome)
        _emit(session, execution, prior)
        return []
    execution.settled_nodes += 1
    changes = [*prior, Change(node.node_key, old, outcome)]
    holds_slot = old in NODE_ACTIVE and node.kind == NodeKind.LINKIS.value
    actions: list[Action] = list(_unpark(session, execution, node)) if holds_slot else []
    if outcome in NODE_FAILED:
        execution.failed_nodes += 1
        actions += _apply_policy(session, execution, node, changes, at)
    elif not execution.cancel_requested:
        actions += run_actions(_release_children(session, execution, node, changes, at))
    _emit(session, execution, changes)
    if execution.settled_nodes >= execution.total_nodes:
        _finalize(session, execution)
    return actions


def _retry(
    session: Session, execution: Execution, node: NodeRun, old: NodeState, error: str | None, at: datetime
) -> list[Action]:
    """Send a failed attempt back to the queue, to run again after the node's retry delay."""
    delay = float(json.loads(node.spec or "{}").get("retryDelay") or 0)
    if not repo.cas_node(
        session,
        node.id,
        [old],
        NodeState.QUEUED,
        retries_left=NodeRun.retries_left - 1,
        error=f"attempt {node.attempt} failed: {error or 'unknown error'}",
        queued_at=at + timedelta(seconds=delay),
        updated_at=at,
        linkis_exec_id=None,
        linkis_task_id=None,
        next_poll_at=None,
        deadline_at=None,
        polls=0,
    ):
        return []
    log.info("node retried node_id=%s attempt=%s delay=%s", node.id, node.attempt, delay)
    _emit(session, execution, [Change(node.node_key, old, NodeState.QUEUED)])
    return [
        *run_actions([node], countdown=delay),
        *(_unpark(session, execution, node) if old in NODE_ACTIVE else []),
    ]


def _apply_policy(
    session: Session, execution: Execution, node: NodeRun, changes: list[Change], at: datetime
) -> list[Action]:
    """What a node's failure does to the rest of its execution."""
    if execution.cancel_requested or execution.failure_policy == "fail_fast":
        return _cancel_rest(session, execution, changes, at)
    if execution.failure_policy == "finish_running":
        _cancel_unstarted(session, execution, changes, at)
        return []
    _skip_downstream(session, execution, node, changes, at)
    return []


def _cancel_unstarted(session: Session, execution: Execution, changes: list[Change], at: datetime) -> None:
    _cancel(
        session,
        execution,
        NODE_UNSTARTED,
        changes,
        at,
        "cancelled: another node failed; running nodes were let finish",
    )


def _cancel(
    session: Session,
    execution: Execution,
    states: Iterable[NodeState],
    changes: list[Change],
    at: datetime,
    error: str,
) -> Sequence[NodeRun]:
    """Cancel every node of the execution in ``states``; return the rows as they were."""
    rows = repo.nodes_in(session, execution.task_id, states, lock=True)
    repo.set_nodes(
        session, [r.id for r in rows], NodeState.CANCELLED, finished_at=at, updated_at=at, error=error
    )
    changes += [Change(r.node_key, NodeState(r.state), NodeState.CANCELLED) for r in rows]
    execution.settled_nodes += len(rows)
    return rows


def _skip_downstream(
    session: Session, execution: Execution, node: NodeRun, changes: list[Change], at: datetime
) -> None:
    """Continue: every node downstream of a failed one is Skipped, "upstream failed"."""
    skipped: list[NodeRun] = []
    seen: set[str] = set()
    frontier = repo.children_of(node)
    while frontier:
        rows = [r for r in repo.nodes_by_key(session, execution.task_id, frontier) if r.node_key not in seen]
        seen.update(r.node_key for r in rows)
        pending = [r for r in rows if r.state == NodeState.PENDING.value]
        skipped += pending
        frontier = [key for r in pending for key in repo.children_of(r) if key not in seen]
    repo.set_nodes(
        session,
        [r.id for r in skipped],
        NodeState.SKIPPED,
        finished_at=at,
        updated_at=at,
        error=f"upstream failed: {node.title}",
    )
    changes += [Change(r.node_key, NodeState.PENDING, NodeState.SKIPPED) for r in skipped]
    execution.settled_nodes += len(skipped)


def _release_children(
    session: Session, execution: Execution, node: NodeRun, changes: list[Change], at: datetime
) -> list[NodeRun]:
    """Decrement the children's counters; the ones reaching zero are queued by this transaction."""
    return _release_keys(session, execution, repo.children_of(node), changes, at)


def _release_keys(
    session: Session,
    execution: Execution | _Counters,
    keys: Sequence[str],
    changes: list[Change],
    at: datetime,
) -> list[Any]:
    if not keys:
        return []
    children = session.execute(_CHILDREN, {"task_id": execution.task_id, "keys": list(keys)}).all()
    ready = [c for c in children if c.pending_parents == 1 and c.state == NodeState.PENDING.value]
    if ready and len(ready) == len(children):  # chains and a join's last parent: one UPDATE
        session.execute(_QUEUE_READY, {"ids": [c.id for c in ready], "at": at})
    else:
        if children:
            session.execute(_DECREMENT, {"ids": [c.id for c in children]})
        if ready:
            session.execute(_QUEUE, {"ids": [c.id for c in ready], "at": at})
    changes += [Change(c.node_key, NodeState.PENDING, NodeState.QUEUED) for c in ready]
    return ready


def _cancel_rest(session: Session, execution: Execution, changes: list[Change], at: datetime) -> list[Action]:
    """Fail fast: nothing new starts, running jobs are killed, everything else is Cancelled."""
    error = "cancelled: another node failed"
    _cancel(session, execution, NODE_UNSTARTED | {NodeState.SUBMITTING}, changes, at, error)
    running = _cancel(session, execution, [NodeState.RUNNING], changes, at, error)
    return [KillJob(r.id, r.linkis_exec_id or "", int(r.linkis_task_id or 0)) for r in running]


def _finalize(session: Session, execution: Execution) -> None:
    """End an execution whose nodes have all settled: task status, progress 1, info status."""
    task = repo.get_task(session, execution.task_id)
    if RunState(task.status) in {RunState.SUCCEED, RunState.FAILED, RunState.CANCELLED, RunState.TIMEOUT}:
        return
    nodes = repo.all_nodes(session, execution.task_id)
    outcome = planner.run_outcome((NodeState(n.state) for n in nodes), execution.cancel_requested)
    run_transition(RunState(task.status), outcome)
    task.status = outcome.value
    task.progress = 1.0
    task.updated_time = now()
    failed = [n for n in nodes if n.state in {s.value for s in NODE_FAILED}]
    if outcome is not RunState.SUCCEED:
        task.err_code = 90101 if execution.cancel_requested else 90102
        task.err_desc = planner.failure_text(
            [(n.title, n.state, n.error) for n in failed], execution.cancel_requested
        )[:256]
    execution.finished_time = now()
    info = repo.latest_info(session, execution.flow_id, execution.version, lock=True)
    if info is not None and info.task_id == execution.task_id:
        info.status = 1 if outcome is RunState.SUCCEED else 0
        info.updatetime = now()
        _write_lists(info, planner.info_lists({n.node_key: NodeState(n.state) for n in nodes}))
    log.info("execution finished task_id=%s status=%s", execution.task_id, outcome.value)


# -------------------------------------------------------------------- kill, reconcile


def cancel_execution(task_id: int) -> list[Action]:
    """Kill a flow: unstarted nodes Cancelled, running jobs Cancelled and killed in Linkis."""

    def work(session: Session) -> list[Action]:
        execution = repo.lock_execution(session, task_id)
        task = repo.get_task(session, task_id)
        if RunState(task.status) in {RunState.SUCCEED, RunState.FAILED, RunState.CANCELLED, RunState.TIMEOUT}:
            return []
        execution.cancel_requested = True
        changes: list[Change] = []
        actions = _cancel_rest(session, execution, changes, now())
        _emit(session, execution, changes)
        if execution.settled_nodes >= execution.total_nodes:
            _finalize(session, execution)
        return actions

    return in_transaction(work)


def cancel_node(task_id: int, node_key: str) -> list[Action]:
    """Kill one node: it ends Cancelled (its job killed), and the failure policy decides the rest."""

    def work(session: Session) -> list[Action]:
        execution = repo.lock_execution(session, task_id)
        rows = repo.nodes_by_key(session, task_id, [node_key])
        if not rows:
            raise NotFound(f"execution {task_id} has no node {node_key!r}")
        node = rows[0]
        old = NodeState(node.state)
        if old not in NODE_UNSTARTED | {NodeState.SUBMITTING, NodeState.RUNNING}:
            return []
        actions = _complete(session, execution, node, old, NodeState.CANCELLED, error="cancelled by user")
        if old is NodeState.RUNNING and node.linkis_task_id:
            actions.append(KillJob(node.id, node.linkis_exec_id or "", int(node.linkis_task_id)))
        return actions

    return in_transaction(work)


def reconcile(settings: Settings) -> list[Action]:
    """Re-drive what a lost message or a dead worker left behind (all compare-and-set)."""
    grace = timedelta(seconds=settings.queued_grace)

    def work(session: Session) -> list[Action]:
        at = now()
        actions: list[Action] = []
        lost = repo.overdue(session, NodeState.QUEUED, NodeRun.queued_at, at - grace)
        redo = [
            n
            for n in lost
            if repo.cas_node(session, n.id, [NodeState.QUEUED], NodeState.QUEUED, queued_at=at)
        ]
        actions += run_actions(redo)
        late = repo.overdue(session, NodeState.RUNNING, NodeRun.deadline_at, at)
        actions += [PollNode(n.id, 0.0, label(n)) for n in late]
        orphans = repo.overdue(
            session, NodeState.SUBMITTING, NodeRun.updated_at, at - timedelta(seconds=settings.submit_grace)
        )
        for n in orphans:
            if repo.cas_node(session, n.id, [NodeState.SUBMITTING], NodeState.SUBMITTING, updated_at=at):
                actions.append(AdoptNode(n.id))
        _finalize_settled(session)
        stale = repo.overdue(session, NodeState.RUNNING, NodeRun.next_poll_at, at - grace)
        for n in stale:
            if repo.cas_node(session, n.id, [NodeState.RUNNING], NodeState.RUNNING, next_poll_at=at + grace):
                actions.append(PollNode(n.id, 0.0, label(n)))
        if actions:
            log.info("reconcile redispatched queued=%s polls=%s", len(redo), len(stale))
        return actions

    return in_transaction(work)


def _finalize_settled(session: Session) -> int:
    """Finalize executions whose nodes have all settled but whose end was not recorded."""
    rows = (
        session.execute(
            select(Execution.task_id)
            .where(Execution.finished_time.is_(None), Execution.settled_nodes >= Execution.total_nodes)
            .limit(100)
        )
        .scalars()
        .all()
    )
    for task_id in rows:
        execution = repo.lock_execution(session, task_id)
        _finalize(session, execution)
        execution.finished_time = execution.finished_time or now()
    return len(rows)


def adopt_node(node_id: int, linkis_for: LinkisFor, settings: Settings) -> list[Action]:
    """Settle an orphaned submission: find its job in Linkis history by the source tag
    (``flowexecNodeRunId``/``flowexecAttempt``) and adopt it, else hand the node back to the queue."""
    node, task = in_transaction(lambda s: _node_and_task(s, node_id))
    if node.state != NodeState.SUBMITTING.value:
        return []
    since = (node.started_at or now()) - timedelta(minutes=5)
    found = linkis_for(linkis_user(task, settings)).find_by_source(
        {"flowexecNodeRunId": str(node.id), "flowexecAttempt": str(node.attempt)},
        int(since.timestamp() * 1000),
        creator="nodeexecution",
    )
    if found is None or not found.exec_id:
        log.info("orphaned submission resubmitted node_id=%s attempt=%s", node_id, node.attempt)
        release_node(node_id)
        return list(run_actions([node]))
    log.info("orphaned submission adopted node_id=%s task_id=%s", node_id, found.task_id)
    return record_submission(node_id, JobRef(found.exec_id, found.task_id), settings)


def execution_nodes(task_id: int) -> tuple[WorkflowTask, Execution, Sequence[NodeRun]]:
    """Return an execution's task row, its counters and its node rows (read only)."""

    def work(session: Session) -> tuple[WorkflowTask, Execution, Sequence[NodeRun]]:
        task = repo.get_task(session, task_id)
        execution = session.get(Execution, task_id, populate_existing=True)
        if execution is None:
            raise NotFound(f"execution {task_id} not found")
        return task, execution, repo.all_nodes(session, task_id)

    return in_transaction(work)


def node_linkis_user(node_id: int, settings: Settings) -> str:
    """Return the Linkis user a node's job runs as."""
    _, task = in_transaction(lambda s: _node_and_task(s, node_id))
    return linkis_user(task, settings)
