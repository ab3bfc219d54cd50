"""What the flow log prints of an execution, read as plain rows: its columns and no others.

The log is written after every execution's end, on a worker; the ORM objects of the task and
its nodes (specs and all) cost more to build than the lines take to tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from typing import cast

from sqlalchemy import Row
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowexec.errors import NotFound
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask

_TASKS = cast(Table, WorkflowTask.__table__)
_NODES = cast(Table, NodeRun.__table__)
#: The columns ``flowlog.flow_lines`` and ``flowlog.write`` read, of the task and of each node.
TASK_COLUMNS = (
    "id",
    "exec_id",
    "execution_code",
    "created_time",
    "updated_time",
    "status",
    "err_desc",
    "log_path",
)
NODE_COLUMNS = (
    "title",
    "state",
    "queued_at",
    "started_at",
    "finished_at",
    "linkis_task_id",
    "error",
    "log_path",
)
_TASK = select(*(_TASKS.c[name] for name in TASK_COLUMNS)).where(_TASKS.c.id == bindparam("task_id"))
_NODE_ROWS = (
    select(_NODES.c.node_key, *(_NODES.c[name] for name in NODE_COLUMNS))
    .where(_NODES.c.task_id == bindparam("task_id"))
    .order_by(_NODES.c.id)
)


#: An execution's end: its nodes as ``_NODE_ROWS`` reads them, each with its run's status
#: (``run_status``, an uncorrelated subquery the server evaluates once): one round trip.
_ENDING_ROWS = _NODE_ROWS.add_columns(
    select(_TASKS.c.status).where(_TASKS.c.id == bindparam("task_id")).scalar_subquery().label("run_status")
)


def task_row(session: Session, task_id: int) -> Row[*tuple[Any, ...]]:
    """The task row's columns ``flowlog`` reads (as this transaction sees them)."""
    task = session.execute(_TASK, {"task_id": task_id}).first()
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


def node_rows(session: Session, task_id: int) -> Sequence[Row[*tuple[Any, ...]]]:
    """An execution's nodes in id order: their key and the columns ``flowlog`` reads (which
    are also all that an execution's end reads: state, start, title, error)."""
    return session.execute(_NODE_ROWS, {"task_id": task_id}).all()


def ending_rows(session: Session, task_id: int) -> Sequence[Row[*tuple[Any, ...]]]:
    """``node_rows`` with the run's status beside each (``run_status``), for an execution's end."""
    return session.execute(_ENDING_ROWS, {"task_id": task_id}).all()
