"""The flow log: DSS's flow lines (submitted, scheduled, running, success, skipped, failed),
told from the execution's rows, and the file they are written to.

flowexec keeps each node's times in the database, so the lines are derived from the rows: at
submit the file gets its first lines, and when the execution ends it is written whole, after
the commit (never inside a node's transaction). ``/{execID}/log`` derives the lines while the
execution runs and reads the file once it has ended; Linkis's ``filesystem/openLog`` serves
the same file at the ``logPath`` the status reply gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
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
        if node.log_path:
            events.append((node.finished_at, "INFO", f"node {node.title} Linkis log: {node.log_path}"))
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


def file_path(log_path: str | None) -> Path | None:
    """The local file of a ``file://`` log path (None for any other scheme)."""
    if not log_path or not log_path.startswith("file://"):
        return None
    return Path(log_path.removeprefix("file://"))


def render(lines: Sequence[tuple[str, str]]) -> str:
    return "".join(line + "\n" for _, line in lines)


def write(log_path: str | None, lines: Sequence[tuple[str, str]]) -> None:
    """Write the whole log (a temporary file renamed over it: readers never see half a log)."""
    target = file_path(log_path)
    if target is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(render(lines), encoding="utf-8")
    partial.replace(target)


def read(log_path: str | None) -> list[tuple[str, str]] | None:
    """The lines of a written log with their levels; None when there is no such file."""
    target = file_path(log_path)
    if target is None or not target.is_file():
        return None
    out = []
    for line in target.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(" ", 3)
        out.append((parts[2] if len(parts) > 2 and parts[2] in LEVELS else "INFO", line))
    return out


def page(lines: Sequence[tuple[str, str]], from_line: int, size: int, distinct: bool) -> tuple[Any, int]:
    """Cut Linkis's cursor page: ``fromLine`` counts from 0, ``size`` -1 means everything."""
    chunk = list(lines[from_line:] if size < 0 else lines[from_line : from_line + size])
    text = "\n".join(line for _, line in chunk)
    if not distinct:
        return text, from_line + len(chunk)
    slots = ["\n".join(line for level, line in chunk if level == wanted) for wanted in LEVELS]
    return [*slots, text], from_line + len(chunk)
