"""Actions to Celery messages; called only after the transaction that decided them committed."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import group

from flowexec.planner import Action
from flowexec.planner import KillJob
from flowexec.planner import PollNode
from flowexec.planner import RunNodes

log = logging.getLogger(__name__)


def send(actions: Iterable[Action]) -> None:
    """Send each action's task(s); ready nodes go out as one group (the fan-out)."""
    from workers import tasks

    for action in actions:
        if isinstance(action, RunNodes):
            if len(action.node_ids) == 1:
                tasks.run_node.apply_async((action.node_ids[0],))
            elif action.node_ids:
                group(tasks.run_node.si(node_id) for node_id in action.node_ids).apply_async()
        elif isinstance(action, PollNode):
            tasks.poll_node.apply_async((action.node_id,), countdown=action.countdown)
        elif isinstance(action, KillJob):
            tasks.kill_job.apply_async((action.node_id, action.exec_id, action.task_id))
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"unknown action {action!r}")
