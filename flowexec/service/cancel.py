"""Kills: of a whole execution, or of one node (the failure policy then decides the rest)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from flowexec.actions import Action
from flowexec.actions import KillJob
from flowexec.errors import NotFound
from flowexec.events import Change
from flowexec.service import completion
from flowexec.service.common import emit
from flowexec.service.common import now
from flowexec.state import NODE_ACTIVE
from flowexec.state import NODE_UNSTARTED
from flowexec.state import RUN_TERMINAL
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.store import repository as repo
from flowexec.store.db import in_transaction


def kill_reason(user: str | None) -> str:
    """What a kill's nodes record as their error: who killed them."""
    return f"killed by {user}" if user else "killed"


def cancel_execution(task_id: int, by: str | None = None, reason: str | None = None) -> list[Action]:
    """Kill a flow: unstarted nodes Cancelled, running jobs Cancelled and killed in Linkis.

    ``by`` is who asked; each node's error reads "killed by <user>", or ``reason`` when the
    kill came from something else (an interrupted ``flowexec run``, a dead run's lease).
    """

    def work(session: Session) -> list[Action]:
        execution = repo.lock_execution(session, task_id)
        if RunState(repo.get_task(session, task_id).status) in RUN_TERMINAL:
            return []
        execution.cancel_requested = True
        changes: list[Change] = []
        actions = completion.cancel_all(session, execution, changes, now(), reason or kill_reason(by))
        emit(session, execution, changes)
        if execution.settled_nodes >= execution.total_nodes:
            completion.finalize(session, execution)
        return actions

    return in_transaction(work)


def cancel_node(task_id: int, node_key: str, by: str | None = None) -> list[Action]:
    """Kill one node: it ends Cancelled (its job killed), and the failure policy decides the rest."""

    def work(session: Session) -> list[Action]:
        execution = repo.lock_execution(session, task_id)
        rows = repo.nodes_by_key(session, task_id, [node_key])
        if not rows:
            raise NotFound(f"execution {task_id} has no node {node_key!r}")
        node = rows[0]
        old = NodeState(node.state)
        if old not in NODE_UNSTARTED | NODE_ACTIVE:
            return []
        actions = completion.complete(
            session, execution, node, old, NodeState.CANCELLED, error=kill_reason(by)
        )
        if old is NodeState.RUNNING and node.linkis_task_id:
            actions.append(KillJob(node.id, node.linkis_exec_id or "", int(node.linkis_task_id)))
        return actions

    return in_transaction(work)
