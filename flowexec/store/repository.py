"""Queries and conditional updates; every state change is a compare-and-set."""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from flowexec.errors import NotFound
from flowexec.state import NodeState
from flowexec.store.models import EngineSlot
from flowexec.store.models import Execution
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowExecuteInfo
from flowexec.store.models import WorkflowTask

_ACTIVE = (NodeState.SUBMITTING.value, NodeState.RUNNING.value)


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


def cas_node(
    session: Session,
    node_id: int,
    sources: Iterable[NodeState],
    target: NodeState,
    **values: Any,
) -> bool:
    """Move one node to ``target`` if it is in one of ``sources``; True when this call won."""
    result = session.execute(
        update(NodeRun)
        .where(NodeRun.id == node_id, NodeRun.state.in_([s.value for s in sources]))
        .values(state=target.value, version=NodeRun.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


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


def set_nodes(session: Session, ids: Sequence[int], target: NodeState, **values: Any) -> None:
    """Move nodes already locked and checked by the caller."""
    if ids:
        session.execute(
            update(NodeRun)
            .where(NodeRun.id.in_(list(ids)))
            .values(state=target.value, version=NodeRun.version + 1, **values)
            .execution_options(synchronize_session=False)
        )


def latest_info(
    session: Session, flow_id: int, version: str | None, lock: bool = False
) -> WorkflowExecuteInfo | None:
    query = select(WorkflowExecuteInfo).where(WorkflowExecuteInfo.flow_id == flow_id)
    if version is not None:
        query = query.where(WorkflowExecuteInfo.version == version)
    query = query.order_by(WorkflowExecuteInfo.id.desc()).limit(1)
    if lock:
        query = query.with_for_update()
    return session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()


def engine_of(node: Any) -> str | None:
    """The Linkis engine of a node (``linkis.<engine>.<runType>``), None for control nodes."""
    parts = node.job_type.split(".")
    return parts[1] if node.kind == "linkis" and len(parts) > 2 else None


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


def children_of(node: NodeRun) -> list[str]:
    return list(json.loads(node.children or "[]"))


def overdue(
    session: Session, state: NodeState, column: Any, before: datetime, limit: int = 500
) -> Sequence[NodeRun]:
    """Return nodes in ``state`` whose timestamp ``column`` is older than ``before``."""
    return (
        session.execute(
            select(NodeRun).where(NodeRun.state == state.value, column < before).order_by(column).limit(limit)
        )
        .scalars()
        .all()
    )
