"""What the service needs from Linkis, as a Protocol and frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

#: Linkis job states that never change again.
TERMINAL_STATES = frozenset({"Succeed", "Failed", "Cancelled", "Timeout"})

#: Default engine versions used to build the ``engineType`` label (``<engine>-<version>``).
DEFAULT_ENGINE_VERSIONS: Mapping[str, str] = {
    "shell": "1",
    "python": "python2",
    "spark": "3.2.1",
    "hive": "3.1.3",
    "jdbc": "4",
    "sqlite": "1",
    "appconn": "1",
    "nebula": "1",
}


@dataclass(frozen=True)
class JobSpec:
    """One Linkis job to submit (a workflow node's code and its context)."""

    code: str
    run_type: str
    engine_type: str
    user: str
    creator: str = "nodeexecution"
    variables: Mapping[str, str] = field(default_factory=dict)
    startup: Mapping[str, Any] = field(default_factory=dict)
    runtime: Mapping[str, Any] = field(default_factory=dict)
    special: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    source: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobRef:
    """A submitted job: the entrance's execID and the history row's taskID."""

    exec_id: str
    task_id: int


@dataclass(frozen=True)
class JobStatus:
    """A job's state as Linkis reports it (``Inited`` ... ``Timeout``; unknown is transient)."""

    state: str
    progress: float | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass(frozen=True)
class JobInfo:
    """The job history row (authoritative for final state, error, log and result paths)."""

    task_id: int
    status: str
    progress: float | None = None
    err_code: int | None = None
    err_desc: str | None = None
    exec_id: str | None = None
    log_path: str | None = None
    result_location: str | None = None
    created_ms: int | None = None
    updated_ms: int | None = None


@dataclass(frozen=True)
class Script:
    """A script read from BML (``filesystem/openScriptFromBML``): its body and header metadata."""

    content: str
    variables: Mapping[str, str] = field(default_factory=dict)
    configuration: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BmlVersion:
    """One stored version of a BML resource."""

    resource_id: str
    version: str


@dataclass(frozen=True)
class LogPage:
    """A slice of a job's log: lines from ``from_line`` and the cursor to send next."""

    lines: tuple[str, ...]
    next_line: int


class Linkis(Protocol):
    """The Linkis operations flowexec uses; ``client.LinkisClient`` speaks them over HTTP."""

    def submit(self, spec: JobSpec) -> JobRef: ...

    def status(self, ref: JobRef) -> JobStatus: ...

    def history(self, task_id: int) -> JobInfo: ...

    def kill(self, ref: JobRef) -> None: ...

    def log(self, ref: JobRef, from_line: int = 1, size: int = 100) -> LogPage: ...

    def find_by_source(
        self, tag: Mapping[str, str], since_ms: int, creator: str | None = None, page_size: int = 50
    ) -> JobInfo | None: ...

    def open_script(self, resource_id: str, version: str | None, file_name: str, user: str) -> Script: ...


def engine_type(engine: str, versions: Mapping[str, str] = DEFAULT_ENGINE_VERSIONS) -> str:
    """Return the ``engineType`` label for an engine name, with its configured version."""
    return f"{engine}-{versions.get(engine, '1')}"
