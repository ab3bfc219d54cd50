"""DSS execIDs: built and parsed here only.

Linkis shape: ``exec_id`` + 3-digit lengths of the application name and the instance, the
application name, the instance, then the short job id
(``flowexecution_<user>_flowexecution_<taskID>``). DSS only echoes it in the paths of
``status``/``kill``/``execution``, so the taskID at its end is what identifies the run.
"""

from __future__ import annotations

import re
import socket

from flowexec.errors import NotFound

APPLICATION = "flowexecution"
_SHORT_MAX = 50  # dss_workflow_task.exec_id is varchar(50)
_TAIL = re.compile(r"_(\d+)$")


def instance_name() -> str:
    """This process's instance, as DSS records it (the host name, cut to the column)."""
    return socket.gethostname()[:40] or "flowexec"


def short_exec_id(task_id: int, user: str) -> str:
    """The scheduler job id stored in ``dss_workflow_task.exec_id``."""
    candidate = f"{APPLICATION}_{user}_{APPLICATION}_{task_id}"
    return candidate if len(candidate) <= _SHORT_MAX else f"{APPLICATION}_{task_id}"


def build(task_id: int, user: str, instance: str | None = None) -> str:
    """Return the execID DSS's web echoes back for this run."""
    where = instance_name() if instance is None else instance
    return f"exec_id{len(APPLICATION):03d}{len(where):03d}{APPLICATION}{where}{short_exec_id(task_id, user)}"


def task_id_of(exec_id: str) -> int:
    """Return the taskID an execID ends with; a malformed execID is a clean NotFound."""
    match = _TAIL.search(exec_id)
    if not match or not exec_id.startswith("exec_id") or int(match.group(1)) >= 2**63:
        raise NotFound(f"execution {exec_id!r} not found")
    return int(match.group(1))


def parse_task_id(text: str) -> int:
    """Accept either a taskID or an execID (the CLI and native routes take both)."""
    if text.isdigit():
        if int(text) >= 2**63:
            raise NotFound(f"execution {text!r} not found")
        return int(text)
    return task_id_of(text)
