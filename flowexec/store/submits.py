"""A new execution's rows, written by prebuilt Core statements: the submit path's one round trip
each, and no statement built per request.

The ORM's unit of work costs more than the statements it sends here (flushes, identity map,
object state for rows nobody reads back in this transaction), and every ``execute`` request
pays it; the node steps keep their own statements (``repository``, ``statements``).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple
from typing import cast

from sqlalchemy import Row
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from flowexec.state import NodeState
from flowexec.store.db import is_mysql
from flowexec.store.models import Execution
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask

_TASKS = cast(Table, WorkflowTask.__table__)
_NODES = cast(Table, NodeRun.__table__)
_INSERT_TASK = insert(_TASKS)
_INSERT_EXECUTION = insert(cast(Table, Execution.__table__))
_INSERT_NODES = insert(_NODES)
_INSERT_NODES_RETURNING = _INSERT_NODES.returning(_NODES.c.id, sort_by_parameter_order=True)
_NAME_TASK = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("task_id"))
    .values(exec_id=bindparam("exec_id"), log_path=bindparam("log_path"))
)
_QUEUED = (
    select(_NODES.c.id, _NODES.c.task_id, _NODES.c.node_key, _NODES.c.job_type, _NODES.c.kind)
    .where(_NODES.c.task_id == bindparam("task_id"), _NODES.c.state == NodeState.QUEUED.value)
    .order_by(_NODES.c.id)
)


def insert_task(session: Session, values: Mapping[str, Any]) -> int:
    """Insert a run's ``dss_workflow_task`` row; return its id (the taskID)."""
    result = cast(CursorResult[Any], session.execute(_INSERT_TASK, dict(values)))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def name_task(session: Session, task_id: int, exec_id: str, log_path: str) -> None:
    """Give a new task row what its id decides: DSS's short execID and the flow log's path."""
    session.execute(_NAME_TASK, {"task_id": task_id, "exec_id": exec_id, "log_path": log_path})


def insert_execution(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(_INSERT_EXECUTION, dict(values))


class QueuedNode(NamedTuple):
    """What dispatch needs of a queued node, as ``queued`` reads it."""

    id: int
    task_id: int
    node_key: str
    job_type: str
    kind: str


def insert_nodes(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[QueuedNode] | None:
    """Every node row of the execution in one multi-row INSERT (the rows share their columns).

    On MariaDB the same statement returns the new ids (``INSERT ... RETURNING``, in the rows'
    order), and the queued ones come back without a second round trip; elsewhere (MySQL has no
    RETURNING; SQLite would send one INSERT per row for it) None, and ``queued`` reads them.
    """
    params = [dict(row) for row in rows]
    if not _returns_ids(session):
        session.execute(_INSERT_NODES, params)
        return None
    ids = session.execute(_INSERT_NODES_RETURNING, params).scalars().all()
    return [
        QueuedNode(int(node_id), row["task_id"], row["node_key"], row["job_type"], row["kind"])
        for node_id, row in zip(ids, params, strict=True)
        if row["state"] == NodeState.QUEUED.value
    ]


def _returns_ids(session: Session) -> bool:
    return is_mysql(session) and bool(
        session.get_bind().dialect.insert_executemany_returning_sort_by_parameter_order
    )


def queued(session: Session, task_id: int) -> Sequence[Row[*tuple[Any, ...]]]:
    """The execution's queued nodes, with what dispatch needs of them (not their specs)."""
    return session.execute(_QUEUED, {"task_id": task_id}).all()
