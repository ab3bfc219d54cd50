"""What Celery reports about its workers and queues, asked with a short timeout."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flask import current_app

from workers.queues import QUEUES

log = logging.getLogger(__name__)
#: Seconds to wait for workers' replies: the page must answer even when none does.
INSPECT_TIMEOUT = 0.5


@dataclass
class Worker:
    name: str
    active: int
    reserved: int
    queues: list[str]
    concurrency: Any
    tasks_done: int


@dataclass
class CeleryReport:
    workers: list[Worker] = field(default_factory=list)
    depths: dict[str, int | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _depth(channel: Any, queue: str) -> int | None:
    try:
        return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except Exception as exc:  # a broker that cannot tell: shown as unknown
        log.info("queue depth of %s unknown: %s", queue, exc)
        return None


def celery_report() -> CeleryReport:
    """Workers (``inspect``: stats, active, reserved, active_queues) and each queue's depth."""
    celery = current_app.extensions["celery"]
    report = CeleryReport()
    try:
        inspect = celery.control.inspect(timeout=INSPECT_TIMEOUT)
        stats = inspect.stats() or {}
        active = inspect.active() or {}
        reserved = inspect.reserved() or {}
        queues = inspect.active_queues() or {}
    except Exception as exc:
        report.problems.append(f"workers did not answer: {exc}")
        stats, active, reserved, queues = {}, {}, {}, {}
    for name in sorted(set(stats) | set(active) | set(queues)):
        info = stats.get(name) or {}
        report.workers.append(
            Worker(
                name=name,
                active=len(active.get(name) or []),
                reserved=len(reserved.get(name) or []),
                queues=[q.get("name", "?") for q in queues.get(name) or []],
                concurrency=(info.get("pool") or {}).get("max-concurrency", "?"),
                tasks_done=sum((info.get("total") or {}).values()),
            )
        )
    if not report.workers and not report.problems:
        report.problems.append(f"no worker answered within {INSPECT_TIMEOUT} s")
    try:
        with celery.connection_for_read() as conn:
            channel = conn.default_channel
            report.depths = {queue: _depth(channel, queue) for queue in QUEUES}
    except Exception as exc:
        report.problems.append(f"broker unavailable: {exc}")
        report.depths = {queue: None for queue in QUEUES}
    return report
