"""Node and run states as data, with one transition table."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from collections.abc import Sequence
from enum import Enum

from flowexec.errors import IllegalTransition


class NodeState(str, Enum):
    """A node run's state; terminal ones use Linkis's spellings plus DSS's ``Skipped``."""

    PENDING = "Pending"
    QUEUED = "Queued"
    SUBMITTING = "Submitting"
    RUNNING = "Running"
    SUCCEED = "Succeed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    TIMEOUT = "Timeout"
    SKIPPED = "Skipped"

    def __str__(self) -> str:
        return self.value


class RunState(str, Enum):
    """A flow execution's state, as stored in ``dss_workflow_task.status``."""

    INITED = "Inited"
    WAIT_FOR_RETRY = "WaitForRetry"
    SCHEDULED = "Scheduled"
    RUNNING = "Running"
    SUCCEED = "Succeed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    TIMEOUT = "Timeout"

    def __str__(self) -> str:
        return self.value


NODE_TERMINAL = frozenset(
    {NodeState.SUCCEED, NodeState.FAILED, NodeState.CANCELLED, NodeState.TIMEOUT, NodeState.SKIPPED}
)
NODE_FAILED = frozenset({NodeState.FAILED, NodeState.CANCELLED, NodeState.TIMEOUT})
NODE_UNSTARTED = frozenset({NodeState.PENDING, NodeState.QUEUED})
NODE_ACTIVE = frozenset({NodeState.SUBMITTING, NodeState.RUNNING})
NODE_UNSETTLED = NODE_UNSTARTED | NODE_ACTIVE

RUN_TERMINAL = frozenset({RunState.SUCCEED, RunState.FAILED, RunState.CANCELLED, RunState.TIMEOUT})
#: A run that no node has been submitted for yet: its first submission makes it Running.
RUN_UNSTARTED = frozenset({RunState.INITED, RunState.WAIT_FOR_RETRY})

#: Legal node moves, applied to every write of a node's state (``store.repository``).
#: A worker that died mid-submit hands its node back (Submitting -> Queued); a retry sends a
#: finished attempt back to the queue (Running -> Queued). The row's ``version`` counts moves:
#: a control node's claim and completion are one statement that moves it twice.
NODE_TRANSITIONS: dict[NodeState, frozenset[NodeState]] = {
    NodeState.PENDING: frozenset({NodeState.QUEUED, NodeState.SKIPPED, NodeState.CANCELLED}),
    NodeState.QUEUED: frozenset({NodeState.SUBMITTING, NodeState.CANCELLED}),
    NodeState.SUBMITTING: frozenset(
        {
            NodeState.RUNNING,
            NodeState.SUCCEED,
            NodeState.FAILED,
            NodeState.CANCELLED,
            NodeState.QUEUED,
        }
    ),
    NodeState.RUNNING: frozenset(
        {
            NodeState.SUCCEED,
            NodeState.FAILED,
            NodeState.CANCELLED,
            NodeState.TIMEOUT,
            NodeState.QUEUED,
        }
    ),
    **{state: frozenset() for state in NODE_TERMINAL},
}

#: Legal run moves: forward only, as ``dss_workflow_task`` refuses a lower ordinal.
RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.INITED: frozenset(
        {RunState.SCHEDULED, RunState.RUNNING, *RUN_TERMINAL, RunState.WAIT_FOR_RETRY}
    ),
    RunState.WAIT_FOR_RETRY: frozenset({RunState.SCHEDULED, RunState.RUNNING, *RUN_TERMINAL}),
    RunState.SCHEDULED: frozenset({RunState.RUNNING, *RUN_TERMINAL}),
    RunState.RUNNING: RUN_TERMINAL,
    **{state: frozenset() for state in RUN_TERMINAL},
}


def transition(old: NodeState, new: NodeState) -> NodeState:
    """Return ``new`` if a node may move there from ``old``; raise ``IllegalTransition`` if not."""
    if new not in NODE_TRANSITIONS[old]:
        raise IllegalTransition(f"node cannot go from {old.value} to {new.value}")
    return new


def run_transition(old: RunState, new: RunState) -> RunState:
    """Return ``new`` if a run may move there from ``old``; raise ``IllegalTransition`` if not."""
    if new not in RUN_TRANSITIONS[old]:
        raise IllegalTransition(f"run cannot go from {old.value} to {new.value}")
    return new


def check_moves(sources: Iterable[NodeState], target: NodeState) -> frozenset[NodeState]:
    """Return ``sources`` if every one of them may move to ``target``; raise if one may not.

    Every compare-and-set of a node state is built from this, so an illegal move is refused
    before any SQL is sent.
    """
    olds = frozenset(sources)
    for old in olds:
        transition(old, target)
    return olds


def check_path(path: Sequence[NodeState]) -> tuple[NodeState, NodeState]:
    """Return (first, last) of a path of moves made by one statement, if every step is legal."""
    for old, new in itertools.pairwise(path):
        transition(old, new)
    return path[0], path[-1]


def check_run_moves(sources: Iterable[RunState], target: RunState) -> frozenset[RunState]:
    """The run-state twin of :func:`check_moves`."""
    olds = frozenset(sources)
    for old in olds:
        run_transition(old, target)
    return olds


def sources(new: NodeState) -> frozenset[NodeState]:
    """Return every state a node may reach ``new`` from (the ``WHERE state IN`` of a CAS)."""
    return frozenset(old for old, targets in NODE_TRANSITIONS.items() if new in targets)
