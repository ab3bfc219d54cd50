"""The limit probes, registered in the bench's worker processes (``benchmarks.worker``)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from celery import Celery

from benchmarks.config import PROBE_ROWS


def register_probes(celery_app: Celery) -> None:
    """Add the limit probes to a worker's Celery app (``benchmarks.worker``)."""
    import redis

    from workers.queues import CONTROL
    from workers.runtime import runtime

    clients: dict[str, Any] = {}

    def client() -> Any:
        url = runtime().settings.broker_url or ""
        if url not in clients:
            clients[url] = redis.Redis.from_url(url)
        return clients[url]

    @celery_app.task(name="flowexec.bench.hop", bind=True, queue=CONTROL)  # type: ignore[misc]
    def hop(self: Any, remaining: int, key: str) -> None:
        """One Celery hop: re-send itself until ``remaining`` is spent, then stamp ``key``."""
        if remaining > 0:
            self.apply_async((remaining - 1, key), queue=CONTROL)
        else:
            client().set(key, repr(time.time()))

    @celery_app.task(name="flowexec.bench.touch", queue=CONTROL)  # type: ignore[misc]
    def touch(row: int, key: str) -> None:
        """One fan-out unit at the limit: one MariaDB transaction, then count it."""
        from api.extensions import db

        db.session.execute(
            sa.text("UPDATE flowexec_bench_tx SET n = n + 1 WHERE id = :i"), {"i": row % PROBE_ROWS + 1}
        )
        db.session.commit()
        client().incr(key)

    del hop, touch
