"""DSS's ``status`` read: what it shows of an execution flowexec runs, in one statement."""

from __future__ import annotations

from typing import Any
from typing import cast

from sqlalchemy import Row
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowexec.errors import NotFound
from flowexec.store.models import Execution
from flowexec.store.models import WorkflowTask

_TASKS = cast(Table, WorkflowTask.__table__)
_EXECUTIONS = cast(Table, Execution.__table__)
#: The task row's owner, status and log path, if flowexec runs it (its execution row exists:
#: beside DSS, ``dss_workflow_task`` also holds DSS's own runs).
_STATUS = (
    select(_TASKS.c.id, _TASKS.c.um_user, _TASKS.c.status, _TASKS.c.log_path)
    .join(_EXECUTIONS, _EXECUTIONS.c.task_id == _TASKS.c.id)
    .where(_TASKS.c.id == bindparam("task_id"))
)


def status_row(session: Session, task_id: int) -> Row[*tuple[Any, ...]]:
    """``id``, ``um_user``, ``status`` and ``log_path`` of an execution's task row."""
    row = session.execute(_STATUS, {"task_id": task_id}).first()
    if row is None:
        raise NotFound(f"execution {task_id} not found")
    return row
