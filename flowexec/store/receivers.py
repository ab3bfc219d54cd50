"""Receivers of ``node_transitioned``: keep DSS's two tables current at every transition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.orm import Session

from flowexec import planner
from flowexec.signals import Transitions
from flowexec.signals import node_transitioned
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.store.models import WorkflowExecuteInfo
from flowexec.store.models import WorkflowTask

#: A run is Running from its first node's submission on.
_NOT_STARTED = (RunState.INITED.value, RunState.SCHEDULED.value, RunState.WAIT_FOR_RETRY.value)


_TASKS = WorkflowTask.__table__
_INFOS = WorkflowExecuteInfo.__table__
#: Attribute name -> column of the node lists (``pending_jobs`` is ``Pending_jobs``).
_LIST_COLUMNS = {name: WorkflowExecuteInfo.__mapper__.columns[name] for name in planner.INFO_LISTS}

# Prebuilt: a transition's statements are built once, not at every transition.
_PROGRESS = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("task_id"))
    .values(progress=bindparam("b_progress"), updated_time=bindparam("at"))
)
_PROGRESS_AND_RUNNING = _PROGRESS.values(
    status=case((_TASKS.c.status.in_(_NOT_STARTED), RunState.RUNNING.value), else_=_TASKS.c.status)
)
_LATEST_INFO = (
    select(_INFOS.c.id, _INFOS.c.task_id, *_LIST_COLUMNS.values())
    .where(_INFOS.c.flow_id == bindparam("flow_id"), _INFOS.c.version == bindparam("version"))
    .order_by(_INFOS.c.id.desc())
    .limit(1)
    .with_for_update()
)
_INFO_OWNER = (
    select(_INFOS.c.id, _INFOS.c.task_id)
    .where(_INFOS.c.flow_id == bindparam("flow_id"), _INFOS.c.version == bindparam("version"))
    .order_by(_INFOS.c.id.desc())
    .limit(1)
    .with_for_update()
)
#: Small batches move their nodes in the database (MariaDB/MySQL): the lists, tens of KiB on a
#: big flow, are then neither read nor sent back at every transition.
_EDIT_IN_DATABASE_MAX = 8
_EDIT_LENGTH_MAX = 4000
#: taskID -> id of the execute_info row its transitions last wrote (this process's memory).
_INFO_ROWS: dict[int, int] = {}


def update_task(session: Session, batch: Transitions) -> None:
    """Move ``dss_workflow_task`` to Running at the first submission; keep its progress."""
    if batch.task_written:
        return
    statement = (
        _PROGRESS_AND_RUNNING if any(c.new is NodeState.SUBMITTING for c in batch.changes) else _PROGRESS
    )
    session.execute(
        statement,
        {
            "task_id": batch.task_id,
            "at": datetime.now(),
            "b_progress": batch.settled / batch.total if batch.total else 1.0,
        },
    )


def update_info(session: Session, batch: Transitions) -> None:
    """Move the changed nodes between ``dss_workflow_execute_info``'s lists."""
    edits = _list_edits(session, batch)
    if edits is not None:
        assignments, params = edits
        params.update(at=datetime.now(), task_id=batch.task_id, flow_id=batch.flow_id, version=batch.version)
        known = _INFO_ROWS.get(batch.task_id)
        if known is not None and getattr(session.get_bind().dialect, "is_mariadb", False):
            # The row found before, if it is still this execution's and still the latest of its
            # version (MariaDB reads the table an UPDATE writes): no SELECT first.
            params["info_id"] = known
            if (
                session.execute(
                    text(
                        f"UPDATE dss_workflow_execute_info SET {assignments}updatetime = :at WHERE id = :info_id "
                        "AND task_id = :task_id AND flow_id = :flow_id AND version = :version AND NOT EXISTS ("
                        "SELECT 1 FROM dss_workflow_execute_info newer WHERE newer.flow_id = :flow_id "
                        "AND newer.version = :version AND newer.id > :info_id)"
                    ),
                    params,
                ).rowcount
                == 1
            ):  # type: ignore[attr-defined]
                return
            _INFO_ROWS.pop(batch.task_id, None)
        row = session.execute(_INFO_OWNER, {"flow_id": batch.flow_id, "version": batch.version}).first()
        if row is None or row.task_id != batch.task_id:
            return  # a newer execution of this version owns the row now
        if len(_INFO_ROWS) >= 10_000:
            _INFO_ROWS.clear()
        _INFO_ROWS[batch.task_id] = params["info_id"] = row.id
        session.execute(
            text(f"UPDATE dss_workflow_execute_info SET {assignments}updatetime = :at WHERE id = :info_id"),
            params,
        )
        return
    if batch.version is not None:
        found = session.execute(_LATEST_INFO, {"flow_id": batch.flow_id, "version": batch.version}).first()
    else:
        found = session.execute(
            select(_INFOS.c.id, _INFOS.c.task_id, *_LIST_COLUMNS.values())
            .where(_INFOS.c.flow_id == batch.flow_id)
            .order_by(_INFOS.c.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
    if found is None or found.task_id != batch.task_id:
        return  # a newer execution of this version owns the row now
    lists = {name: found._mapping[column] or "" for name, column in _LIST_COLUMNS.items()}
    lists = planner.move_all_in_lists(lists, ((c.key, c.old, c.new) for c in batch.changes))
    session.execute(
        update(_INFOS)
        .where(_INFOS.c.id == found.id)
        .values(
            updatetime=datetime.now(), **{_LIST_COLUMNS[name].key: value for name, value in lists.items()}
        )
    )


def _list_edits(session: Session, batch: Transitions) -> tuple[str, dict[str, Any]] | None:
    """The SET clause moving a small batch's nodes in SQL, as ``planner.move_all_in_lists`` does
    on lists it wrote (no empty or repeated keys); None when the batch is edited in Python."""
    if batch.version is None or len(batch.changes) > _EDIT_IN_DATABASE_MAX:
        return None
    if session.get_bind().dialect.name not in ("mysql", "mariadb"):
        return None
    exprs: dict[str, str] = {}
    params: dict[str, Any] = {}
    for i, change in enumerate(batch.changes):
        if "," in change.key:
            return None
        params[f"k{i}"], params[f"d{i}"] = change.key, f",{change.key},"
        for name, members in planner.INFO_LISTS.items():
            was, now = change.old in members, change.new in members
            if was == now:
                continue
            current = exprs.get(name, f"`{_LIST_COLUMNS[name].name}`")
            wrapped = f"CONCAT(',', COALESCE({current}, ''), ',')"
            if was:  # remove the key (REPLACE matches case-sensitively, like Python)
                exprs[name] = f"TRIM(BOTH ',' FROM REPLACE({wrapped}, :d{i}, ','))"
            else:  # append the key unless it is there (BINARY: a case-sensitive search)
                exprs[name] = (
                    f"IF(INSTR({wrapped}, BINARY :d{i}) > 0, COALESCE({current}, ''), "
                    f"CONCAT_WS(',', NULLIF({current}, ''), :k{i}))"
                )
            if len(exprs[name]) > _EDIT_LENGTH_MAX:
                return None
    return "".join(f"`{_LIST_COLUMNS[name].name}` = {expr}, " for name, expr in exprs.items()), params


def _on_transition(sender: Session, batch: Transitions, **_: Any) -> None:
    update_task(sender, batch)
    update_info(sender, batch)


def connect() -> None:
    """Connect the receivers (idempotent); called by the app factory, never at import."""
    node_transitioned.connect(_on_transition, weak=False)
