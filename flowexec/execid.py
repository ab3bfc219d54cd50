"""DSS execIDs: built and parsed here only.

Linkis shape: ``exec_id`` + 3-digit lengths of the application name and the instance, the
application name, the instance, then the short job id
(``flowexecution_<user>_flowexecution_<taskID>``). DSS only echoes it in the paths of
``status``/``kill``/``execution``, so the taskID at its end is what identifies the run.

Behind a Linkis gateway (>= 1.4) the execID is also the route: the gateway decodes the
application name and the ``host:port`` instance from it and sends ``status``/``kill``/``execution``
to exactly that Eureka instance (``ZuulEntranceUtils.generateExecID``/``parseServiceInstanceByExecID``).
So a registered instance builds it from its Eureka app name (lower case) and ``host:port``.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from flowexec.errors import NotFound

APPLICATION = "flowexecution"
PREFIX = "exec_id"
_SHORT_MAX = 50  # dss_workflow_task.exec_id is varchar(50)
_TAIL = re.compile(r"_(\d+)$")


@dataclass(frozen=True)
class Route:
    """Where an execID says its run lives: the Eureka application and instance (``host:port``)."""

    application: str
    instance: str


@dataclass(frozen=True)
class ParsedExecId:
    application: str
    instance: str
    short_id: str
    task_id: int


def instance_name() -> str:
    """This process's instance, as DSS records it (the host name, cut to the column)."""
    return socket.gethostname()[:40] or "flowexec"


def short_exec_id(task_id: int, user: str) -> str:
    """The scheduler job id stored in ``dss_workflow_task.exec_id``."""
    candidate = f"{APPLICATION}_{user}_{APPLICATION}_{task_id}"
    return candidate if len(candidate) <= _SHORT_MAX else f"{APPLICATION}_{task_id}"


def compose(application: str, instance: str, short_id: str) -> str:
    """Linkis's ``generateExecID``: prefix, both lengths in three digits, the parts."""
    if len(application) > 999 or len(instance) > 999:
        raise ValueError("application and instance must be shorter than 1000 characters")
    return f"{PREFIX}{len(application):03d}{len(instance):03d}{application}{instance}{short_id}"


def build(task_id: int, user: str, instance: str | None = None, route: Route | None = None) -> str:
    """Return the execID DSS's web echoes back for this run.

    With a ``route`` (a registered instance) the execID names the Eureka application and the
    ``host:port`` the gateway routes to; without one, today's ``flowexecution`` + host name form.
    """
    short = short_exec_id(task_id, user)
    if route is not None:
        return compose(route.application.lower(), route.instance, short)
    return compose(APPLICATION, instance_name() if instance is None else instance, short)


def parse(exec_id: str) -> ParsedExecId:
    """Decode an execID as Linkis's ``parseServiceInstanceByExecID`` does; a bad one is NotFound."""
    missing = NotFound(f"execution {exec_id!r} not found")
    head = exec_id[len(PREFIX) : len(PREFIX) + 6]
    if not exec_id.startswith(PREFIX) or len(head) != 6 or not head.isdigit():
        raise missing
    app_len, inst_len = int(head[:3]), int(head[3:])
    start = len(PREFIX) + 6
    application = exec_id[start : start + app_len]
    instance = exec_id[start + app_len : start + app_len + inst_len]
    short = exec_id[start + app_len + inst_len :]
    if not application or not instance or not short:
        raise missing
    return ParsedExecId(application, instance, short, task_id_of(exec_id))


def task_id_of(exec_id: str) -> int:
    """Return the taskID an execID ends with; a malformed execID is a clean NotFound."""
    match = _TAIL.search(exec_id)
    if not match or not exec_id.startswith(PREFIX) or int(match.group(1)) >= 2**63:
        raise NotFound(f"execution {exec_id!r} not found")
    return int(match.group(1))


def parse_task_id(text: str) -> int:
    """Accept either a taskID or an execID (the CLI and native routes take both)."""
    if text.isdigit():
        if int(text) >= 2**63:
            raise NotFound(f"execution {text!r} not found")
        return int(text)
    return task_id_of(text)
