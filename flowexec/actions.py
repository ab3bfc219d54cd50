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
class PollNode:
    """Poll this node's Linkis job after ``countdown`` seconds."""

    node_id: int
    countdown: float
    label: str = ""


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
