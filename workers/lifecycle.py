"""Celery's lifecycle events turned into node transitions, through the service.

Each handler acts only for the Celery app it was connected for: a process may hold several
apps (tests, the embedded stack), and Celery's signals are process-wide. Handlers are held
weakly by the signal and strongly by their app, so they go when their app goes.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.exceptions import Retry
from celery.signals import beat_init
from celery.signals import task_failure
from celery.signals import task_revoked
from celery.signals import worker_ready
from flask import Flask
from sqlalchemy.exc import OperationalError

from flowexec import service
from flowexec.errors import LinkisUnavailable

log = logging.getLogger(__name__)

NODE_TASKS = frozenset({"flowexec.run_node", "flowexec.poll_node"})
#: Each app's handlers, held as long as the app lives (the signals hold them weakly).
_HELD: weakref.WeakKeyDictionary[Celery, list[Callable[..., None]]] = weakref.WeakKeyDictionary()


def _node_of(celery_app: Celery, sender: Any, args: Any) -> int | None:
    """The node run a node task of this app was sent for; None for anything else."""
    if getattr(sender, "app", None) is not celery_app or getattr(sender, "name", None) not in NODE_TASKS:
        return None
    return int(args[0]) if args else None


def connect(app: Flask, celery_app: Celery) -> None:
    """Connect the handlers for this app (called by ``celery_init_app``, never at import)."""

    def on_failure(
        sender: Any = None, exception: BaseException | None = None, args: Any = None, **_: Any
    ) -> None:
        node_id = _node_of(celery_app, sender, args)
        if node_id is None or isinstance(exception, (Retry, LinkisUnavailable, OperationalError)):
            return  # not ours, or transient: the reconciler re-drives the node
        try:
            with app.app_context():
                from workers import dispatch

                dispatch.send(service.fail_node(node_id, f"{type(exception).__name__}: {exception}"))
        except Exception:  # a failing handler logs; the reconciler repairs what it missed
            log.exception("could not record task failure node_id=%s", node_id)

    def on_revoked(sender: Any = None, request: Any = None, **_: Any) -> None:
        task = getattr(request, "task", None) if request is not None else None
        node_id = _node_of(celery_app, task, getattr(request, "args", None))
        if node_id is None:
            return
        # A revoked submit hands its node back; the reconciler re-drives it (and a poll).
        try:
            with app.app_context():
                service.release_node(node_id)
        except Exception:
            log.exception("could not hand back a revoked node node_id=%s", node_id)

    def on_beat(sender: Any = None, **_: Any) -> None:
        # Beat sends only the reconcile pass, every few seconds: no task-sent events for Flower.
        conf: Any = celery_app.conf
        if id(getattr(sender, "app", None)) == id(celery_app):
            conf.task_send_sent_event = False

    _HELD.setdefault(celery_app, []).extend((on_failure, on_revoked, on_beat))
    task_failure.connect(on_failure)
    task_revoked.connect(on_revoked)
    beat_init.connect(on_beat)


def serve_metrics_when_ready(celery_app: Celery, port: int, host: str = "127.0.0.1") -> Any:
    """Serve the worker's metrics on ``port`` once a worker of this Celery app is ready.

    Only worker processes get there (not beat, flower or the web); a threads-pool worker is
    one process, so its registry holds every Linkis call and reconcile pass it made.
    Returns the receiver (held by the Celery app for as long as it lives).
    """

    def on_ready(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is not celery_app:
            return
        from workers import metrics

        metrics.serve(port, host)

    _HELD.setdefault(celery_app, []).append(on_ready)
    worker_ready.connect(on_ready)
    return on_ready
