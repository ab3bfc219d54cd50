"""What this machine allows: a raw Celery hop, a raw MariaDB transaction, a raw fan-out.

Each is measured again next to the workload it is the limit of (limit, workload, limit, …), so
that both see the same machine: on a shared machine the limit itself swings from run to run.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from benchmarks.cluster import wait
from benchmarks.config import PROBE_ROWS
from benchmarks.config import QUEUES
from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.workloads import Runner

ROUNDS = 3


def load_average() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else 0.0


def interleaved(
    limit: Callable[[], float], workload: Callable[[], float], rounds: int = ROUNDS
) -> tuple[list[float], list[float], list[float]]:
    """limit, workload, limit, workload, …: both lists, and the 1-minute load average of each round."""
    limits, values, loads = [], [], []
    for _ in range(rounds):
        limits.append(limit())
        values.append(workload())
        loads.append(load_average())
    return limits, values, loads


def _signatures(runner: Runner) -> tuple[Any, Any]:
    celery_app = runner.app.extensions["celery"]
    return celery_app.signature("flowexec.bench.hop"), celery_app.signature("flowexec.bench.touch")


def warm(runner: Runner, options: Options, redis_client: Any) -> None:
    """Open every worker thread's database connection before anything is timed."""
    from celery import group

    from workers.queues import CONTROL

    _hop, touch = _signatures(runner)
    n = options.workers * options.concurrency * 2
    key = f"bench:warm:{uuid.uuid4().hex}"
    group(touch.clone((i, key)) for i in range(n)).apply_async(queue=CONTROL)
    wait(lambda: int(redis_client.get(key) or 0) >= n, 60, "warm-up")


def hop_ms(runner: Runner, options: Options, redis_client: Any) -> float:
    """Wall time per hop of a task re-sending itself (same app, broker and pool as run_node)."""
    from workers.queues import CONTROL

    hop, _touch = _signatures(runner)
    hops = options.sizes.hops
    key = f"bench:hop:{uuid.uuid4().hex}"
    start = time.time()
    hop.clone((hops, key)).apply_async(queue=CONTROL)
    stamp = wait(lambda: redis_client.get(key), 120, "the hop chain", interval=0.005)
    return (float(stamp) - start) * 1000 / (hops + 1)


def transaction_ms(runner: Runner, options: Options) -> tuple[float, float]:
    """Median and p90 of SELECT … FOR UPDATE + UPDATE + COMMIT on one connection."""
    times = []
    with runner.engine.connect().execution_options(isolation_level="READ COMMITTED") as conn:
        for i in range(options.sizes.transactions):
            t0 = time.perf_counter()
            with conn.begin():
                row = {"i": i % PROBE_ROWS + 1}
                conn.execute(sa.text("SELECT n FROM flowexec_bench_tx WHERE id = :i FOR UPDATE"), row)
                conn.execute(sa.text("UPDATE flowexec_bench_tx SET n = n + 1 WHERE id = :i"), row)
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, sorted(times)[int(len(times) * 0.9)] * 1000


def fanout_rate(runner: Runner, options: Options, redis_client: Any) -> float:
    """Independent tasks of one transaction each on the same workers, tasks per second."""
    from celery import group

    from workers.queues import CONTROL

    _hop, touch = _signatures(runner)
    n = options.sizes.touches
    key = f"bench:touch:{uuid.uuid4().hex}"
    start = time.monotonic()
    group(touch.clone((i, key)) for i in range(n)).apply_async(queue=CONTROL)
    wait(lambda: int(redis_client.get(key) or 0) >= n, 300, "the touch fan-out", interval=0.005)
    return n / (time.monotonic() - start)


def measure_limits(runner: Runner, options: Options, redis_client: Any) -> dict[str, Any]:
    """The limits before any workload (the interleaved rounds replace hop and fan-out later)."""
    warm(runner, options, redis_client)
    hop = hop_ms(runner, options, redis_client)
    tx, tx_p90 = transaction_ms(runner, options)
    return limit_figures(runner, options, [hop], tx, tx_p90, [fanout_rate(runner, options, redis_client)])


def limit_figures(
    runner: Runner, options: Options, hops: list[float], tx: float, tx_p90: float, fans: list[float]
) -> dict[str, Any]:
    hop = statistics.median(hops)
    return {
        "celery_hop": figure(hop, "ms", hops=options.sizes.hops, rounds_ms=[round(h, 3) for h in hops]),
        "db_transaction": figure(
            tx, "ms", note="median of SELECT ... FOR UPDATE + UPDATE + COMMIT", p90_ms=round(tx_p90, 4)
        ),
        "serial_node": figure(hop + tx, "ms", note="celery_hop + db_transaction"),
        "fanout": figure(
            statistics.median(fans),
            "nodes/s",
            higher_is_better=True,
            tasks=options.sizes.touches,
            rounds=[round(f, 1) for f in fans],
            note="independent tasks of one transaction each, same workers",
        ),
    }


def drain(runner: Runner, redis_client: Any, seconds: float = 120) -> None:
    """Wait until nothing is queued (kills and the last polls), so the next figure starts clean."""

    def empty() -> bool:
        return all(redis_client.llen(q) == 0 for q in QUEUES.split(","))

    wait(empty, seconds, "the queues to drain", interval=0.2)
    time.sleep(1.0)
