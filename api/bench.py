"""``flowexec bench``: scheduling overhead against real MariaDB, Redis, worker processes and the gateway.

Every figure is taken in one run, next to the limit this machine allows: a raw Celery
self-dispatch hop and a raw MariaDB transaction (the ``api.bench_worker`` probes run in the
same worker processes, pool and app-context task base as ``run_node``). The result is one JSON
object; each figure carries its value, unit, the reference it is compared with, the ratio, the
target and whether it is met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from celery import Celery
from flask import Flask

DEFAULT_DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/flowexec_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"
TOKEN = "flowexec-bench"
USER = "hadoop"
QUEUES = "flowexec.control,flowexec.nodes,flowexec.poll"
TERMINAL = ("Succeed", "Failed", "Cancelled", "Timeout")
#: The tables the bench drops in its database before migrating it again (flowexec's, DSS's seed tables).
FLOW_TABLE_PREFIXES = ("flowexec_", "dss_workflow_", "alembic_version")
PROBE_ROWS = 64


@dataclass(frozen=True)
class Sizes:
    """How much work each measurement does."""

    hops: int = 500
    touches: int = 2000
    transactions: int = 500
    chain: int = 500
    shell_chain: int = 20
    fanout: int = 2000
    dag: tuple[int, ...] = (100, 1000, 10000)
    polling: int = 1000
    polling_window: float = 15.0
    api_seconds: float = 5.0
    api_clients: int = 8


FULL = Sizes()
QUICK = Sizes(
    hops=200,
    touches=300,
    transactions=200,
    chain=100,
    shell_chain=5,
    fanout=300,
    dag=(100, 1000, 2000),
    polling=100,
    polling_window=5.0,
    api_seconds=2.0,
)
TINY = Sizes(
    hops=10,
    touches=10,
    transactions=10,
    chain=5,
    shell_chain=2,
    fanout=10,
    dag=(10, 20),
    polling=3,
    polling_window=1.0,
    api_seconds=0.5,
    api_clients=2,
)


@dataclass(frozen=True)
class Options:
    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = DEFAULT_BROKER_URL
    sizes: Sizes = FULL
    workers: int = 2
    concurrency: int = 4
    api_workers: int = 2
    worker_loglevel: str = "WARNING"
    poll_min: float | None = None
    poll_max: float | None = None
    skip: frozenset[str] = frozenset()
    home: str | None = None
    progress: Callable[[str], None] = lambda _text: None


def figure(
    value: float,
    unit: str,
    *,
    ref: float | None = None,
    ref_name: str | None = None,
    higher_is_better: bool = False,
    target: str | None = None,
    met: bool | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One measured figure: value and unit, its ratio to the reference (the limit), the target."""
    ratio = None
    if ref:
        ratio = value / ref
    out: dict[str, Any] = {
        "value": round(value, 4),
        "unit": unit,
        "ratio": None if ratio is None else round(ratio, 4),
        "ratio_to": ref_name,
        "higher_is_better": higher_is_better,
        "target": target,
        "met": met,
    }
    out.update(extra)
    return out


# ------------------------------------------------------------------ probes (in the workers)


def register_probes(celery_app: Celery) -> None:
    """Add the limit probes to a worker's Celery app (``api.bench_worker``)."""
    import redis

    from workers.queues import NODES
    from workers.runtime import runtime

    clients: dict[str, Any] = {}

    def client() -> Any:
        url = runtime().settings.broker_url or ""
        if url not in clients:
            clients[url] = redis.Redis.from_url(url)
        return clients[url]

    @celery_app.task(name="flowexec.bench.hop", bind=True, queue=NODES)  # type: ignore[misc]
    def hop(self: Any, remaining: int, key: str) -> None:
        """One Celery hop: re-send itself until ``remaining`` is spent, then stamp ``key``."""
        if remaining > 0:
            self.apply_async((remaining - 1, key), queue=NODES)
        else:
            client().set(key, repr(time.time()))

    @celery_app.task(name="flowexec.bench.touch", queue=NODES)  # type: ignore[misc]
    def touch(row: int, key: str) -> None:
        """One fan-out unit at the limit: one MariaDB transaction, then count it."""
        from api.extensions import db

        db.session.execute(
            sa.text("UPDATE flowexec_bench_tx SET n = n + 1 WHERE id = :i"), {"i": row % PROBE_ROWS + 1}
        )
        db.session.commit()
        client().incr(key)

    del hop, touch


# ------------------------------------------------------------------------- processes


class Processes:
    """The processes this bench started; each in its own session, stopped by its group id."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str], log: Path, stdout: int | None = None
    ) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                env=env,
                stdout=stdout if stdout is not None else out,
                stderr=out,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()

    def stop_all(self) -> None:
        for _name, proc in reversed(self.procs):
            self.stop(proc)
        self.procs.clear()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Callable[[], Any], seconds: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(interval)


def start_gateway(procs: Processes, home: Path, max_running: int) -> str:
    """The local gateway in its own process (jobs are its threads and subprocesses)."""
    argv = [
        sys.executable,
        "-m",
        "api.bench",
        "gateway",
        "--state-dir",
        str(home / "gateway"),
        "--max-running",
        str(max_running),
    ]
    proc = procs.start("gateway", argv, dict(os.environ), home / "gateway.log", stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("URL "):
        raise RuntimeError(f"gateway did not start: {line!r}; see {home / 'gateway.log'}")
    return line[4:]


def serve_gateway_main(argv: list[str]) -> int:
    """``python -m api.bench gateway``: serve until SIGTERM, then kill every job and exit."""
    from gateway import create_gateway
    from gateway import serve_gateway

    parser = argparse.ArgumentParser(prog="api.bench gateway")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--max-running", type=int, default=1100)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = serve_gateway(
        create_gateway(
            args.state_dir,
            max_running_per_group=args.max_running,
            max_queued_per_group=2 * args.max_running + 100,
            memory_retention=120.0,
        ),
        "127.0.0.1",
        0,
    )
    print(f"URL {server.url}", flush=True)
    try:
        stop.wait()
    finally:
        server.shutdown()
    return 0


def worker_env(options: Options, linkis_url: str, home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "FLOWEXEC_DATABASE_URL": options.database_url,
        "FLOWEXEC_BROKER_URL": options.broker_url,
        "FLOWEXEC_LINKIS_URL": linkis_url,
        "FLOWEXEC_TOKEN": TOKEN,
        "FLOWEXEC_HOME": str(home),
    }
    if options.poll_min is not None:
        env["FLOWEXEC_POLL_MIN"] = str(options.poll_min)
    if options.poll_max is not None:
        env["FLOWEXEC_POLL_MAX"] = str(options.poll_max)
    return env


def start_workers(procs: Processes, options: Options, env: dict[str, str], home: Path, app: Flask) -> None:
    tag = uuid.uuid4().hex[:6]
    for i in range(options.workers):
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "api.bench_worker",
            "worker",
            "-P",
            "threads",
            "-c",
            str(options.concurrency),
            "-Q",
            QUEUES,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"bench{i}-{tag}@localhost",
            "--loglevel",
            options.worker_loglevel,
        ]
        procs.start(f"worker{i}", argv, env, home / f"worker{i}.log")
    celery_app = app.extensions["celery"]

    def all_ready() -> bool:
        replies = celery_app.control.ping(timeout=0.5) or []
        return sum(1 for r in replies for name in r if f"-{tag}@" in name) >= options.workers

    _wait(all_ready, 90, "the worker processes", interval=0.2)


def start_api(procs: Processes, options: Options, env: dict[str, str], home: Path) -> str:
    port = _free_port()
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(options.api_workers),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--log-level",
        "warning",
        "api.wsgi:app",
    ]
    procs.start("api", argv, env, home / "api.log")
    url = f"http://127.0.0.1:{port}"
    import requests

    def up() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    _wait(up, 60, "the API (gunicorn)", interval=0.2)
    return url


# --------------------------------------------------------------------------- database


def prepare_database(options: Options) -> None:
    """Create the bench database if needed, drop flowexec's tables and migrate from scratch.

    Refuses the test suite's ``test`` database (the suite truncates it under running tests).
    """
    from flask_migrate import upgrade

    from api import create_app
    from api import migrations_dir

    url = sa.engine.make_url(options.database_url)
    if url.database == "test":
        raise RuntimeError("the bench drops and rebuilds its database's tables: give it its own, not 'test'")
    if url.get_backend_name() in ("mysql", "mariadb") and url.database:
        server = sa.create_engine(url.set(database=""))
        with server.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{url.database}`"))
        server.dispose()
    engine = sa.create_engine(options.database_url)
    with engine.begin() as conn:
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table in sa.inspect(conn).get_table_names():
            if table.startswith(FLOW_TABLE_PREFIXES):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        if engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
        conn.execute(sa.text("CREATE TABLE flowexec_bench_tx (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        for i in range(1, PROBE_ROWS + 1):
            conn.execute(sa.text("INSERT INTO flowexec_bench_tx (id, n) VALUES (:i, 0)"), {"i": i})
    engine.dispose()
    app = create_app({"database_url": options.database_url, "broker_url": "memory://"})
    with app.app_context():
        upgrade(directory=migrations_dir())


# ------------------------------------------------------------------------------ flows


def control_node(key: str) -> dict[str, Any]:
    return {"id": key, "title": key, "jobType": "linkis.control.empty", "jobContent": {}}


def shell_node(key: str, code: str) -> dict[str, Any]:
    return {"id": key, "title": key, "jobType": "linkis.shell.sh", "jobContent": {"code": code}}


def doc(nodes: list[dict[str, Any]], edges: list[tuple[str, str]]) -> dict[str, Any]:
    return {"nodes": nodes, "edges": [{"source": a, "target": b} for a, b in edges], "props": []}


def chain_doc(n: int, make: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    keys = [f"c{i:05d}" for i in range(n)]
    return doc([make(k) for k in keys], list(zip(keys, keys[1:], strict=False)))


def wide_doc(n: int, make: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return doc([make(f"w{i:05d}") for i in range(n)], [])


def random_dag(n: int, seed: int = 8, window: int = 50, max_parents: int = 3) -> dict[str, Any]:
    """``n`` control nodes, each with up to ``max_parents`` parents among the ``window`` before it,
    listed in shuffled order (the parser must sort them)."""
    rng = random.Random(seed)
    keys = [f"n{i:06d}" for i in range(n)]
    edges: list[tuple[str, str]] = []
    for i in range(1, n):
        lo = max(0, i - window)
        for p in rng.sample(range(lo, i), min(i - lo, rng.randint(0, max_parents))):
            edges.append((keys[p], keys[i]))
    nodes = [control_node(k) for k in keys]
    rng.shuffle(nodes)
    return doc(nodes, edges)


class Runner:
    """Register, submit and watch flows from this process, on the bench database and broker."""

    def __init__(self, app: Flask, database_url: str) -> None:
        self.app = app
        self.engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", pool_size=2)
        self.next_flow_id = 1

    def register(self, definition: dict[str, Any]) -> tuple[int, str]:
        from flowexec import service

        flow_id = self.next_flow_id
        self.next_flow_id += 1
        with self.app.app_context():
            ref = service.register_flow(definition, {}, flow_id=flow_id)
        return flow_id, ref.version

    def submit(self, flow_id: int, version: str, dispatch: bool = True) -> int:
        from flowexec import service
        from workers import dispatch as send

        with self.app.app_context():
            submitted, actions = service.submit_execution(
                service.ExecutionRequest(flow_id=flow_id, version=version, user=USER),
                self.app.extensions["flowexec"].settings,
            )
            if dispatch:
                send.send(actions)
        return submitted.task_id

    def cancel(self, task_id: int) -> None:
        from flowexec import service
        from workers import dispatch as send

        with self.app.app_context():
            send.send(service.cancel_execution(task_id))

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def wait_terminal(self, task_id: int, seconds: float, interval: float = 0.01) -> tuple[str, float]:
        """Poll the task's status; return it and the monotonic time it was first seen terminal."""
        with self.engine.connect() as conn:
            query = sa.text("SELECT status FROM dss_workflow_task WHERE id = :t")
            deadline = time.monotonic() + seconds
            while True:
                status = conn.execute(query, {"t": task_id}).scalar()
                if status in TERMINAL:
                    return str(status), time.monotonic()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"task {task_id} still {status} after {seconds:.0f} s")
                time.sleep(interval)

    def run(self, definition: dict[str, Any], seconds: float) -> tuple[float, int]:
        """Register and run a flow; return the wall time from dispatch to its end, and its task id."""
        flow_id, version = self.register(definition)
        from flowexec import service
        from workers import dispatch as send

        with self.app.app_context():
            submitted, actions = service.submit_execution(
                service.ExecutionRequest(flow_id=flow_id, version=version, user=USER),
                self.app.extensions["flowexec"].settings,
            )
            start = time.monotonic()
            send.send(actions)
        status, end = self.wait_terminal(submitted.task_id, seconds)
        if status != "Succeed":
            raise RuntimeError(f"bench flow {flow_id} ended {status}")
        return end - start, submitted.task_id

    def close(self) -> None:
        self.engine.dispose()


# ------------------------------------------------------------------------- measurements


def measure_limits(runner: Runner, options: Options, redis_client: Any) -> dict[str, Any]:
    """A raw Celery hop, a raw MariaDB transaction, and a fan-out of one transaction per task."""
    sizes = options.sizes
    celery_app = runner.app.extensions["celery"]
    hop, touch = celery_app.signature("flowexec.bench.hop"), celery_app.signature("flowexec.bench.touch")
    from celery import group

    from workers.queues import NODES

    # warm every worker thread's connections first
    key = f"bench:warm:{uuid.uuid4().hex}"
    group(touch.clone((i, key)) for i in range(options.workers * options.concurrency * 2)).apply_async(
        queue=NODES
    )
    _wait(lambda: int(redis_client.get(key) or 0) >= options.workers * options.concurrency * 2, 60, "warm-up")

    key = f"bench:hop:{uuid.uuid4().hex}"
    start = time.time()
    hop.clone((sizes.hops, key)).apply_async(queue=NODES)
    stamp = _wait(lambda: redis_client.get(key), 120, "the hop chain", interval=0.005)
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
    group(touch.clone((i, key)) for i in range(sizes.touches)).apply_async(queue=NODES)
    _wait(lambda: int(redis_client.get(key) or 0) >= sizes.touches, 300, "the touch fan-out", interval=0.005)
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


def measure_chains(runner: Runner, options: Options, limits: dict[str, Any]) -> dict[str, Any]:
    sizes = options.sizes
    serial = limits["serial_node"]["value"]
    wall, _ = runner.run(chain_doc(sizes.chain, control_node), 60 + sizes.chain * 0.2)
    per_node = wall * 1000 / sizes.chain
    out = {
        "control": figure(
            per_node,
            "ms/node",
            ref=serial,
            ref_name="limit.serial_node",
            target="<= 3x limit.serial_node",
            met=per_node <= 3 * serial,
            nodes=sizes.chain,
            wall_s=round(wall, 3),
        )
    }
    if sizes.shell_chain and "shell" not in options.skip:
        wall, _ = runner.run(
            chain_doc(sizes.shell_chain, lambda k: shell_node(k, "true")), 60 + sizes.shell_chain * 10
        )
        per_node = wall * 1000 / sizes.shell_chain
        out["shell"] = figure(
            per_node,
            "ms/node",
            ref=serial,
            ref_name="limit.serial_node",
            nodes=sizes.shell_chain,
            wall_s=round(wall, 3),
            note="instant shell jobs on the gateway; includes the first poll delay (poll_min)",
        )
    return out


def measure_fanout(runner: Runner, options: Options, limits: dict[str, Any]) -> dict[str, Any]:
    sizes = options.sizes
    limit = limits["fanout"]["value"]
    wall, task_id = runner.run(wide_doc(sizes.fanout, control_node), 60 + sizes.fanout * 0.1)
    rate = sizes.fanout / wall
    return {
        "control": figure(
            rate,
            "nodes/s",
            ref=limit,
            ref_name="limit.fanout",
            higher_is_better=True,
            target=">= 0.5x limit.fanout",
            met=rate >= 0.5 * limit,
            nodes=sizes.fanout,
            wall_s=round(wall, 3),
        )
    }


def measure_planning(runner: Runner, options: Options) -> dict[str, Any]:
    """Validate, plan and persist random DAGs of growing size; the per-node cost must stay flat."""
    from flowexec import planner
    from flowexec import service
    from flowexec.graph import parse_flow

    rows: dict[str, Any] = {}
    for n in options.sizes.dag:
        definition = random_dag(n)
        t0 = time.perf_counter()
        flow = parse_flow(definition, {})
        t1 = time.perf_counter()
        planner.plan_nodes(flow, frozenset())
        t2 = time.perf_counter()
        row: dict[str, Any] = {
            "nodes": n,
            "edges": len(definition["edges"]),
            "validate": figure((t1 - t0) * 1000, "ms"),
            "plan": figure((t2 - t1) * 1000, "ms"),
        }
        rows[str(n)] = row
        flow_id = runner.next_flow_id
        runner.next_flow_id += 1
        try:
            with runner.app.app_context():
                ref = service.register_flow(definition, {}, flow_id=flow_id)
                t3 = time.perf_counter()
                submitted, _actions = service.submit_execution(
                    service.ExecutionRequest(flow_id=flow_id, version=ref.version, user=USER),
                    runner.app.extensions["flowexec"].settings,
                )
                t4 = time.perf_counter()
        except Exception as exc:  # a flow too big to persist is a finding, not the end of the run
            row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
            continue
        runner.cancel(submitted.task_id)  # nothing of it was dispatched; settle it
        t5 = time.perf_counter()
        total = (t4 - t2) * 1000
        row.update(
            {
                "register": figure((t3 - t2) * 1000, "ms", note="validate + hash + insert the version"),
                "submit": figure(
                    (t4 - t3) * 1000, "ms", note="load + validate + plan + insert task and node rows"
                ),
                "total": figure(total, "ms", note="register + submit"),
                "per_node": figure(total * 1000 / n, "us/node"),
                "cancel": figure((t5 - t4) * 1000, "ms"),
            }
        )
    done = sorted(n for n in options.sizes.dag if "total" in rows[str(n)])
    largest_n = max(options.sizes.dag)
    target_s = 5.0 * largest_n / 10000
    out: dict[str, Any] = {"sizes": rows}
    largest = rows[str(largest_n)]
    if "total" in largest:
        largest_s = largest["total"]["value"] / 1000
        out["largest"] = figure(
            largest_s,
            "s",
            ref=target_s,
            ref_name=f"target {target_s:g} s",
            target=f"< {target_s:g} s for {largest_n} nodes",
            met=largest_s < target_s,
            nodes=largest_n,
        )
    else:
        out["largest"] = figure(
            0.0,
            "s",
            target=f"< {target_s:g} s for {largest_n} nodes",
            met=False,
            nodes=largest_n,
            error=largest["error"],
        )
    if len(done) >= 2:
        small, big = rows[str(done[0])], rows[str(done[-1])]
        growth = big["per_node"]["value"] / small["per_node"]["value"]
        out["flatness"] = figure(
            growth,
            "x",
            ref=1.0,
            ref_name=f"per-node cost at {done[0]} nodes",
            target=f"per-node cost at {done[-1]} <= 2x at {done[0]}",
            met=growth <= 2.0,
            sizes=done,
        )
    return out


def measure_polling(runner: Runner, options: Options) -> dict[str, Any]:
    """Many nodes running at once on the gateway; meanwhile, how late does another flow's node start?"""
    sizes = options.sizes
    n = sizes.polling
    flow_id, version = runner.register(wide_doc(n, lambda k: shell_node(k, "sleep 600")))
    probe_flow, probe_version = runner.register(doc([control_node("probe")], []))
    task_id = runner.submit(flow_id, version)
    t0 = time.monotonic()
    count = "SELECT COUNT(*) FROM flowexec_node_run WHERE task_id = :t AND state = 'Running'"
    try:
        _wait(lambda: runner.scalar(count, t=task_id) >= n, 120 + n * 0.2, f"{n} running nodes", interval=0.2)
        ramp = time.monotonic() - t0
        polls = "SELECT COALESCE(SUM(polls), 0) FROM flowexec_node_run WHERE task_id = :t"
        polls_before, w0 = int(runner.scalar(polls, t=task_id)), time.monotonic()
        dispatch_ms: list[float] = []
        done_ms: list[float] = []
        while time.monotonic() - w0 < sizes.polling_window:
            at = datetime.now()
            probe = runner.submit(probe_flow, probe_version)
            start = time.monotonic()
            _status, end = runner.wait_terminal(probe, 60)
            done_ms.append((end - start) * 1000)
            started = runner.scalar("SELECT started_at FROM flowexec_node_run WHERE task_id = :t", t=probe)
            dispatch_ms.append(max(0.0, (started - at).total_seconds() * 1000))
            time.sleep(0.25)
        window = time.monotonic() - w0
        polls_rate = (int(runner.scalar(polls, t=task_id)) - polls_before) / window
        still = runner.scalar(count, t=task_id)
    finally:
        runner.cancel(task_id)
    worst = max(dispatch_ms)
    return {
        "running_nodes": figure(float(still), "nodes", nodes=n, ramp_s=round(ramp, 3)),
        "polls": figure(polls_rate, "polls/s"),
        "probe_dispatch_max": figure(
            worst,
            "ms",
            ref=1000.0,
            ref_name="target 1000 ms",
            target="< 1000 ms while the nodes are polled",
            met=worst < 1000,
            probes=len(dispatch_ms),
            p50_ms=round(statistics.median(dispatch_ms), 3),
        ),
        "probe_end_to_end_max": figure(max(done_ms), "ms", p50_ms=round(statistics.median(done_ms), 3)),
    }


def drain(runner: Runner, redis_client: Any, seconds: float = 120) -> None:
    """Wait until nothing is queued (kills and the last polls), so the next figure starts clean."""

    def empty() -> bool:
        return all(redis_client.llen(q) == 0 for q in QUEUES.split(","))

    _wait(empty, seconds, "the queues to drain", interval=0.2)
    time.sleep(1.0)


def measure_api(runner: Runner, options: Options, api_url: str) -> dict[str, Any]:
    """Execute then status requests per second from concurrent clients; the workers run what is executed."""
    import requests

    flow_id, version = runner.register(doc([control_node("a"), control_node("b")], [("a", "b")]))
    headers = {"Token-Code": TOKEN, "Token-User": USER}
    entrance = f"{api_url}/api/rest_j/v1/dss/flow/entrance"
    body: dict[str, Any] = {
        "executeApplicationName": "flowexecution",
        "requestApplicationName": "flowexecution",
        "runType": "json",
        "executionCode": json.dumps({"flowId": flow_id, "version": version}),
        "params": {},
        "labels": {"route": "dev"},
        "source": {"projectName": "bench", "flowName": "api"},
    }
    exec_ids: list[str] = []
    lock = threading.Lock()

    def load(kind: str) -> dict[str, Any]:
        latencies: list[float] = []
        errors = [0]
        stop_at = time.monotonic() + options.sizes.api_seconds

        def client(index: int) -> None:
            session = requests.Session()
            i = index
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                try:
                    if kind == "execute":
                        reply = session.post(f"{entrance}/execute", json=body, headers=headers, timeout=30)
                    else:
                        exec_id = exec_ids[i % len(exec_ids)]
                        i += options.sizes.api_clients
                        reply = session.get(f"{entrance}/{exec_id}/status", headers=headers, timeout=30)
                    ok = reply.status_code == 200 and reply.json().get("status") == 0
                except requests.RequestException:
                    ok, reply = False, None
                elapsed = time.perf_counter() - t0
                with lock:
                    if ok:
                        latencies.append(elapsed)
                        if kind == "execute" and reply is not None:
                            exec_ids.append(reply.json()["data"]["execID"])
                    else:
                        errors[0] += 1
            session.close()

        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(options.sizes.api_clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
        if not latencies:
            raise RuntimeError(f"no {kind} request succeeded; see the API log")
        ordered = sorted(latencies)
        return figure(
            len(latencies) / wall,
            "req/s",
            higher_is_better=True,
            requests=len(latencies),
            errors=errors[0],
            clients=options.sizes.api_clients,
            p50_ms=round(ordered[len(ordered) // 2] * 1000, 3),
            p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        )

    out = {"execute": load("execute")}
    out["status"] = load("status")
    out["execute"]["note"] = "DSS entrance execute of a 2-node flow; the workers run them meanwhile"
    out["status"]["note"] = "DSS entrance status of the executions just submitted (most still running)"
    return out


# ---------------------------------------------------------------------------- the run


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    db_version = None
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_before": [round(x, 2) for x in load],
        "database": db_version,
    }


@contextmanager
def services(options: Options) -> Iterator[tuple[Runner, Any, Path, Processes, dict[str, str]]]:
    """Database, gateway, workers and an in-process submitting app; every process stopped at the end."""
    import redis

    from api import create_app

    home = Path(options.home or tempfile.mkdtemp(prefix="flowexec-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    procs = Processes()
    redis_client = redis.Redis.from_url(options.broker_url)
    runner: Runner | None = None
    try:
        options.progress("preparing the database and the broker")
        prepare_database(options)
        redis_client.flushdb()
        linkis_url = start_gateway(procs, home, max_running=options.sizes.polling + 100)
        env = worker_env(options, linkis_url, home)
        app = create_app(
            {
                "database_url": options.database_url,
                "broker_url": options.broker_url,
                "linkis_url": linkis_url,
                "token": TOKEN,
                "home": str(home),
            }
        )
        runner = Runner(app, options.database_url)
        options.progress(f"starting {options.workers} worker processes")
        start_workers(procs, options, env, home, app)
        yield runner, redis_client, home, procs, env
    finally:
        if runner is not None:
            runner.close()
        procs.stop_all()
        try:
            redis_client.flushdb()
        finally:
            redis_client.close()


def run_bench(options: Options) -> dict[str, Any]:
    """Run every measurement in one go and return the result object."""
    began = time.monotonic()
    result: dict[str, Any] = {
        "flowexec_bench": 1,
        "taken": datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": asdict(options.sizes),
        "setup": {
            "workers": options.workers,
            "concurrency": options.concurrency,
            "api_workers": options.api_workers,
            "database_url": sa.engine.make_url(options.database_url).render_as_string(hide_password=True),
            "broker_url": options.broker_url,
        },
    }
    with services(options) as (runner, redis_client, home, procs, env):
        result["machine"]["database"] = runner.scalar("SELECT VERSION()")
        options.progress("limits: Celery hop, MariaDB transaction, raw fan-out")
        limits = result["limit"] = measure_limits(runner, options, redis_client)
        options.progress("chains")
        result["chain"] = measure_chains(runner, options, limits)
        options.progress("fan-out")
        result["fanout"] = measure_fanout(runner, options, limits)
        options.progress("planning random DAGs")
        result["plan"] = measure_planning(runner, options)
        if "polling" not in options.skip:
            options.progress(f"polling load: {options.sizes.polling} running nodes")
            result["polling"] = measure_polling(runner, options)
            drain(runner, redis_client)
        if "api" not in options.skip:
            options.progress("API under load")
            api_url = start_api(procs, options, env, home)
            result["api"] = measure_api(runner, options, api_url)
    result["targets"] = targets(result)
    result["duration_s"] = round(time.monotonic() - began, 1)
    return result


def targets(result: dict[str, Any]) -> dict[str, bool | None]:
    def met(*path: str) -> bool | None:
        node: Any = result
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node.get("met") if isinstance(node, dict) else None

    return {
        "chain_overhead_le_3x_limit": met("chain", "control"),
        "fanout_ge_half_limit": met("fanout", "control"),
        "largest_dag_planned_and_persisted": met("plan", "largest"),
        "plan_cost_flat_within_2x": met("plan", "flatness"),
        "polling_never_delays_dispatch_1s": met("polling", "probe_dispatch_max"),
    }


def rows(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, figure) pairs in reading order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, fig in result.get("limit", {}).items():
        out.append((f"limit: {name}", fig))
    for name, fig in result.get("chain", {}).items():
        out.append((f"chain {fig.get('nodes')} {name} nodes: per node", fig))
    for name, fig in result.get("fanout", {}).items():
        out.append((f"fan-out {fig.get('nodes')} {name} nodes", fig))
    plan = result.get("plan", {})
    for size, row in plan.get("sizes", {}).items():
        out.append(
            (
                f"DAG {size} nodes: validate + plan (in memory)",
                figure(row["validate"]["value"] + row["plan"]["value"], "ms"),
            )
        )
        if "total" in row:
            out.append((f"DAG {size} nodes: register + submit", row["total"]))
            out.append((f"DAG {size} nodes: per node", row["per_node"]))
    if plan:
        out.append(("DAG largest: planned and persisted", plan["largest"]))
    if "flatness" in plan:
        out.append(("DAG per-node growth, smallest to largest", plan["flatness"]))
    for name, fig in result.get("polling", {}).items():
        out.append((f"polling: {name}", fig))
    for name, fig in result.get("api", {}).items():
        out.append((f"API {name}", fig))
    return out


def print_table(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    m = result["machine"]
    table = Table(title=f"flowexec bench — {m['nproc']} × {m['cpu']}, {m.get('database')}")
    for column in ("figure", "value", "unit", "ratio", "to", "target", "met"):
        table.add_column(column, justify="right" if column in ("value", "ratio") else "left")
    for label, fig in rows(result):
        ratio = "" if fig.get("ratio") is None else f"{fig['ratio']:.2f}"
        met = {True: "yes", False: "NO", None: ""}[fig.get("met")]
        table.add_row(
            label,
            f"{fig['value']:,.3f}",
            fig["unit"],
            ratio,
            fig.get("ratio_to") or "",
            fig.get("target") or "",
            met,
        )
    console.print(table)
    for size, row in result.get("plan", {}).get("sizes", {}).items():
        if "error" in row:
            console.print(f"DAG {size} nodes could not be persisted: {row['error']}")
    console.print(f"took {result['duration_s']} s")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", metavar="FILE", help="write the result object to FILE ('-' for stdout only)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="MySQL/MariaDB database of the bench's own (its tables are dropped)",
    )
    parser.add_argument(
        "--broker-url", default=DEFAULT_BROKER_URL, help="Redis database of the bench's own (flushed)"
    )
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes")
    parser.add_argument("--concurrency", type=int, default=4, help="threads per worker process")
    parser.add_argument("--skip", action="append", default=[], choices=["shell", "polling", "api"])
    parser.add_argument("--home", help="directory for logs and gateway state (default: a new temp dir)")


def options_from(args: argparse.Namespace, progress: Callable[[str], None]) -> Options:
    return Options(
        database_url=args.database_url,
        broker_url=args.broker_url,
        sizes=QUICK if args.quick else FULL,
        workers=args.workers,
        concurrency=args.concurrency,
        skip=frozenset(args.skip),
        home=args.home,
        progress=progress,
    )


def main(args: argparse.Namespace) -> int:
    """``flowexec bench``: run, print the table, write the JSON."""
    from rich.console import Console

    to_stdout = args.json == "-"
    console = Console(stderr=to_stdout, width=max(Console(stderr=to_stdout).width, 150))
    result = run_bench(options_from(args, lambda text: console.log(text)))
    print_table(result, console)
    text = json.dumps(result, indent=2)
    if to_stdout:
        print(text)
    elif args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {args.json}")
    return 0 if all(v is not False for v in result["targets"].values()) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["gateway"]:
        sys.exit(serve_gateway_main(sys.argv[2:]))
    sys.exit("usage: python -m api.bench gateway --state-dir DIR [--max-running N]; run `flowexec bench`")
