"""What the service decides and dispatch carries out after commit: plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunNodes:
    """Dispatch ``run_node`` for these node runs, as one group (after ``countdown`` seconds).

    ``engine`` is the Linkis engine of all of them (None for control nodes), for routing.
    """

    node_ids: tuple[int, ...]
    countdown: float = 0.0
    engine: str | None = None
    #: ``<taskID>:<node key>`` per node, shown with the task in Flower (not used to run it).
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobHint:
    """What a node's first poll needs, known when its job was recorded: the Linkis ids, the
    user the job runs as and the node's deadline (epoch seconds), so that poll reads no row.
    The node's end is still a compare-and-set on its row, for this job only."""

    exec_id: str
    task_id: int
    user: str
    deadline: float | None = None


@dataclass(frozen=True)
class PollNode:
    """Poll this node's Linkis job after ``countdown`` seconds (``job``: its first poll's hint)."""

    node_id: int
    countdown: float
    label: str = ""
    job: JobHint | None = None


@dataclass(frozen=True)
class KillJob:
    """Kill this Linkis job (a node cancelled while running)."""

    node_id: int
    exec_id: str
    task_id: int


@dataclass(frozen=True)
class AdoptNode:
    """Settle a node left Submitting by a dead worker: adopt its Linkis job if it exists."""

    node_id: int


Action = RunNodes | PollNode | KillJob | AdoptNode
