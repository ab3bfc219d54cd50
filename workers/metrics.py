"""What happens inside a worker process, as Prometheus metrics: Linkis calls and reconciler actions.

The registry is this module's own (not prometheus_client's global one). A worker serves it on
``FLOWEXEC_METRICS_PORT``; the web process (and the embedded stack, one process) adds it to ``/metrics``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import start_http_server

from flowexec.actions import Action
from flowexec.actions import AdoptNode
from flowexec.actions import KillJob
from flowexec.actions import PollNode
from flowexec.actions import RunNodes
from flowexec.errors import FlowexecError
from flowexec.linkis.port import Linkis

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

LINKIS_SECONDS = Histogram(
    "flowexec_linkis_request_seconds",
    "Linkis calls made by this process, by operation",
    ["operation"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
LINKIS_ERRORS = Counter(
    "flowexec_linkis_errors_total",
    "Linkis calls that raised, by operation and flowexec error class",
    ["operation", "kind"],
    registry=REGISTRY,
)
RECONCILER_ACTIONS = Counter(
    "flowexec_reconciler_actions_total",
    "What the reconciler re-drove: redispatch (a queued node), poll, adopt (a lost submission), kill",
    ["kind"],
    registry=REGISTRY,
)

OPERATIONS = ("submit", "status", "progress", "history", "kill", "log", "find_by_source", "open_script")
_ACTION_KINDS: dict[type, str] = {
    RunNodes: "redispatch",
    PollNode: "poll",
    AdoptNode: "adopt",
    KillJob: "kill",
}
for _kind in _ACTION_KINDS.values():
    RECONCILER_ACTIONS.labels(_kind)  # shown at 0 before the first one


class InstrumentedLinkis:
    """A Linkis client whose calls are timed and whose flowexec errors are counted."""

    def __init__(self, inner: Linkis) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in OPERATIONS:
            return value
        return _timed(name, value)


def _timed(operation: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        except FlowexecError as exc:
            LINKIS_ERRORS.labels(operation, type(exc).__name__).inc()
            raise
        finally:
            LINKIS_SECONDS.labels(operation).observe(time.perf_counter() - start)

    return timed


def count_reconciled(actions: Iterable[Action]) -> None:
    """Count what one reconcile pass re-drove (a redispatch counts each node)."""
    for action in actions:
        kind = _ACTION_KINDS.get(type(action), type(action).__name__)
        RECONCILER_ACTIONS.labels(kind).inc(len(action.node_ids) if isinstance(action, RunNodes) else 1)


_served: dict[int, Any] = {}
_serve_lock = threading.Lock()


def serve(port: int, addr: str = "127.0.0.1") -> bool:
    """Serve :data:`REGISTRY` on ``addr:port`` (loopback unless ``FLOWEXEC_METRICS_HOST``); once per process."""
    with _serve_lock:
        if port in _served:
            return True
        try:
            _served[port] = start_http_server(port, addr=addr, registry=REGISTRY)
        except OSError as exc:
            log.warning("metrics not served port=%s error=%s", port, exc)
            return False
    log.info("metrics served port=%s", port)
    return True
