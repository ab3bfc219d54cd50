"""What this machine allows: a raw Celery hop, a raw MariaDB transaction, a raw fan-out."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import sqlalchemy as sa

from benchmarks.cluster import wait
from benchmarks.config import PROBE_ROWS
from benchmarks.config import QUEUES
from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.workloads import Runner


def measure_limits(runner: Runner, options: Options, redis_client: Any) -> dict[str, Any]:
    """A raw Celery hop, a raw MariaDB transaction, and a fan-out of one transaction per task."""
    sizes = options.sizes
    celery_app = runner.app.extensions["celery"]
    hop, touch = celery_app.signature("flowexec.bench.hop"), celery_app.signature("flowexec.bench.touch")
    from celery import group

    from workers.queues import CONTROL

    # warm every worker thread's connections first
    key = f"bench:warm:{uuid.uuid4().hex}"
    group(touch.clone((i, key)) for i in range(options.workers * options.concurrency * 2)).apply_async(
        queue=CONTROL
    )
    wait(lambda: int(redis_client.get(key) or 0) >= options.workers * options.concurrency * 2, 60, "warm-up")

    key = f"bench:hop:{uuid.uuid4().hex}"
    start = time.time()
    hop.clone((sizes.hops, key)).apply_async(queue=CONTROL)
    stamp = wait(lambda: redis_client.get(key), 120, "the hop chain", interval=0.005)
    hop_ms = (float(stamp) - start) * 1000 / (sizes.hops + 1)

    tx_times = []
    with runner.engine.connect().execution_options(isolation_level="READ COMMITTED") as conn:
        for i in range(sizes.transactions):
            t0 = time.perf_counter()
            with conn.begin():
                conn.execute(
                    sa.text("SELECT n FROM flowexec_bench_tx WHERE id = :i FOR UPDATE"),
                    {"i": i % PROBE_ROWS + 1},
                )
                conn.execute(
                    sa.text("UPDATE flowexec_bench_tx SET n = n + 1 WHERE id = :i"), {"i": i % PROBE_ROWS + 1}
                )
            tx_times.append(time.perf_counter() - t0)
    tx_ms = statistics.median(tx_times) * 1000

    key = f"bench:touch:{uuid.uuid4().hex}"
    start = time.monotonic()
    group(touch.clone((i, key)) for i in range(sizes.touches)).apply_async(queue=CONTROL)
    wait(lambda: int(redis_client.get(key) or 0) >= sizes.touches, 300, "the touch fan-out", interval=0.005)
    fan_rate = sizes.touches / (time.monotonic() - start)
    serial = hop_ms + tx_ms
    return {
        "celery_hop": figure(hop_ms, "ms", hops=sizes.hops),
        "db_transaction": figure(
            tx_ms,
            "ms",
            note="median of SELECT ... FOR UPDATE + UPDATE + COMMIT",
            p90_ms=round(sorted(tx_times)[int(len(tx_times) * 0.9)] * 1000, 4),
        ),
        "serial_node": figure(serial, "ms", note="celery_hop + db_transaction"),
        "fanout": figure(
            fan_rate,
            "nodes/s",
            higher_is_better=True,
            tasks=sizes.touches,
            note="independent tasks of one transaction each, same workers",
        ),
    }


def drain(runner: Runner, redis_client: Any, seconds: float = 120) -> None:
    """Wait until nothing is queued (kills and the last polls), so the next figure starts clean."""

    def empty() -> bool:
        return all(redis_client.llen(q) == 0 for q in QUEUES.split(","))

    wait(empty, seconds, "the queues to drain", interval=0.2)
    time.sleep(1.0)
