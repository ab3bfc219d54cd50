"""A settled node's writes: a control node's completion with its counters and children in one
round trip, the children's release and the count of settled nodes, as batches
(``store.batch``) for the step to send with its COMMIT."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from typing import NamedTuple

from sqlalchemy import Row
from sqlalchemy.orm import Session

from flowexec.state import NodeState
from flowexec.store import batch
from flowexec.store import graphs
from flowexec.store import statements as st
from flowexec.store.batch import Writes
from flowexec.store.db import is_mysql


class Completed(NamedTuple):
    """A control node ``complete_control`` completed: its key and children with its execution's
    counters (row locked), and its children's rows (locked) when read in the same trip."""

    row: Row[*tuple[Any, ...]]
    children: list[Any] | None


def complete_control(session: Session, node_id: int, at: datetime) -> Completed | None:
    """Complete a queued control node in one compare-and-set and lock its execution's counters
    and, where this process knows them (``store.graphs``), its children, in one round trip."""
    known = graphs.guess(node_id)
    keys = json.loads(known.children) if known else []
    statements: Writes = [
        (st.CONTROL_DONE, {"node_id": node_id, "at": at}),
        (st.LOCK_COUNTERS, {"node_id": node_id}),
    ]
    if known and keys:
        statements.append((st.CHILDREN, {"task_id": known.task_id, "keys": keys}))
    done, locked, *children = batch.run(session, *statements)
    if done.rowcount != 1:
        return None
    row = locked.rows[0]
    if known is None:
        if json.loads(row.children or "[]"):
            graphs.learn(session, row.task_id, row.total_nodes)
        return Completed(row, None)
    if not graphs.confirmed(node_id, row.task_id, row.children):
        return Completed(row, None)
    return Completed(row, children[0].rows if children else [])


def settle_writes(session: Session, task_id: int, settled: int, total: int, at: datetime) -> Writes:
    """The writes (for the caller's batch, ``store.batch``) that count one more settled node,
    ``settled`` of ``total``, and keep the task row as DSS reads it.

    The task row's progress (and Running) is written at the first settled node, at each whole
    percent and at the last: what DSS's pages show, one write in a hundred nodes on a wide flow
    instead of one a node on the row every node's end queues on. The execution's counter, which
    the progress API reads, is exact.
    """
    count = (st.SETTLE_COUNT, {"b_task_id": task_id, "settled": settled})
    if not (settled == 1 or settled >= total or settled * 100 // total != (settled - 1) * 100 // total):
        return [count]
    progress = settled / total if total else 1.0
    if is_mysql(session):
        params = {"b_task_id": task_id, "settled": settled, "progress": progress, "at": at}
        return [(st.SETTLE_AND_PROGRESS, params)]
    return [count, (st.PROGRESS_AND_RUNNING, {"task_id": task_id, "at": at, "b_progress": progress})]


def children_to_release(
    session: Session, task_id: int, keys: Sequence[str], at: datetime, rows: list[Any] | None = None
) -> tuple[list[Any], Writes]:
    """Lock the children (``rows``: already locked and read); return the ones whose last
    parent this is and the writes (for the caller's batch) that count the parent and queue those."""
    if not keys:
        return [], []
    children = rows
    if children is None:
        (read,) = batch.run(session, (st.CHILDREN, {"task_id": task_id, "keys": list(keys)}))
        children = read.rows
    ready = [c for c in children if c.pending_parents == 1 and c.state == NodeState.PENDING.value]
    if ready and len(ready) == len(children):  # chains and a join's last parent: one UPDATE
        return ready, [(st.QUEUE_READY, {"ids": [c.id for c in ready], "at": at})]
    writes: Writes = []
    if children:
        writes.append((st.DECREMENT, {"ids": [c.id for c in children]}))
    if ready:
        writes.append((st.QUEUE, {"ids": [c.id for c in ready], "at": at}))
    return ready, writes
