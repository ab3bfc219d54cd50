"""Receivers of ``node_transitioned``: keep DSS's two tables current at every transition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case
from sqlalchemy import update
from sqlalchemy.orm import Session

from flowexec import planner
from flowexec.signals import Transitions
from flowexec.signals import node_transitioned
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.store import repository as repo
from flowexec.store.models import WorkflowTask

#: A run is Running from its first node's submission on.
_NOT_STARTED = (RunState.INITED.value, RunState.SCHEDULED.value, RunState.WAIT_FOR_RETRY.value)


def update_task(session: Session, batch: Transitions) -> None:
    """Move ``dss_workflow_task`` to Running at the first submission; keep its progress."""
    values: dict[str, Any] = {
        "progress": batch.settled / batch.total if batch.total else 1.0,
        "updated_time": datetime.now(),
    }
    if any(c.new is NodeState.SUBMITTING for c in batch.changes):
        values["status"] = case((WorkflowTask.status.in_(_NOT_STARTED), RunState.RUNNING.value),
                                else_=WorkflowTask.status)
    session.execute(
        update(WorkflowTask).where(WorkflowTask.id == batch.task_id).values(**values)
        .execution_options(synchronize_session=False)
    )


def update_info(session: Session, batch: Transitions) -> None:
    """Move the changed nodes between ``dss_workflow_execute_info``'s lists."""
    info = repo.latest_info(session, batch.flow_id, batch.version, lock=True)
    if info is None or info.task_id != batch.task_id:
        return  # a newer execution of this version owns the row now
    lists = {column: getattr(info, column) or "" for column in planner.INFO_LISTS}
    lists = planner.move_all_in_lists(lists, ((c.key, c.old, c.new) for c in batch.changes))
    for column, value in lists.items():
        setattr(info, column, value)
    info.updatetime = datetime.now()


def _on_transition(sender: Session, batch: Transitions, **_: Any) -> None:
    update_task(sender, batch)
    update_info(sender, batch)


def connect() -> None:
    """Connect the receivers (idempotent); called by the app factory, never at import."""
    node_transitioned.connect(_on_transition, weak=False)
