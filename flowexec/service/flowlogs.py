"""Writing an execution's flow log file (``dss_workflow_task.log_path``), after commits."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from flowexec import flowlog
from flowexec.store.db import after_commit

log = logging.getLogger(__name__)


#: What a node row has before it first runs (the flow log reads these too).
_UNSTARTED = {
    "started_at": None,
    "finished_at": None,
    "linkis_task_id": None,
    "error": None,
    "log_path": None,
}


def write_first_after_commit(
    session: Session, task: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]]
) -> None:
    """Write a new execution's first lines once its rows commit, from the values this
    transaction inserted: nothing moves them before the first nodes are dispatched, which
    happens after this write, so reading them back would tell the same lines."""
    task_row = SimpleNamespace(err_desc=None, **task)
    node_rows = [SimpleNamespace(**{**_UNSTARTED, **node}) for node in nodes]

    def first_lines() -> None:
        _write_file(task_row, node_rows)

    after_commit(session, first_lines)


def write_ended_after_commit(session: Session, task: Any, nodes: Sequence[Any]) -> None:
    """Write an ended execution's flow log once the transaction that ended it commits, from
    the rows it read and wrote (its task row read back after its end, so the times are as
    stored: ``flowlog_rows.task_read``)."""
    after_commit(session, lambda: _write_file(task, nodes))


def _write_file(task: Any, nodes: Sequence[Any]) -> None:
    task_id = task.id
    try:
        flowlog.write(task.log_path, flowlog.flow_lines(task, nodes))
    except OSError as exc:
        log.warning("flow log not written task_id=%s path=%s: %s", task_id, task.log_path, exc)


def lines(task: Any, nodes: Sequence[Any]) -> list[tuple[str, str]]:
    """The flow log as ``/{execID}/log`` serves it: the file once the execution has ended, else
    (or if the file is gone) the lines derived from the rows."""
    if task.status in ("Succeed", "Failed", "Cancelled", "Timeout"):
        written = flowlog.read(task.log_path)
        if written is not None:
            return written
    return flowlog.flow_lines(task, nodes)
