"""Celery's lifecycle events turned into node transitions, through the service."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.exceptions import Retry
from celery.signals import task_failure
from celery.signals import worker_ready
from flask import Flask
from sqlalchemy.exc import OperationalError

from flowexec import service
from flowexec.errors import LinkisUnavailable

log = logging.getLogger(__name__)

NODE_TASKS = frozenset({"flowexec.run_node", "flowexec.poll_node"})


def connect(app: Flask) -> None:
    """Connect the handlers for this app (called by ``celery_init_app``, never at import)."""

    def on_failure(
        sender: Any = None, exception: BaseException | None = None, args: Any = None, **_: Any
    ) -> None:
        if getattr(sender, "name", None) not in NODE_TASKS or not args:
            return
        if isinstance(exception, (Retry, LinkisUnavailable, OperationalError)):
            return  # transient: the reconciler re-drives the node
        node_id = int(args[0])
        try:
            with app.app_context():
                from workers import dispatch

                dispatch.send(service.fail_node(node_id, f"{type(exception).__name__}: {exception}"))
        except Exception:  # a failing handler logs; the reconciler repairs what it missed
            log.exception("could not record task failure node_id=%s", node_id)

    app.extensions["flowexec.on_failure"] = on_failure  # keep a strong reference
    task_failure.connect(on_failure, weak=False)


def serve_metrics_when_ready(celery_app: Celery, port: int) -> Any:
    """Serve the worker's metrics on ``port`` once a worker of this Celery app is ready.

    Only worker processes get there (not beat, flower or the web); a threads-pool worker is
    one process, so its registry holds every Linkis call and reconcile pass it made.
    Returns the receiver (connected for the life of the process).
    """

    def on_ready(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is not celery_app:
            return
        from workers import metrics

        metrics.serve(port)

    worker_ready.connect(on_ready, weak=False)
    return on_ready
