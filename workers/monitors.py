"""Whether anybody listens to the task events (Flower, ``celery events``), as the broker last told.

Every ``apply_async`` announces its task with a ``task-sent`` event, so that a monitor lists
queued tasks too; with nobody subscribed, that event is a serialization and a publish for
nothing, on every node dispatched. Redis answers each PUBLISH with how many subscribers took
it (``workers.redis_transport`` reports it here): while the last event reached nobody, senders
leave ``task-sent`` out, and every ``PROBE_EVERY`` seconds one goes out again to ask. A monitor
that subscribes sees the tasks sent from its next probe on, within that many seconds. Brokers
that do not tell (RabbitMQ) never report, and every task is announced.
"""

from __future__ import annotations

import time

#: Seconds between two events sent to ask whether anybody listens, while nobody did.
PROBE_EVERY = 5.0

_quiet_since: list[float | None] = [None]


def heard(receivers: int) -> None:
    """Note what an event's PUBLISH answered: how many subscribers received it."""
    _quiet_since[0] = None if receivers else time.monotonic()


def listening() -> bool:
    """True unless the last event reached nobody, less than ``PROBE_EVERY`` seconds ago."""
    since = _quiet_since[0]
    return since is None or time.monotonic() - since >= PROBE_EVERY
