"""``flowexec kill``: cancel an execution or one node, and kill their Linkis jobs through the workers."""

from __future__ import annotations

import argparse
import getpass
import time
from collections.abc import Sequence
from typing import Any

from celery import Celery
from flask import Flask

from api.cli.common import EXIT_OK
from api.cli.common import local_app
from api.cli.common import print_json
from api.cli.common import task_id
from flowexec.actions import Action

#: How long an embedded kill waits for its worker to send the kills to Linkis.
DRAIN_SECONDS = 30.0


def cmd_kill(args: argparse.Namespace) -> int:
    from flowexec import service
    from flowexec.service import reads

    app = local_app(broker=True)
    with app.app_context():
        tid = task_id(args.exec_id)
        who = getpass.getuser()
        actions = (
            service.cancel_node(tid, args.node, by=who)
            if args.node
            else service.cancel_execution(tid, by=who)
        )
        send(app, actions)
        status = reads.task(tid).status
    print_json({"taskID": tid, "node": args.node, "status": status})
    return EXIT_OK


def send(app: Flask, actions: Sequence[Action]) -> None:
    """Send the service's actions with ``workers.dispatch``, as the API does (inside the app context).

    With a real broker the workers consume them. On the embedded default the memory broker is this
    process's own, so a worker runs here until the actions are done. Without ``FLOWEXEC_LINKIS_URL``
    the jobs ran on the local gateway of the process that started them (``flowexec serve`` or
    ``run``), which this process cannot reach: nothing is sent, the database already says Cancelled.
    """
    from api.embedded import running_worker
    from workers import dispatch

    settings = app.extensions["flowexec"].settings
    if not settings.embedded:
        dispatch.send(actions)
        return
    if not actions or not settings.linkis_url:
        return
    celery_app = app.extensions["celery"]
    with running_worker(celery_app, concurrency=2):
        dispatch.send(actions)
        _drain(celery_app, DRAIN_SECONDS)


def _drain(celery_app: Celery, seconds: float) -> None:
    """Wait until no message is queued and the worker holds none (received, running or retrying)."""
    from celery.worker import state

    from workers.queues import QUEUES

    deadline = time.monotonic() + seconds
    idle_since: float | None = None
    while time.monotonic() < deadline:
        with celery_app.connection_for_write() as conn:
            channel: Any = conn.default_channel
            queued = sum(channel.queue_declare(name, passive=True).message_count for name in QUEUES)
        if queued or state.reserved_requests or state.active_requests:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 0.5:  # idle across a fetch: a message in flight shows up
            return
        time.sleep(0.05)


def add_parser(sub: Any) -> None:
    kill = sub.add_parser("kill", help="kill an execution, or one node of it")
    kill.add_argument("exec_id", metavar="EXEC_ID", help="execID or taskID")
    kill.add_argument(
        "--node", metavar="KEY", help="kill only this node (the failure policy decides the rest)"
    )
    kill.set_defaults(func=cmd_kill)
