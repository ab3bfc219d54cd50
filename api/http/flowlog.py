"""The flow log DSS's ``/{execID}/log`` serves, told from the execution's rows.

DSS writes flow lines (scheduled, running, success, skipped, failed) to a file; flowexec keeps
each node's times in MySQL instead, so the same lines are derived on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flowexec.state import NodeState

LEVELS = ("ERROR", "WARN", "INFO")
OUTCOME = {
    NodeState.SUCCEED: ("INFO", "node {title} execute success"),
    NodeState.FAILED: ("ERROR", "node {title} execute fail: {error}"),
    NodeState.TIMEOUT: ("ERROR", "node {title} timed out: {error}"),
    NodeState.CANCELLED: ("WARN", "node {title} has cancelled"),
    NodeState.SKIPPED: ("WARN", "node {title} has skipped"),
}


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}"


def _node_events(node: Any) -> list[tuple[datetime, str, str]]:
    events = []
    if node.queued_at is not None:
        events.append((node.queued_at, "INFO", f"node {node.title} in scheduled"))
    if node.started_at is not None and node.state != NodeState.SKIPPED.value:
        job = f" (Linkis taskID {node.linkis_task_id})" if node.linkis_task_id else ""
        events.append((node.started_at, "INFO", f"node {node.title} in running{job}"))
    outcome = OUTCOME.get(NodeState(node.state))
    if outcome is not None and node.finished_at is not None:
        level, text = outcome
        events.append((node.finished_at, level, text.format(title=node.title, error=node.error or "")))
    return events


def flow_lines(task: Any, nodes: Sequence[Any]) -> list[tuple[str, str]]:
    """Return ``(level, line)`` pairs in time order, as DSS's flow log has them."""
    start = task.created_time or datetime.now()
    events = [
        (start, "INFO", f"Job with taskId : {task.id} and execID : {task.exec_id} submitted"),
        (
            start,
            "INFO",
            f"You have submitted a new job, script code (after variable substitution) is "
            f"{task.execution_code}",
        ),
        (start, "INFO", "Your job is accepted"),
    ]
    for node in nodes:
        events.extend(_node_events(node))
    events.sort(key=lambda e: e[0])
    if task.status in ("Succeed", "Failed", "Cancelled", "Timeout"):
        end = max([e[0] for e in events] + [task.updated_time or start])
        level = "INFO" if task.status == "Succeed" else "ERROR"
        detail = f": {task.err_desc}" if task.err_desc else ""
        events.append((end, level, f"Job {task.status}{detail}"))
    return [(level, f"{_stamp(at)} {level} {text}") for at, level, text in events]


def page(lines: Sequence[tuple[str, str]], from_line: int, size: int, distinct: bool) -> tuple[Any, int]:
    """Cut Linkis's cursor page: ``fromLine`` counts from 0, ``size`` -1 means everything."""
    chunk = list(lines[from_line:] if size < 0 else lines[from_line : from_line + size])
    text = "\n".join(line for _, line in chunk)
    if not distinct:
        return text, from_line + len(chunk)
    slots = ["\n".join(line for level, line in chunk if level == wanted) for wanted in LEVELS]
    return [*slots, text], from_line + len(chunk)
