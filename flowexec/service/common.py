"""What every use case shares: the clock, the execution lock, the event, how nodes dispatch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import Protocol

from sqlalchemy.orm import Session

from flowexec import logcontext
from flowexec.actions import RunNodes
from flowexec.events import Change
from flowexec.events import Transitions
from flowexec.events import node_transitioned
from flowexec.store import repository as repo
from flowexec.store.models import Execution
from flowexec.store.models import NodeRun


def now() -> datetime:
    return datetime.now()


class Counted(Protocol):
    """What the event and the release of children read of an execution."""

    task_id: int
    flow_id: int
    version: str
    total_nodes: int
    settled_nodes: int


@dataclass
class Counters:
    """An execution's counters read without an ORM object (the control node's fast path)."""

    task_id: int
    flow_id: int
    version: str
    total_nodes: int
    settled_nodes: int


def emit(session: Session, execution: Counted, changes: Sequence[Change], task_written: bool = False) -> None:
    """Send one batch of node moves (inside the transaction that made them)."""
    if changes:
        node_transitioned.send(
            session,
            batch=Transitions(
                task_id=execution.task_id,
                flow_id=execution.flow_id,
                version=execution.version,
                settled=execution.settled_nodes,
                total=execution.total_nodes,
                changes=tuple(changes),
                task_written=task_written,
            ),
        )


def lock_node(session: Session, node_id: int) -> tuple[NodeRun, Execution]:
    """Lock the node's execution, then read the node: its state is current under the lock."""
    execution = repo.lock_execution(session, repo.task_of_node(session, node_id))
    node = repo.get_node(session, node_id)
    logcontext.bind(node.task_id, node.node_key)
    return node, execution


class Dispatchable(Protocol):
    id: int
    task_id: int
    node_key: str
    job_type: str
    kind: str


def label(node: Any) -> str:
    """How a node's tasks read in Flower: ``<taskID>:<node key>``."""
    return f"{node.task_id}:{node.node_key}"


def run_actions(nodes: Sequence[Dispatchable], countdown: float = 0.0) -> list[RunNodes]:
    """One ``RunNodes`` per engine, so that dispatch can route each engine to its queue."""
    by_engine: dict[str | None, list[Dispatchable]] = {}
    for node in nodes:
        by_engine.setdefault(repo.engine_of(node), []).append(node)
    return [
        RunNodes(tuple(n.id for n in group), countdown, engine, tuple(label(n) for n in group))
        for engine, group in by_engine.items()
    ]
