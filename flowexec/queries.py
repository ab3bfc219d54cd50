"""Read-only queries for the history and flow listings: selects only, never a state change."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowexec.store.db import db
from flowexec.store.models import Execution
from flowexec.store.models import FlowVersion
from flowexec.store.models import WorkflowTask


@contextmanager
def _reading() -> Iterator[Session]:
    """End the read transaction afterwards (MySQL keeps its snapshot otherwise); rows stay loaded."""
    session: Session = db.session  # type: ignore[assignment]  # a scoped_session proxies a Session
    try:
        yield session
        session.commit()  # expire_on_commit is off: the rows returned stay readable
    except BaseException:
        session.rollback()
        raise


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


def _filtered(query: Select, where: ExecutionFilter) -> Select:  # type: ignore[type-arg]
    if where.flow_id is not None:
        query = query.where(Execution.flow_id == where.flow_id)
    if where.user is not None:
        query = query.where(WorkflowTask.um_user == where.user)
    if where.status is not None:
        query = query.where(WorkflowTask.status == where.status)
    if where.since is not None:
        query = query.where(WorkflowTask.created_time >= where.since)
    if where.until is not None:
        query = query.where(WorkflowTask.created_time < where.until)
    return query


def list_executions(where: ExecutionFilter) -> Page:
    """Return executions newest first (by taskID, which follows creation), one page of them."""
    with _reading() as session:
        base = select(WorkflowTask, Execution).join(Execution, Execution.task_id == WorkflowTask.id)
        query = _filtered(base, where).order_by(WorkflowTask.id.desc())
        query = query.limit(where.page_size).offset((where.page - 1) * where.page_size)
        rows = [ExecutionRow(task, execution) for task, execution in session.execute(query).all()]
        counted = _filtered(
            select(func.count())
            .select_from(WorkflowTask)
            .join(Execution, Execution.task_id == WorkflowTask.id),
            where,
        )
        total = int(session.execute(counted).scalar_one())
        return Page(rows, total)


@dataclass(frozen=True)
class FlowSummary:
    """A registered flow: its newest version and how many versions it has."""

    flow_id: int
    name: str | None
    latest_version: str
    versions: int
    updated_time: datetime


def list_flows(page: int = 1, page_size: int = 20) -> tuple[list[FlowSummary], int]:
    """Return registered flows by flowId, each with its newest version."""
    with _reading() as session:
        grouped = (
            select(FlowVersion.flow_id, func.max(FlowVersion.id).label("newest"), func.count().label("n"))
            .group_by(FlowVersion.flow_id)
            .subquery()
        )
        query = (
            select(FlowVersion, grouped.c.n)
            .join(grouped, FlowVersion.id == grouped.c.newest)
            .order_by(FlowVersion.flow_id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        flows = [
            FlowSummary(v.flow_id, v.name, v.version, int(n), v.created_time)
            for v, n in session.execute(query).all()
        ]
        total = int(session.execute(select(func.count(func.distinct(FlowVersion.flow_id)))).scalar_one())
        return flows, total


def flow_versions(flow_id: int) -> Sequence[FlowVersion]:
    """Return a flow's versions, newest first (empty when the flow is unknown)."""
    with _reading() as session:
        query = select(FlowVersion).where(FlowVersion.flow_id == flow_id).order_by(FlowVersion.id.desc())
        return session.execute(query).scalars().all()


def flow_version(flow_id: int, version: str | None) -> FlowVersion | None:
    """Return one version (the newest when ``version`` is None), or None."""
    with _reading() as session:
        query = select(FlowVersion).where(FlowVersion.flow_id == flow_id)
        if version:
            query = query.where(FlowVersion.version == version)
        return session.execute(query.order_by(FlowVersion.id.desc()).limit(1)).scalar_one_or_none()
