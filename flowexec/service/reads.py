"""Read models: what the HTTP routes and the CLI show. Each read is its own short transaction
(MySQL keeps a read snapshot open otherwise); rows come back loaded and detached-safe."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from flowexec.config import Settings
from flowexec.service.jobs import linkis_user
from flowexec.service.steps import node_and_task
from flowexec.store import flows
from flowexec.store import history
from flowexec.store import repository as repo
from flowexec.store import tasks
from flowexec.store.db import in_transaction
from flowexec.store.flows import FlowSummary
from flowexec.store.history import ExecutionFilter
from flowexec.store.history import Page
from flowexec.store.models import Execution
from flowexec.store.models import FlowVersion
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask

__all__ = ["ExecutionFilter", "FlowSummary", "Page", "RunView"]


@dataclass(frozen=True)
class RunView:
    """An execution without its nodes: the task row and the counters (one row each)."""

    task: WorkflowTask
    execution: Execution


def execution(task_id: int) -> RunView:
    """An execution's task row and counters, without reading a node row."""

    def work(session: Session) -> RunView:
        return RunView(repo.get_task(session, task_id), repo.get_execution(session, task_id))

    return in_transaction(work)


def status(task_id: int) -> Row[*tuple[Any, ...]]:
    """What DSS's ``status`` shows of an execution (owner, status, log path): one row, read
    with the execution's, as ``execution`` would, without building either."""
    return in_transaction(lambda session: tasks.status_row(session, task_id))


def task(task_id: int) -> WorkflowTask:
    """One ``dss_workflow_task`` row (DSS's ``status`` and ``kill`` read nothing else)."""
    return in_transaction(lambda session: repo.get_task(session, task_id))


def nodes(task_id: int) -> Sequence[NodeRun]:
    """An execution's node rows, in id order."""
    return in_transaction(lambda session: repo.all_nodes(session, task_id))


def execution_nodes(task_id: int) -> tuple[WorkflowTask, Execution, Sequence[NodeRun]]:
    """Return an execution's task row, its counters and its node rows."""

    def work(session: Session) -> tuple[WorkflowTask, Execution, Sequence[NodeRun]]:
        found = RunView(repo.get_task(session, task_id), repo.get_execution(session, task_id))
        return found.task, found.execution, repo.all_nodes(session, task_id)

    return in_transaction(work)


def node_linkis_user(node_id: int, settings: Settings) -> str:
    """Return the Linkis user a node's job runs as."""
    _, found = in_transaction(lambda s: node_and_task(s, node_id))
    return linkis_user(found, settings)


def list_executions(where: ExecutionFilter) -> Page:
    """The history, newest first, one page of it."""
    return in_transaction(lambda session: history.page(session, where))


def list_flows(page: int = 1, page_size: int = 20) -> tuple[list[FlowSummary], int]:
    """Registered flows by flowId, each with its newest version."""
    return in_transaction(lambda session: flows.catalogue(session, page, page_size))


def flow_versions(flow_id: int) -> Sequence[FlowVersion]:
    """A flow's versions, newest first (empty when the flow is unknown)."""
    return in_transaction(lambda session: flows.versions(session, flow_id))


def flow_version(flow_id: int, version: str | None) -> FlowVersion | None:
    """One version (the newest when ``version`` is None), or None."""
    return in_transaction(lambda session: flows.newest(session, flow_id, version))
