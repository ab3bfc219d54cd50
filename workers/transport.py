"""The broker transports flowexec installs: ``redis://`` (``workers.redis_transport``, imported only
when a Redis broker is used) and ``memory://``, the embedded stack's in-process broker."""

from __future__ import annotations

from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import memory


class MemoryTransport(memory.Transport):
    """The in-process broker, which notices a stop within five of its polls (at most 20 ms):
    the worker's loop asks it for messages with a 2 s timeout, and a stop waited for that.
    ``flowexec run`` polls every 1 ms, so its end waits 5 ms for its worker, not 20."""

    def drain_events(self, connection: Any, timeout: Any = None, **kwargs: Any) -> Any:
        cap = min(0.02, 5 * (self.polling_interval or 0.02))
        return super().drain_events(connection, timeout=min(timeout or cap, cap))  # type: ignore[no-untyped-call]


def install() -> None:
    """Make ``redis://`` and ``memory://`` broker URLs use these transports (called by
    ``celery_init_app``)."""
    TRANSPORT_ALIASES["redis"] = "workers.redis_transport:Transport"
    TRANSPORT_ALIASES["memory"] = "workers.transport:MemoryTransport"
