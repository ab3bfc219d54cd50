"""DSS's two tables kept as DSS's tools read them, from the node rows and their moves.

- ``dss_workflow_task``: Running from the first node's submission, progress at every batch of
  moves (a receiver of ``node_transitioned``, in the transaction that moved the nodes); a
  node's end counted alone writes it at each whole percent (``settling.settle_writes``).
- ``dss_workflow_execute_info``: written when the execution ends, as DSS writes it: the newest
  row of that (flow, version) is updated (``succeed_jobs`` merged with the ids it held) or a row
  is inserted; a newer run never wipes it while it runs. Failed rerun reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from typing import cast

from sqlalchemy import Column
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from flowexec import planner
from flowexec.events import Transitions
from flowexec.events import node_transitioned
from flowexec.state import NODE_TERMINAL
from flowexec.state import NodeState
from flowexec.store import repository as repo
from flowexec.store.batch import Write
from flowexec.store.models import WorkflowExecuteInfo

_INFO = cast(Table, WorkflowExecuteInfo.__table__)
#: The node lists' columns by attribute name (``pending_jobs`` is DSS's ``Pending_jobs``).
_COLUMNS: dict[str, Column[Any]] = {
    name: WorkflowExecuteInfo.__mapper__.columns[name] for name in planner.INFO_LISTS
}


def update_task(session: Session, batch: Transitions) -> None:
    """Move ``dss_workflow_task`` to Running at the first submission; keep its progress.

    A batch that settles no node leaves the progress as it is: the row is written only when a
    node settles (progress) or is submitted (Running, once), so submissions and polls of one
    execution do not queue on its task row.
    """
    if batch.task_written:
        return
    running = any(c.new is NodeState.SUBMITTING for c in batch.changes)
    if any(c.new in NODE_TERMINAL for c in batch.changes):
        progress = batch.settled / batch.total if batch.total else 1.0
        repo.write_progress(session, batch.task_id, progress, running, datetime.now())
    elif running:
        repo.start_run(session, batch.task_id, datetime.now())


def _newest_info(session: Session, flow_id: int, version: str | None) -> WorkflowExecuteInfo | None:
    query = select(WorkflowExecuteInfo).where(WorkflowExecuteInfo.flow_id == flow_id)
    if version is not None:
        query = query.where(WorkflowExecuteInfo.version == version)
    query = query.order_by(WorkflowExecuteInfo.id.desc()).limit(1).with_for_update()
    return session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()


def merge_ids(new: str, old: str | None) -> str:
    """``new`` plus the ids of ``old`` it lacks, in order (DSS merges ``succeed_jobs`` so)."""
    keys = dict.fromkeys(k for k in new.split(",") if k)
    keys.update(dict.fromkeys(k for k in (old or "").split(",") if k))
    return ",".join(keys)


#: The newest ``execute_info`` row of a flow version, locked: only what an execution's end merges.
_NEWEST_INFO = (
    select(_INFO.c.id, _INFO.c.succeed_jobs)
    .where(_INFO.c.flow_id == bindparam("flow_id"), _INFO.c.version == bindparam("version"))
    .order_by(_INFO.c.id.desc())
    .limit(1)
    .with_for_update()
)
#: What an execution's end writes into that row, bound by attribute name (``v_<name>``).
_ENDED: dict[Column[Any], Any] = {column: bindparam(f"v_{name}") for name, column in _COLUMNS.items()} | {
    _INFO.c.task_id: bindparam("v_task_id"),
    _INFO.c.status: bindparam("v_status"),
    _INFO.c.updatetime: bindparam("v_at"),
}
_UPDATE_INFO = update(_INFO).where(_INFO.c.id == bindparam("info_id")).values(_ENDED)
_INSERT_INFO = insert(_INFO).values(
    _ENDED
    | {
        _INFO.c.flow_id: bindparam("v_flow_id"),
        _INFO.c.version: bindparam("v_version"),
        _INFO.c.createtime: bindparam("v_at"),
    }
)


def newest_info(flow_id: int, version: str) -> Write:
    """The read (for the caller's batch) that locks the newest ``execute_info`` row of a flow
    version, the one an execution's end writes (``info_write``)."""
    return _NEWEST_INFO, {"flow_id": flow_id, "version": version}


def info_write(
    newest: Any,
    task_id: int,
    flow_id: int,
    version: str,
    states: Mapping[str, NodeState],
    succeeded: bool,
    at: datetime,
) -> Write:
    """The write of the ended execution's node lists into ``newest`` (as ``newest_info`` read
    it), or of a new row when there is none."""
    lists = planner.info_lists(states)
    if newest is not None:
        lists["succeed_jobs"] = merge_ids(lists["succeed_jobs"], newest.succeed_jobs)
    params: dict[str, Any] = {f"v_{name}": value for name, value in lists.items()}
    params.update(v_task_id=task_id, v_status=1 if succeeded else 0, v_at=at)
    if newest is None:
        return _INSERT_INFO, {**params, "v_flow_id": flow_id, "v_version": version}
    return _UPDATE_INFO, {**params, "info_id": newest.id}


def rerun_done(session: Session, flow_id: int, version: str | None = None) -> frozenset[str] | None:
    """What the newest failed execution of a flow (of that version, when given) succeeded or
    skipped (None: no such row). A run in progress never touches the row, so a rerun sent
    while another run of the version is active reruns the last failed one."""
    query = select(WorkflowExecuteInfo).where(
        WorkflowExecuteInfo.flow_id == flow_id, WorkflowExecuteInfo.status == 0
    )
    if version is not None:
        query = query.where(WorkflowExecuteInfo.version == version)
    info = session.execute(query.order_by(WorkflowExecuteInfo.id.desc()).limit(1)).scalar_one_or_none()
    if info is None:
        return None
    done = f"{info.succeed_jobs or ''},{info.skipped_jobs or ''}"
    return frozenset(k for k in done.split(",") if k)


def _on_transition(sender: Session, batch: Transitions, **_: Any) -> None:
    update_task(sender, batch)


def connect() -> None:
    """Connect the receivers (idempotent); called by the app factory, never at import."""
    node_transitioned.connect(_on_transition, weak=False)
