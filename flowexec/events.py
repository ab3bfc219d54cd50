"""The ``node_transitioned`` event: sent inside the transaction that moved the nodes.

Receivers (``flowexec.store.projections``) write what follows from a batch of moves in that
same transaction, so the seed tables never disagree with the node rows."""

from __future__ import annotations

from dataclasses import dataclass

from blinker import Namespace

from flowexec.state import NodeState

_signals = Namespace()

#: Sent with ``sender=<session>`` and ``batch=<Transitions>`` before the transaction commits;
#: receivers write what follows from it in that same transaction.
node_transitioned = _signals.signal("node-transitioned")


@dataclass(frozen=True)
class Change:
    """One node's move."""

    key: str
    old: NodeState
    new: NodeState


@dataclass(frozen=True)
class Transitions:
    """The moves of one transaction, all in one execution."""

    task_id: int
    flow_id: int
    version: str
    settled: int
    total: int
    changes: tuple[Change, ...]
    #: True when the sender already kept the task row's progress (and Running) for ``settled``.
    task_written: bool = False
