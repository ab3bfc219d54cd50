"""Actions to Celery messages; called only after the transaction that decided them committed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from celery import group
from flask import current_app
from kombu.exceptions import OperationalError as BrokerError

from flowexec.actions import Action
from flowexec.actions import AdoptNode
from flowexec.actions import KillJob
from flowexec.actions import PollNode
from flowexec.actions import RunNodes
from workers import monitors
from workers.queues import CONTROL

log = logging.getLogger(__name__)


def send_or_defer(actions: Iterable[Action]) -> bool:
    """Send the first messages of a committed execution; if the broker cannot take them, log
    it and return False: the rows say Queued, and the reconciler sends them after
    ``FLOWEXEC_QUEUED_GRACE``. The caller answers with the execID either way (the row is the truth).
    """
    try:
        send(actions)
    except (BrokerError, ConnectionError, OSError) as exc:
        log.warning("broker unreachable, dispatch left to the reconciler error=%s", exc)
        return False
    return True


def _embedded() -> bool:
    """The embedded stack's memory broker: no monitor can connect to it."""
    return bool(current_app.extensions["flowexec"].settings.embedded)


def send(actions: Iterable[Action]) -> None:
    """Send each action's task(s); ready nodes go out as one group (the fan-out).

    Tasks are taken from the current Flask app's Celery app, not Celery's process-wide
    default, so that two apps in one process (tests, the embedded stack) never cross.
    """
    celery = current_app.extensions["celery"]
    if celery.conf.task_send_sent_event != (announce := monitors.listening() and not _embedded()):
        celery.conf.task_send_sent_event = announce
    registry = celery.tasks
    routes = current_app.extensions["flowexec"].settings.routes
    run_node, poll_node, kill_job, adopt_node = (
        registry[name]
        for name in ("flowexec.run_node", "flowexec.poll_node", "flowexec.kill_job", "flowexec.adopt_node")
    )
    for action in actions:
        if isinstance(action, RunNodes):
            options: dict[str, object] = {"countdown": action.countdown} if action.countdown > 0 else {}
            # Control nodes complete at once, on the control queue; Linkis nodes go to their
            # engine's queue when one is routed, else to flowexec.nodes.
            queue = routes.get(action.engine) if action.engine else CONTROL
            if queue:
                options["queue"] = queue
            labels = action.labels or ("",) * len(action.node_ids)
            # A Linkis node's claim skips the control nodes' one-statement completion.
            hint = {"linkis": True} if action.engine else {}
            if len(action.node_ids) == 1:
                _apply(run_node, (action.node_ids[0],), {"node": labels[0], **hint}, **options)
            elif action.node_ids:
                group(
                    run_node.si(node_id, node=name, **hint).set(**_reprs((node_id,), {"node": name, **hint}))
                    for node_id, name in zip(action.node_ids, labels, strict=True)
                ).apply_async(**options)
        elif isinstance(action, PollNode):
            kwargs: dict[str, object] = {"node": action.label}
            if action.job is not None:
                kwargs["job"] = asdict(action.job)
            _apply(poll_node, (action.node_id,), kwargs, countdown=action.countdown)
        elif isinstance(action, KillJob):
            _apply(kill_job, (action.node_id, action.exec_id, action.task_id), {})
        elif isinstance(action, AdoptNode):
            _apply(adopt_node, (action.node_id,), {})
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"unknown action {action!r}")


def _reprs(args: tuple[object, ...], kwargs: dict[str, object]) -> dict[str, str]:
    """The arguments as a monitor shows them: ``repr`` of these few ids and short strings is
    what Celery's ``saferepr`` would print, at a small part of its cost on every message."""
    return {"argsrepr": repr(args), "kwargsrepr": repr(kwargs)}


def _apply(task: Any, args: tuple[object, ...], kwargs: dict[str, object], **options: object) -> None:
    task.apply_async(args, kwargs, **options, **_reprs(args, kwargs))
