"""Every read and write of runs and nodes; each state change a compare-and-set checked
against the state table (``flowexec.state``) before any SQL is sent."""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from flowexec.errors import NotFound
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.state import check_moves
from flowexec.state import run_transition
from flowexec.store import statements as st
from flowexec.store.batch import Writes
from flowexec.store.db import is_mysql
from flowexec.store.models import EngineSlot
from flowexec.store.models import Execution
from flowexec.store.models import IdempotencyKey
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask

_ACTIVE = (NodeState.SUBMITTING.value, NodeState.RUNNING.value)


# ------------------------------------------------------------------------- rows


def lock_execution(session: Session, task_id: int) -> Execution:
    """Lock an execution's row: every transaction that moves its nodes takes this lock first.

    One lock per execution orders all of its transitions, so counters stay exact and two
    completions can never deadlock on each other's children.
    """
    row = session.execute(
        select(Execution)
        .where(Execution.task_id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # counters are also moved by Core statements
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"execution {task_id} not found")
    return row


def read_step(session: Session, node_id: int) -> Any:
    """A node with its execution's and task row's columns (``statements.NODE_STEP``), in one
    statement and without locks: for the steps only the node's own compare-and-set orders."""
    row = session.execute(st.NODE_STEP, {"node_id": node_id}).one_or_none()
    if row is None:
        raise NotFound(f"node run {node_id} not found")
    return row


def read_end(session: Session, node_id: int) -> Any:
    """A running node as its success reads it (``statements.NODE_END``), without locks."""
    row = session.execute(st.NODE_END, {"node_id": node_id}).one_or_none()
    if row is None:
        raise NotFound(f"node run {node_id} not found")
    return row


def lock_counters_of(session: Session, task_id: int) -> Row[*tuple[Any, ...]]:
    """An execution's counters, its row locked until the transaction ends."""
    return session.execute(st.LOCK_EXECUTION_COUNTERS, {"task_id": task_id}).one()


def start_run(session: Session, task_id: int, at: datetime) -> None:
    """Move a not-yet-started run's task row to Running (a no-op once it is)."""
    session.execute(st.START_RUN, {"task_id": task_id, "at": at})


def get_execution(session: Session, task_id: int) -> Execution:
    row = session.get(Execution, task_id, populate_existing=True)
    if row is None:
        raise NotFound(f"execution {task_id} not found")
    return row


def get_task(session: Session, task_id: int) -> WorkflowTask:
    row = session.get(WorkflowTask, task_id, populate_existing=True)
    if row is None:
        raise NotFound(f"task {task_id} not found")
    return row


def get_node(session: Session, node_id: int) -> NodeRun:
    row = session.get(NodeRun, node_id, populate_existing=True)
    if row is None:
        raise NotFound(f"node run {node_id} not found")
    return row


def task_of_node(session: Session, node_id: int) -> int:
    """The taskID a node run belongs to."""
    task_id = session.execute(select(NodeRun.task_id).where(NodeRun.id == node_id)).scalar_one_or_none()
    if task_id is None:
        raise NotFound(f"node run {node_id} not found")
    return int(task_id)


def insert_task(session: Session, **values: Any) -> WorkflowTask:
    """Insert a run's ``dss_workflow_task`` row (its id is the taskID)."""
    task = WorkflowTask(**values)
    session.add(task)
    session.flush()
    return task


def idempotent_task(session: Session, user: str, key: str) -> int | None:
    """The taskID a user's ``Idempotency-Key`` started, if any."""
    found = session.get(IdempotencyKey, (user, key))
    return None if found is None else int(found.task_id)


def insert_idempotency_key(session: Session, user: str, key: str, task_id: int, at: datetime) -> None:
    """Remember the execution a key started (a concurrent twin fails on the primary key)."""
    session.add(IdempotencyKey(um_user=user, idem_key=key, task_id=task_id, created_time=at))
    session.flush()


def task_status(session: Session, task_id: int) -> RunState:
    """A run's status, read alone (the task row is wide)."""
    status = session.execute(st.TASK_STATUS, {"task_id": task_id}).scalar_one_or_none()
    if status is None:
        raise NotFound(f"task {task_id} not found")
    return RunState(status)


def end_run_writes(
    session: Session, task_id: int, status: RunState, outcome: RunState, at: datetime, **errors: Any
) -> Writes:
    """The writes (for the caller's batch, ``store.batch``) that move a run from ``status`` to its
    final state (forward only, as ``dss_workflow_task`` is), with ``err_code`` and ``err_desc``
    when given, and set its execution's ``finished_time``."""
    run_transition(status, outcome)
    ended = {"status": outcome.value, "progress": 1.0, "updated_time": at, **errors}
    params = {"b_task_id": task_id, "b_at": at, **{f"b_{k}": v for k, v in ended.items()}}
    written(session, WorkflowTask, task_id, ended)
    written(session, Execution, task_id, {"finished_time": at})
    if is_mysql(session):
        return [(st.END_RUN_AND_FINISH[bool(errors)], params)]
    return [(st.END_RUN[bool(errors)], params), (st.FINISH_EXECUTION, params)]


def written(session: Session, model: type[Any], key: Any, values: dict[str, Any]) -> None:
    """Keep an object of the row this session holds in step with a Core UPDATE (no flush)."""
    held = session.identity_map.get(Session.identity_key(model, key))
    for name, value in values.items() if held is not None else ():
        set_committed_value(held, name, value)


# -------------------------------------------------------------- node moves


def cas_node(
    session: Session,
    node_id: int,
    sources: Iterable[NodeState],
    target: NodeState,
    *,
    read_version: int | None = None,
    job_id: int | None = None,
    **values: Any,
) -> bool:
    """Move one node to ``target`` if it is in one of ``sources`` (and, with ``read_version``,
    has not moved since it was read at that version; with ``job_id``, still runs that Linkis
    job); True when this call won."""
    olds = check_moves(sources, target)
    params = {f"b_{key}": value for key, value in values.items()}
    params.update(b_node_id=node_id, b_read_version=read_version, b_job_id=job_id)
    statement = st.node_cas(olds, target, tuple(values), read_version is not None, job_id is not None)
    result = session.execute(statement, params)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def hand_back(session: Session, node: NodeRun, at: datetime, **values: Any) -> bool:
    """Give a node whose submission did not go through back to the queue (Submitting -> Queued),
    its attempt not counted; True when this call won."""
    return cas_node(
        session,
        node.id,
        [NodeState.SUBMITTING],
        NodeState.QUEUED,
        attempt=node.attempt - 1,
        queued_at=at,
        updated_at=at,
        **values,
    )


def touch_node(session: Session, node_id: int, state: NodeState, **values: Any) -> bool:
    """Update a node's other columns if it is still in ``state`` (no move); True when it was."""
    result = session.execute(
        update(st.NODES).where(st.NODES.c.id == node_id, st.NODES.c.state == state.value).values(**values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def note_poll(
    session: Session, node_id: int, next_poll_at: datetime, progress: float | None, job_id: int
) -> bool:
    """Count a poll of a node still running that Linkis job, and when the next one is due;
    False when it no longer does (its polls end)."""
    values: dict[str, Any] = {"polls": st.NODES.c.polls + 1, "next_poll_at": next_poll_at}
    if progress is not None:
        values["progress"] = progress
    running = (st.NODES.c.state == NodeState.RUNNING.value, st.NODES.c.linkis_task_id == job_id)
    result = session.execute(update(st.NODES).where(st.NODES.c.id == node_id, *running).values(**values))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def move_nodes(session: Session, rows: Sequence[NodeRun], target: NodeState, **values: Any) -> None:
    """Move nodes the caller locked and read: each from the state it was read in."""
    olds = check_moves({NodeState(r.state) for r in rows}, target)
    if rows:
        session.execute(
            update(NodeRun)
            .where(NodeRun.id.in_([r.id for r in rows]), NodeRun.state.in_([s.value for s in olds]))
            .values(state=target.value, version=NodeRun.version + 1, **values)
            .execution_options(synchronize_session=False)
        )


def write_progress(session: Session, task_id: int, progress: float, running: bool, at: datetime) -> None:
    """The task row's progress; ``running`` also moves a not-yet-started run to Running."""
    statement = st.PROGRESS_AND_RUNNING if running else st.PROGRESS
    session.execute(statement, {"task_id": task_id, "at": at, "b_progress": progress})


# ------------------------------------------------------------------- reads


def nodes_in(
    session: Session, task_id: int, states: Iterable[NodeState], lock: bool = False
) -> Sequence[NodeRun]:
    query = (
        select(NodeRun)
        .where(NodeRun.task_id == task_id, NodeRun.state.in_([s.value for s in states]))
        .order_by(NodeRun.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalars().all()


def nodes_by_key(session: Session, task_id: int, keys: Sequence[str]) -> Sequence[NodeRun]:
    """Return (and lock) the named nodes of an execution, in id order."""
    if not keys:
        return []
    return (
        session.execute(
            select(NodeRun)
            .where(NodeRun.task_id == task_id, NodeRun.node_key.in_(list(keys)))
            .order_by(NodeRun.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )


def all_nodes(session: Session, task_id: int) -> Sequence[NodeRun]:
    return (
        session.execute(
            select(NodeRun)
            .where(NodeRun.task_id == task_id)
            .order_by(NodeRun.id)
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )


def node_states(session: Session, task_id: int) -> dict[str, NodeState]:
    """Node key -> state of one execution (the columns only)."""
    rows = session.execute(select(NodeRun.node_key, NodeRun.state).where(NodeRun.task_id == task_id)).all()
    return {key: NodeState(state) for key, state in rows}


def engine_of(node: Any) -> str | None:
    """The Linkis engine of a node (``linkis.<engine>.<runType>``), None for control nodes."""
    parts = node.job_type.split(".")
    return parts[1] if node.kind == "linkis" and len(parts) > 2 else None


def children_of(node: NodeRun) -> list[str]:
    return list(json.loads(node.children or "[]"))


def active_in_execution(session: Session, task_id: int) -> int:
    """Nodes of one execution holding a slot (being submitted or running)."""
    return int(
        session.execute(
            select(func.count())
            .select_from(NodeRun)
            .where(NodeRun.task_id == task_id, NodeRun.state.in_(_ACTIVE))
        ).scalar_one()
    )


def active_of_engine(session: Session, engine: str) -> int:
    """Lock the engine's slot row, then count its active nodes across every execution.

    Every claim of a capped engine takes this row lock first, so two claims can never both
    see the last free slot; a completion only lowers the count and needs no lock.
    """
    if session.get(EngineSlot, engine, with_for_update=True) is None:
        session.add(EngineSlot(engine=engine))
        session.flush()
        session.get(EngineSlot, engine, with_for_update=True)
    return int(
        session.execute(
            select(func.count())
            .select_from(NodeRun)
            .where(NodeRun.state.in_(_ACTIVE), NodeRun.job_type.like(f"linkis.{engine}.%"))
        ).scalar_one()
    )


def parked(
    session: Session, limit: int, task_id: int | None = None, engine: str | None = None
) -> Sequence[NodeRun]:
    """The oldest nodes left Queued because a cap was full."""
    query = select(NodeRun).where(NodeRun.parked.is_(True), NodeRun.state == NodeState.QUEUED.value)
    if task_id is not None:
        query = query.where(NodeRun.task_id == task_id)
    if engine is not None:
        query = query.where(NodeRun.job_type.like(f"linkis.{engine}.%"))
    return session.execute(query.order_by(NodeRun.queued_at).limit(limit)).scalars().all()


def overdue(
    session: Session, state: NodeState, stamp: str, before: datetime, limit: int = 500
) -> Sequence[NodeRun]:
    """Return nodes in ``state`` whose timestamp column ``stamp`` is older than ``before``."""
    column = getattr(NodeRun, stamp)
    return (
        session.execute(
            select(NodeRun).where(NodeRun.state == state.value, column < before).order_by(column).limit(limit)
        )
        .scalars()
        .all()
    )


def settled_unfinished(session: Session, limit: int = 100) -> Sequence[int]:
    """Executions whose nodes have all settled but whose end was not recorded."""
    return (
        session.execute(
            select(Execution.task_id)
            .where(Execution.finished_time.is_(None), Execution.settled_nodes >= Execution.total_nodes)
            .limit(limit)
        )
        .scalars()
        .all()
    )
