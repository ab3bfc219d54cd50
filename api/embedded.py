"""The one-process stack: local gateway, SQLite, memory broker, in-process worker and beat."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery
from celery.utils.timer2 import Timer
from flask import Flask

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


_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(.+?)\s*$", re.M)


def script_head(directory: str) -> str | None:
    """The one head revision of the migration scripts, read from their text (no Alembic
    import); ``None`` when it cannot be told (then the caller upgrades)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in Path(directory, "versions").glob("*.py"):
        found = {m.group(1): m.group(2) for m in _REVISION.finditer(path.read_text(encoding="utf-8"))}
        if "revision" not in found:
            return None
        revisions.add(found["revision"].strip("\"'"))
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", found.get("down_revision", "")))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(app: Flask) -> bool:
    """True when the database's ``alembic_version`` row names the scripts' head."""
    import sqlalchemy as sa

    from api.extensions import db

    head = script_head(migrations_dir())
    if head is None:
        return False
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        except sa.exc.DBAPIError:  # no table yet: a new database
            return False
    return rows == [head]


def upgrade_database(app: Flask) -> None:
    """Apply the migrations when the database is not at the scripts' head: the embedded default
    keeps its schema current without paying for Alembic on every start."""
    if at_head(app):
        return
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=migrations_dir())


class WakingTimer(Timer):  # type: ignore[misc]
    """Celery's timer, woken by ``stop``: with nothing scheduled it waits a second for an
    entry, which made every embedded run end a second late."""

    def stop(self) -> None:
        self._Timer__is_shutdown.set()
        with self.not_empty:
            self.not_empty.notify_all()
        super().stop()


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
        timer_cls=WakingTimer,
        timer_precision=0.1,
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
def embedded_stack(
    overrides: dict[str, Any] | None = None, beat: bool = True, http: bool = True
) -> Iterator[Stack]:
    """Start everything one process needs; stop it all on exit (``http=False``: no routes)."""
    settings = Settings.from_env(os.environ)
    if overrides:
        settings = settings.with_overrides(overrides)
    os.makedirs(settings.home, exist_ok=True)
    with running_gateway(settings) as gateway_url:
        extra = dict(overrides or {})
        if gateway_url:
            extra["linkis_url"] = gateway_url
        app = create_app(extra, http=http)
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
