"""The execution history: filtered, paged, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy import Select
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowexec.store.models import Execution
from flowexec.store.models import WorkflowTask


@dataclass(frozen=True)
class ExecutionFilter:
    """What a history listing asks for; ``None`` means no restriction."""

    flow_id: int | None = None
    user: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class ExecutionRow:
    """One line of the history: the task row and its flowexec counters."""

    task: WorkflowTask
    execution: Execution


@dataclass(frozen=True)
class Page:
    """A page of rows and the total count under the same filter."""

    rows: Sequence[ExecutionRow]
    total: int


def _filtered(query: Select[*tuple[Any, ...]], where: ExecutionFilter) -> Select[*tuple[Any, ...]]:
    if where.flow_id is not None:
        query = query.where(Execution.flow_id == where.flow_id)
    if where.user is not None:
        # the index finds the rows; the binary compare keeps MariaDB's collation from matching "Alice"
        exact = cast(WorkflowTask.um_user, LargeBinary) == cast(literal(where.user), LargeBinary)
        query = query.where(WorkflowTask.um_user == where.user, exact)
    if where.status is not None:
        query = query.where(WorkflowTask.status == where.status)
    if where.since is not None:
        query = query.where(WorkflowTask.created_time >= where.since)
    if where.until is not None:
        query = query.where(WorkflowTask.created_time < where.until)
    return query


def page(session: Session, where: ExecutionFilter) -> Page:
    """Executions newest first (by taskID, which follows creation), one page of them."""
    base = select(WorkflowTask, Execution).join(Execution, Execution.task_id == WorkflowTask.id)
    query = _filtered(base, where).order_by(WorkflowTask.id.desc())
    query = query.limit(where.page_size).offset((where.page - 1) * where.page_size)
    rows = [ExecutionRow(task, execution) for task, execution in session.execute(query).all()]
    counted = _filtered(
        select(func.count()).select_from(WorkflowTask).join(Execution, Execution.task_id == WorkflowTask.id),
        where,
    )
    return Page(rows, int(session.execute(counted).scalar_one()))
