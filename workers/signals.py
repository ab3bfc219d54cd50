"""Celery's lifecycle events turned into node transitions, through the service."""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import Retry
from celery.signals import task_failure
from flask import Flask
from sqlalchemy.exc import OperationalError

from flowexec import service
from flowexec.errors import LinkisUnavailable

log = logging.getLogger(__name__)

NODE_TASKS = frozenset({"flowexec.run_node", "flowexec.poll_node"})


def connect(app: Flask) -> None:
    """Connect the handlers for this app (called by ``celery_init_app``, never at import)."""

    def on_failure(sender: Any = None, exception: BaseException | None = None,
                   args: Any = None, **_: Any) -> None:
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
