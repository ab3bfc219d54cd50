"""Plain Celery canvas, the baseline with no durability: no-op tasks on Redis (broker and result
backend), Celery's defaults otherwise (early acks, no database, nothing survives a lost message).

``celery -A canvas worker`` (from this folder) is the worker; ``python canvas.py SPEC --out FILE``
the client that runs the workloads; ``python canvas.py --ping N`` waits until N workers answer.
A chain is ``chain`` of signatures, a fan-out and join a ``chord``; canvas has no general DAG,
so the random DAG runs level by level (a chain of groups: every node of a level waits for the
whole level before it, more waiting than the DAG needs).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import peer_common
from celery import Celery
from celery import chain
from celery import group

QUEUE = "peers.canvas"
app = Celery("peers_canvas")
app.conf.update(
    broker_url=os.environ.get("PEERS_BROKER_URL", "redis://127.0.0.1:6379/0"),
    result_backend=os.environ.get("PEERS_BROKER_URL", "redis://127.0.0.1:6379/0"),
    task_default_queue=QUEUE,
    result_expires=600,
    broker_connection_retry_on_startup=True,
)


@app.task(name="peers.noop")
def noop() -> None:
    return None


def signature(workload: peer_common.Workload) -> Any:
    """The workload as one canvas: a chain of its levels, each a task or a group."""
    parts = [
        noop.si() if len(level) == 1 else group(noop.si() for _ in level)
        for level in peer_common.levels(workload)
    ]
    return parts[0] if len(parts) == 1 else chain(*parts)


def run(workload: peer_common.Workload) -> None:
    signature(workload).apply_async().get(timeout=600)


def ping(count: int, seconds: float = 60.0) -> int:
    """Wait until ``count`` workers answer a ping."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=0.5) or []) >= count:
            return 0
        time.sleep(0.2)
    print(f"fewer than {count} canvas workers answered in {seconds:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--ping"]:
        sys.exit(ping(int(sys.argv[2])))
    sys.exit(peer_common.main(run, ["celery", "kombu", "redis"]))
