"""The processes the bench starts (gateway, workers, API) and its database, prepared from scratch."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from benchmarks.config import CONTROL_QUEUES
from benchmarks.config import FLOW_TABLE_PREFIXES
from benchmarks.config import LINKIS_QUEUES
from benchmarks.config import PROBE_ROWS
from benchmarks.config import TOKEN
from benchmarks.config import Options


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(check: Callable[[], Any], seconds: float, what: str, interval: float = 0.05) -> Any:
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
        "benchmarks",
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
    """``python -m benchmarks gateway``: serve until SIGTERM, then kill every job and exit."""
    from gateway import create_gateway
    from gateway import serve_gateway

    parser = argparse.ArgumentParser(prog="python -m benchmarks gateway")
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
    if options.poll_first is not None:
        env["FLOWEXEC_POLL_FIRST"] = str(options.poll_first)
    if options.poll_max is not None:
        env["FLOWEXEC_POLL_MAX"] = str(options.poll_max)
    return env


def start_workers(procs: Processes, options: Options, env: dict[str, str], home: Path, app: Flask) -> None:
    """Workers on the control queue (control nodes, the limit probes) and workers on the Linkis
    queues (submits and polls), as the Procfile runs them."""
    tag = uuid.uuid4().hex[:6]
    layout = [("threads", options.concurrency, CONTROL_QUEUES, f"bench{i}") for i in range(options.workers)]
    layout += [
        (options.linkis_pool, options.linkis_concurrency, LINKIS_QUEUES, f"linkis{i}")
        for i in range(options.linkis_workers)
    ]
    for kind, concurrency, queues, name in layout:
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "benchmarks.worker",
            "worker",
            "-P",
            kind,
            "-c",
            str(concurrency),
            "-Q",
            queues,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"{name}-{tag}@localhost",
            "--loglevel",
            options.worker_loglevel,
        ]
        procs.start(name, argv, env, home / f"{name}.log")
    celery_app = app.extensions["celery"]

    def all_ready() -> bool:
        replies = celery_app.control.ping(timeout=0.5) or []
        return sum(1 for r in replies for name in r if f"-{tag}@" in name) >= len(layout)

    wait(all_ready, 90, "the worker processes", interval=0.2)


def start_api(
    procs: Processes, options: Options, env: dict[str, str], home: Path, target: str = "api.wsgi:app"
) -> str:
    """gunicorn serving ``target`` (the API, or the bare route that is its limit), same settings."""
    port = free_port()
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
        target,
    ]
    name = target.split(".")[0]
    procs.start(name, argv, env, home / f"{name}.log")
    url = f"http://127.0.0.1:{port}"
    import requests

    def up() -> bool:
        try:
            probe = "/healthz" if target == "api.wsgi:app" else "/bare/1"
            return requests.get(f"{url}{probe}", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait(up, 60, "the API (gunicorn)", interval=0.2)
    return url


def prepare_database(options: Options) -> None:
    """Create the bench database if needed, drop flowexec's tables and migrate from scratch.

    Refuses the test suite's ``test`` database (the suite truncates it under running tests).
    """
    from flask_migrate import upgrade

    from api.app import create_app
    from api.app import migrations_dir

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
