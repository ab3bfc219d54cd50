"""The one-process stack: local gateway, SQLite, memory broker, in-process worker and beat."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from celery import Celery
from flask import Flask
from flask_migrate import upgrade

from api.app import create_app
from api.app import migrations_dir
from flowexec.config import Settings
from workers.beat import start_embedded_beat
from workers.queues import QUEUES

log = logging.getLogger(__name__)


@dataclass
class Stack:
    """A running embedded stack."""

    app: Flask
    gateway_url: str | None


def upgrade_database(app: Flask) -> None:
    """Apply the migrations (idempotent): the embedded default keeps its schema current."""
    with app.app_context():
        upgrade(directory=migrations_dir())


@contextmanager
def running_gateway(settings: Settings) -> Iterator[str | None]:
    """Serve the local Linkis gateway on a free loopback port unless a Linkis URL is set."""
    if settings.linkis_url:
        yield None
        return
    from gateway import create_gateway
    from gateway import serve_gateway

    gateway = create_gateway(
        os.path.join(settings.home, "gateway"),
        users=settings.gateway_users,
        tokens=settings.gateway_tokens,
        simulate=settings.gateway_simulate,
    )
    server = serve_gateway(gateway, "127.0.0.1", 0)
    try:
        yield server.url
    finally:
        server.shutdown()


@contextmanager
def running_worker(celery_app: Celery, concurrency: int = 8) -> Iterator[Any]:
    """Run a threads-pool worker consuming every flowexec queue, inside this process."""
    ready = threading.Event()
    worker = celery_app.WorkController(
        pool_cls="threads",
        concurrency=concurrency,
        queues=list(QUEUES),
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        hostname=f"embedded-{os.getpid()}@localhost",
        ready_callback=lambda *_: ready.set(),
        loglevel="WARNING",
    )
    thread = threading.Thread(target=worker.start, name="flowexec-worker", daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("embedded worker did not start in 30 s")
    try:
        yield worker
    finally:
        worker.stop(in_sighandler=False, exitcode=0)
        thread.join(5)


@contextmanager
def embedded_stack(overrides: dict[str, Any] | None = None, beat: bool = True) -> Iterator[Stack]:
    """Start everything one process needs; stop it all on exit."""
    settings = Settings.from_env(os.environ)
    if overrides:
        settings = settings.with_overrides(overrides)
    os.makedirs(settings.home, exist_ok=True)
    with running_gateway(settings) as gateway_url:
        extra = dict(overrides or {})
        if gateway_url:
            extra["linkis_url"] = gateway_url
        app = create_app(extra)
        upgrade_database(app)
        celery_app = app.extensions["celery"]
        # The memory broker is process-global: drop anything a previous app left queued.
        with celery_app.connection_for_write() as conn:
            for name in QUEUES:
                conn.default_channel.queue_purge(name)
        with running_worker(celery_app):
            beat_service = start_embedded_beat(celery_app)[0] if beat else None
            try:
                yield Stack(app, gateway_url)
            finally:
                if beat_service is not None:
                    beat_service.stop()
