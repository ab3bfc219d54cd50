"""Each node's children as this process last read them, by node id.

A node's children never change once its execution is registered. A control node's step can
therefore lock its children's rows in the round trip that completes it, before it has read its
own row (``settling.complete_control``); the row it then reads confirms the guess (the same
execution, the same children). A wrong guess, from a process that outlived a truncated table
whose ids started again, is dropped and the children are read again, as when nothing is known.

An execution's graph is read once per process, by the first step of one of its nodes that has
children, in one statement; leaves never read it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowexec.store import statements as st

#: Nodes whose children are kept; the oldest executions' go first.
MAX_NODES = 200_000
#: An execution this small gains nothing from one more read of its graph.
MIN_NODES = 3


class Guess(NamedTuple):
    """A node's execution and its children (the ``children`` column, as stored)."""

    task_id: int
    children: str


_known: OrderedDict[int, Guess] = OrderedDict()
_lock = threading.Lock()


def guess(node_id: int) -> Guess | None:
    """What this process knows of a node's children, if anything."""
    return _known.get(node_id)


def confirmed(node_id: int, task_id: int, children: str) -> bool:
    """True when the guess for ``node_id`` matches its row; a wrong guess is forgotten."""
    known = _known.get(node_id)
    if known is None:
        return False
    if known == (task_id, children):
        return True
    forget()
    return False


def learn(session: Session, task_id: int, total_nodes: int) -> None:
    """Read an execution's graph (each node's children) into this process."""
    if total_nodes < MIN_NODES:
        return
    rows = session.execute(
        select(st.NODES.c.id, st.NODES.c.children).where(st.NODES.c.task_id == task_id)
    ).all()
    with _lock:
        for row in rows:
            _known[row.id] = Guess(task_id, row.children)
        while len(_known) > MAX_NODES:
            _known.popitem(last=False)


def forget() -> None:
    """Drop everything known (a guess was wrong: the tables are not what this process read)."""
    with _lock:
        _known.clear()
