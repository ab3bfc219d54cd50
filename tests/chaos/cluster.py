"""A production-shaped cluster for chaos tests: worker and beat processes, MariaDB, Redis, gateway."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from flowexec import service
from flowexec.state import RUN_TERMINAL
from flowexec.state import RunState
from workers import dispatch

MARIADB_START = ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/mariadbd"]
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)


def random_flow(size: int, seed: int) -> dict[str, Any]:
    """A random DAG of ``size`` quick shell nodes (each sleeps a little, so flows overlap faults)."""
    rng = random.Random(seed)
    keys = [f"n{i:03d}" for i in range(size)]
    edges = []
    for j in range(1, size):
        for i in rng.sample(range(j), k=min(j, rng.randint(1, 2))):
            edges.append({"source": keys[i], "target": keys[j]})
    nodes = [
        {
            "id": k,
            "title": k,
            "jobType": "linkis.shell.sh",
            "jobContent": {"code": f"sleep 0.{rng.randint(0, 3)}; echo {k}"},
        }
        for k in keys
    ]
    return {"nodes": nodes, "edges": edges, "props": []}


@dataclass
class Cluster:
    """Processes started for one test module; everything is stopped by ``close``."""

    home: Path
    env: dict[str, str]
    app: Any
    gateway: Any
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    beat: subprocess.Popen[bytes] | None = None

    def start_worker(
        self, queues: str = "flowexec.control,flowexec.nodes,flowexec.poll", concurrency: int = 6
    ) -> subprocess.Popen[bytes]:
        name = f"w-{uuid.uuid4().hex[:6]}"
        log = open(self.home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "api.worker",
                "worker",
                "-P",
                "threads",
                "-c",
                str(concurrency),
                "-Q",
                queues,
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"{name}@localhost",
                "--loglevel",
                "INFO",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        path = self.home / f"{name}.log"
        wait_until(lambda: b"ready." in path.read_bytes(), 60, f"worker {name}")
        proc.log_path = path  # type: ignore[attr-defined]
        self.workers.append(proc)
        return proc

    def start_beat(self) -> None:
        log = open(self.home / "beat.log", "wb")  # noqa: SIM115
        self.beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "api.worker",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(self.home / "beat-schedule"),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill_worker(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.workers.remove(proc)

    def close(self) -> None:
        for proc in [*self.workers, *([self.beat] if self.beat else [])]:
            proc.terminate()
        for proc in [*self.workers, *([self.beat] if self.beat else [])]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.gateway.shutdown()

    # -- the gateway's test controls --

    def control(self, verb: str, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = requests.request(
            verb,
            f"{self.gateway.url}/api/rest_j/v1/flowexec-test/{path}",
            json=body,
            headers={"Token-Code": "LINKIS-AUTH", "Token-User": "hadoop"},
            timeout=10,
        )
        reply.raise_for_status()
        return reply.json()["data"]

    def submits(self) -> int:
        return int(self.control("GET", "submits")["submits"])

    # -- flows --

    def submit(self, doc: dict[str, Any], flow_id: int, **request: Any) -> int:
        with self.app.app_context():
            ref = service.register_flow(doc, {}, flow_id=flow_id)
            submitted, actions = service.submit_execution(
                service.ExecutionRequest(flow_id=flow_id, version=ref.version, user="hadoop", **request),
                self.app.extensions["flowexec"].settings,
            )
            dispatch.send(actions)
        return submitted.task_id

    def cancel(self, task_id: int) -> None:
        with self.app.app_context():
            dispatch.send(service.cancel_execution(task_id))

    def wait_all(self, task_ids: list[int], seconds: float) -> dict[int, str]:
        engine = sa.create_engine(self.env["FLOWEXEC_DATABASE_URL"], pool_pre_ping=True)
        statuses: dict[int, str] = {}

        def done() -> bool:
            try:
                with engine.connect() as conn:
                    rows = conn.execute(
                        sa.text("SELECT id, status FROM dss_workflow_task WHERE id IN :ids").bindparams(
                            sa.bindparam("ids", expanding=True)
                        ),
                        {"ids": task_ids},
                    )
                    statuses.update({r.id: r.status for r in rows})
            except sa.exc.OperationalError:
                return False
            return all(RunState(statuses.get(t, "Inited")) in RUN_TERMINAL for t in task_ids)

        try:
            wait_until(done, seconds, f"executions to end: {statuses}")
        finally:
            engine.dispose()
        return statuses

    def rows(self, sql: str, **params: Any) -> list[Any]:
        engine = sa.create_engine(self.env["FLOWEXEC_DATABASE_URL"])
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        finally:
            engine.dispose()


def open_cluster(
    database: str,
    redis_url: str,
    redis_db: int,
    home: Path,
    settings: dict[str, Any] | None = None,
    faults: bool = False,
) -> Cluster:
    """A gateway on a thread, and an API app and worker environment on these services.

    ``settings`` are flowexec settings for both the app and the worker processes.
    """
    from api.app import create_app
    from gateway import create_gateway
    from gateway import serve_gateway

    gateway = serve_gateway(create_gateway(home / "gateway", faults_enabled=faults), "127.0.0.1", 0)
    broker = f"{redis_url.rsplit('/', 1)[0]}/{redis_db}"
    env = chaos_env(database, broker, gateway.url, home)
    for name, value in (settings or {}).items():
        env[f"FLOWEXEC_{name.upper()}"] = ",".join(f"{k}={v}" for k, v in value.items())
    app = create_app(
        {"database_url": database, "broker_url": broker, "linkis_url": gateway.url, **(settings or {})}
    )
    return Cluster(home=home, env=env, app=app, gateway=gateway)


def running(command: str) -> bool:
    """True while a process named ``command`` exists (it outlives its closed port a moment)."""
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == command:
                return True
        except OSError:
            continue
    return False


def restart_mariadb() -> None:
    subprocess.run(["mysqladmin", "-uroot", "-h127.0.0.1", "shutdown"], check=False, timeout=60)
    # start-stop-daemon --oknodo does nothing while the old server is still exiting.
    wait_until(lambda: not answers(3306) and not running("mariadbd"), 60, "MariaDB to stop")
    deadline = time.monotonic() + 90
    while not answers(3306):
        assert time.monotonic() < deadline, "MariaDB did not start again in 90 s"
        subprocess.run(MARIADB_START, check=True, timeout=60)
        try:
            wait_until(lambda: answers(3306), 10, "MariaDB to start")
        except AssertionError:
            continue


def restart_redis() -> None:
    subprocess.run(["redis-cli", "shutdown", "nosave"], check=False, timeout=30)
    wait_until(lambda: not answers(6379), 30, "Redis to stop")
    subprocess.run(REDIS_START, check=True, timeout=30)
    wait_until(lambda: answers(6379), 30, "Redis to start")


def chaos_env(mysql: str, redis_url: str, linkis: str, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FLOWEXEC_DATABASE_URL": mysql,
        "FLOWEXEC_BROKER_URL": redis_url,
        "FLOWEXEC_LINKIS_URL": linkis,
        "FLOWEXEC_POLL_FIRST": "0.1",
        "FLOWEXEC_POLL_MAX": "0.5",
        "FLOWEXEC_RECONCILE_EVERY": "0.5",
        "FLOWEXEC_QUEUED_GRACE": "3",
        "FLOWEXEC_SUBMIT_GRACE": "5",
        "FLOWEXEC_HOME": str(home),
    }
