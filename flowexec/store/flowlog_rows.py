"""What the flow log prints of an execution, read as plain rows: its columns and no others.

The log is written after every execution's end, on a worker; the ORM objects of the task and
its nodes (specs and all) cost more to build than the lines take to tell.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import select

from flowexec.store.batch import Write
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


def ending_read(task_id: int) -> Write:
    """An execution's nodes in id order, each with its run's status (``run_status``): what its
    end reads and its flow log shows, as a read for the caller's batch (``store.batch``)."""
    return _ENDING_ROWS, {"task_id": task_id}


def task_read(task_id: int) -> Write:
    """The task row's columns the flow log reads, as the caller's batch reads them (``store.batch``)."""
    return _TASK, {"task_id": task_id}
