"""What follows a node's end, inside the transaction that records it: retries, the failure
policy, the release of children (the database-held join), and the execution's end."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from flowexec import planner
from flowexec.actions import Action
from flowexec.actions import KillJob
from flowexec.actions import RunNodes
from flowexec.config import Settings
from flowexec.events import Change
from flowexec.graph import NodeKind
from flowexec.policy import KILL_CANCELS
from flowexec.policy import FailurePolicy
from flowexec.service import flowlogs
from flowexec.service.common import Counted
from flowexec.service.common import Counters
from flowexec.service.common import emit
from flowexec.service.common import now
from flowexec.service.common import run_actions
from flowexec.state import NODE_ACTIVE
from flowexec.state import NODE_FAILED
from flowexec.state import RUN_TERMINAL
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.store import batch
from flowexec.store import flowlog_rows
from flowexec.store import projections
from flowexec.store import repository as repo
from flowexec.store import settling
from flowexec.store.batch import Writes
from flowexec.store.models import Execution
from flowexec.store.models import NodeRun

log = logging.getLogger(__name__)


def complete(
    session: Session,
    execution: Execution,
    node: NodeRun,
    old: NodeState,
    outcome: NodeState,
    prior: Sequence[Change] = (),
    **values: Any,
) -> list[Action]:
    """Move a node (locked, in ``old``) to its outcome and do what follows, in the caller's
    transaction. ``prior``: changes this transaction made before, sent in the same batch."""
    at = now()
    if outcome is NodeState.FAILED and node.retries_left > 0 and not execution.cancel_requested:
        emit(session, execution, prior)
        return _retry(session, execution, node, old, values.get("error"), at)
    if not repo.cas_node(session, node.id, [old], outcome, finished_at=at, updated_at=at, **values):
        log.info("completion lost node_id=%s state=%s outcome=%s", node.id, old, outcome)
        emit(session, execution, prior)
        return []
    execution.settled_nodes += 1
    changes = [*prior, Change(node.node_key, old, outcome)]
    holds_slot = old in NODE_ACTIVE and node.kind == NodeKind.LINKIS.value
    actions: list[Action] = list(unpark(session, execution, node)) if holds_slot else []
    if outcome in NODE_FAILED:
        execution.failed_nodes += 1
        actions += _apply_policy(session, execution, node, changes, at)
    elif not execution.cancel_requested:
        actions += run_actions(release(session, execution, repo.children_of(node), changes, at))
    emit(session, execution, changes)
    if execution.settled_nodes >= execution.total_nodes:
        finalize(session, execution)
    return actions


def succeed(
    session: Session, step: Any, capped: bool, job_id: int | None = None, **values: Any
) -> list[Action]:
    """A running node's success, its execution's row locked only for the counters, at the end.

    ``step``: the node as ``repository.read_end`` read it, without a lock. The node's
    compare-and-set orders its own moves, and each child's row lock orders the ends of a join's
    parents; of the execution only ``cancel_requested`` is used (a kill that sets it after this
    read cancels the children queued here, Queued by then). Kills and failures lock the execution
    first and the nodes after; where one meets this order InnoDB reports a deadlock and
    ``in_transaction`` runs the loser again. ``capped``: the node's engine has a cap, whose
    oldest parked node may start now. ``job_id``: the Linkis job whose end this is (a node
    retried meanwhile runs another).
    """
    at = now()
    if not repo.cas_node(
        session,
        step.id,
        [NodeState.RUNNING],
        NodeState.SUCCEED,
        job_id=job_id,
        finished_at=at,
        updated_at=at,
        **values,
    ):
        log.info("completion lost node_id=%s outcome=Succeed", step.id)
        return []
    changes = [Change(step.node_key, NodeState.RUNNING, NodeState.SUCCEED)]
    engine = repo.engine_of(step)
    actions: list[Action] = []
    if capped and engine:
        actions += run_actions(repo.parked(session, 1, engine=engine))
    ready: list[Any] = []
    writes: Writes = []
    if not step.cancel_requested:
        ready, writes = children_to_release(session, step, repo.children_of(step), changes, at)
    settle_one(session, repo.lock_counters_of(session, step.task_id), changes, at, writes)
    return actions + run_actions(ready)


def settle_one(
    session: Session, locked: Any, changes: Sequence[Change], at: datetime, writes: Writes | None = None
) -> None:
    """Count one more settled node with its execution's counters as ``locked`` read them (row
    locked), after ``writes`` (the children's release), send the batch of moves, and end the
    execution if that was its last node. The writes, the count and the commit are one round trip
    where the database allows it."""
    counters = Counters(
        locked.task_id, locked.flow_id, locked.version, locked.total_nodes, locked.settled_nodes + 1
    )
    settle = settling.settle_writes(
        session, counters.task_id, counters.settled_nodes, counters.total_nodes, at
    )
    emit(session, counters, changes, task_written=True)
    if counters.settled_nodes >= counters.total_nodes:
        finalize(session, locked, [*(writes or ()), *settle], commit=True)
    else:
        batch.run(session, *(writes or ()), *settle, commit=True)


def _retry(
    session: Session, execution: Execution, node: NodeRun, old: NodeState, error: str | None, at: datetime
) -> list[Action]:
    """Send a failed attempt back to the queue, to run again after the node's retry delay."""
    delay = float(json.loads(node.spec or "{}").get("retryDelay") or 0)
    if not repo.cas_node(
        session,
        node.id,
        [old],
        NodeState.QUEUED,
        retries_left=node.retries_left - 1,
        error=f"attempt {node.attempt} failed: {error or 'unknown error'}",
        queued_at=at + timedelta(seconds=delay),
        updated_at=at,
        linkis_exec_id=None,
        linkis_task_id=None,
        next_poll_at=None,
        deadline_at=None,
        polls=0,
    ):
        return []
    log.info("node retried node_id=%s attempt=%s delay=%s", node.id, node.attempt, delay)
    emit(session, execution, [Change(node.node_key, old, NodeState.QUEUED)])
    freed = unpark(session, execution, node) if old in NODE_ACTIVE else []
    return [*run_actions([node], countdown=delay), *freed]


def _apply_policy(
    session: Session, execution: Execution, node: NodeRun, changes: list[Change], at: datetime
) -> list[Action]:
    """What a node's failure does to the rest of its execution."""
    policy = (
        FailurePolicy.FAIL_FAST if execution.cancel_requested else FailurePolicy(execution.failure_policy)
    )
    if policy.skips_downstream:
        _skip_downstream(session, execution, node, changes, at)
        return []
    return cancel(session, execution, policy.cancels, changes, at, policy.reason(node.title))


def cancel(
    session: Session,
    execution: Execution,
    states: Iterable[NodeState],
    changes: list[Change],
    at: datetime,
    error: str,
) -> list[Action]:
    """Cancel every node of the execution in ``states``; kill the Linkis jobs of running ones."""
    rows = repo.nodes_in(session, execution.task_id, states, lock=True)
    repo.move_nodes(session, rows, NodeState.CANCELLED, finished_at=at, updated_at=at, error=error)
    changes += [Change(r.node_key, NodeState(r.state), NodeState.CANCELLED) for r in rows]
    execution.settled_nodes += len(rows)
    running = [r for r in rows if r.state == NodeState.RUNNING.value]
    return [KillJob(r.id, r.linkis_exec_id or "", int(r.linkis_task_id or 0)) for r in running]


def cancel_all(
    session: Session, execution: Execution, changes: list[Change], at: datetime, error: str
) -> list[Action]:
    """A kill: nothing new starts, running jobs are killed, everything else is Cancelled."""
    return cancel(session, execution, KILL_CANCELS, changes, at, error)


def _skip_downstream(
    session: Session, execution: Execution, node: NodeRun, changes: list[Change], at: datetime
) -> None:
    """Continue: every node downstream of a failed one is Skipped, "upstream failed"."""
    skipped: list[NodeRun] = []
    seen: set[str] = set()
    frontier = repo.children_of(node)
    while frontier:
        rows = [r for r in repo.nodes_by_key(session, execution.task_id, frontier) if r.node_key not in seen]
        seen.update(r.node_key for r in rows)
        pending = [r for r in rows if r.state == NodeState.PENDING.value]
        skipped += pending
        frontier = [key for r in pending for key in repo.children_of(r) if key not in seen]
    repo.move_nodes(
        session,
        skipped,
        NodeState.SKIPPED,
        finished_at=at,
        updated_at=at,
        error=f"upstream failed: {node.title}",
    )
    changes += [Change(r.node_key, NodeState.PENDING, NodeState.SKIPPED) for r in skipped]
    execution.settled_nodes += len(skipped)


def release(
    session: Session, execution: Counted, keys: Sequence[str], changes: list[Change], at: datetime
) -> list[Any]:
    """Decrement the children's counters; the ones reaching zero are queued by this transaction."""
    ready, writes = children_to_release(session, execution, keys, changes, at)
    batch.run(session, *writes)
    return ready


def children_to_release(
    session: Session,
    execution: Counted,
    keys: Sequence[str],
    changes: list[Change],
    at: datetime,
    rows: list[Any] | None = None,
) -> tuple[list[Any], Writes]:
    """Lock the children (``rows``: already locked and read); the ones whose last parent this
    is, and the writes (for the caller's batch) that release them."""
    ready, writes = settling.children_to_release(session, execution.task_id, keys, at, rows)
    changes += [Change(c.node_key, NodeState.PENDING, NodeState.QUEUED) for c in ready]
    return ready, writes


def unpark(session: Session, execution: Execution, node: NodeRun) -> list[RunNodes]:
    """A slot freed: send the oldest node parked at this execution's cap, or at this engine's."""
    waiting = repo.parked(session, 1, task_id=execution.task_id) if execution.max_parallel else []
    engine = repo.engine_of(node)
    if not waiting and engine is not None:
        waiting = repo.parked(session, 1, engine=engine)
    return run_actions(waiting)


def over_cap(session: Session, execution: Execution, node: NodeRun, settings: Settings) -> bool:
    """True when starting this node would exceed its execution's or its engine's cap."""
    if node.kind != NodeKind.LINKIS.value:
        return False
    if (
        execution.max_parallel
        and repo.active_in_execution(session, execution.task_id) >= execution.max_parallel
    ):
        return True
    engine = repo.engine_of(node) or ""
    cap = settings.engine_caps.get(engine)
    return cap is not None and repo.active_of_engine(session, engine) >= cap


def finalize(session: Session, execution: Any, writes: Writes | None = None, commit: bool = False) -> None:
    """End an execution whose nodes have all settled: task status, progress 1, execute_info.

    ``execution``: its row (``Execution``, or a narrow row with ``task_id``, ``flow_id``,
    ``version`` and ``cancel_requested``). ``writes``: the caller's last writes (the last node's
    count), sent with the end's reads; ``commit``: the end's writes are the transaction's last.
    Two round trips where the database allows it: the reads (the nodes with the run's status,
    the ``execute_info`` row locked), then the writes with the task row read back for the log.
    """
    task_id = execution.task_id
    *_, ending, newest = batch.run(
        session,
        *(writes or ()),
        flowlog_rows.ending_read(task_id),
        projections.newest_info(execution.flow_id, execution.version),
    )
    nodes = ending.rows
    status = RunState(nodes[0].run_status) if nodes else repo.task_status(session, task_id)
    if status in RUN_TERMINAL:
        return
    outcome = planner.run_outcome((NodeState(n.state) for n in nodes), execution.cancel_requested)
    at = now()
    errors: dict[str, Any] = {}
    if outcome is not RunState.SUCCEED:
        failed = [(n.title, n.state, n.error) for n in nodes if NodeState(n.state) in NODE_FAILED]
        errors["err_code"] = 90101 if execution.cancel_requested else 90102
        errors["err_desc"] = planner.failure_text(failed, execution.cancel_requested)[:256]
    states = {n.node_key: planner.listed_state(NodeState(n.state), n.started_at is not None) for n in nodes}
    info = projections.info_write(
        newest.rows[0] if newest.rows else None,
        task_id,
        execution.flow_id,
        execution.version,
        states,
        outcome is RunState.SUCCEED,
        at,
    )
    *_, task = batch.run(
        session,
        *repo.end_run_writes(session, task_id, status, outcome, at, **errors),
        info,
        flowlog_rows.task_read(task_id),
        commit=commit,
    )
    # The log is written once the end has committed, with its task row as stored.
    flowlogs.write_ended_after_commit(session, task.rows[0], nodes)
    log.info("execution finished task_id=%s status=%s", task_id, outcome.value)
