"""A new execution's rows, written by prebuilt Core statements, no statement built per request:
the task row (its id is the taskID), then the rest with the queued nodes read back and the
COMMIT in one round trip on MariaDB/MySQL (``store.batch``).

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

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from flowexec.state import NodeState
from flowexec.store import batch
from flowexec.store.models import Execution
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask

_TASKS = cast(Table, WorkflowTask.__table__)
_NODES = cast(Table, NodeRun.__table__)
_INSERT_TASK = insert(_TASKS)
_INSERT_EXECUTION = insert(cast(Table, Execution.__table__))
_INSERT_NODES = insert(_NODES)
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


def name_task(task_id: int, exec_id: str, log_path: str) -> batch.Write:
    """Give a new task row what its id decides: DSS's short execID and the flow log's path."""
    return _NAME_TASK, {"task_id": task_id, "exec_id": exec_id, "log_path": log_path}


def insert_execution(values: Mapping[str, Any]) -> batch.Write:
    return _INSERT_EXECUTION, dict(values)


class QueuedNode(NamedTuple):
    """What dispatch needs of a queued node, as ``write_execution`` reads it back."""

    id: int
    task_id: int
    node_key: str
    job_type: str
    kind: str


#: Node rows sent in the same round trip as the rest of the execution, at most (a flow's
#: specs can be large; beyond these, the nodes are inserted by SQLAlchemy, page by page).
ONE_TRIP_NODES = 500
ONE_TRIP_CHARS = 1 << 20


def write_execution(
    session: Session,
    task_id: int,
    writes: batch.Writes,
    nodes: Sequence[Mapping[str, Any]],
    commit: bool,
) -> Sequence[Any]:
    """Run ``writes`` (the task's name, the execution row), insert every node row of the
    execution in one multi-row INSERT, and read back the queued ones; ``commit``: the
    transaction ends with them.

    On MariaDB/MySQL that is one round trip; a flow too large to send at once takes three or
    more (the rest, its nodes page by page, then the read and the COMMIT).
    """
    if len(nodes) <= ONE_TRIP_NODES and sum(len(n["spec"] or "") for n in nodes) <= ONE_TRIP_CHARS:
        writes = [*writes, batch.Rows(_INSERT_NODES, nodes)]
    else:
        batch.run(session, *writes)
        session.execute(_INSERT_NODES, [dict(node) for node in nodes])
        writes = []
    outcomes = batch.run(session, *writes, (_QUEUED, {"task_id": task_id}), commit=commit)
    return [QueuedNode(*row) for row in outcomes[-1].rows]
