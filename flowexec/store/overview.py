"""Reads for the web console's overviews: node rows of several executions, engine slots in use."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowexec.state import NodeState
from flowexec.store.models import NodeRun

_ACTIVE = (NodeState.SUBMITTING.value, NodeState.RUNNING.value)


def nodes_of_tasks(session: Session, task_ids: Sequence[int]) -> Sequence[NodeRun]:
    """The node rows of several executions in one query (task, then id order)."""
    if not task_ids:
        return []
    query = select(NodeRun).where(NodeRun.task_id.in_(list(task_ids))).order_by(NodeRun.task_id, NodeRun.id)
    return session.execute(query).scalars().all()


def active_by_job_type(session: Session) -> dict[str, int]:
    """Nodes holding a slot (being submitted or running), counted by job type; no lock taken."""
    query = (
        select(NodeRun.job_type, func.count())
        .where(NodeRun.state.in_(_ACTIVE), NodeRun.kind == "linkis")
        .group_by(NodeRun.job_type)
    )
    return {str(job_type): int(count) for job_type, count in session.execute(query)}
