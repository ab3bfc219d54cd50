"""Shared fixtures: real MariaDB and Redis (from FLOWEXEC_TEST_*), the local gateway, apps.

In CI (``CI=true``) a missing MariaDB or Redis fails the tests that need it; elsewhere they
are skipped with the command that starts the service.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

DATABASE_URL = os.environ.get("FLOWEXEC_TEST_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("FLOWEXEC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"
TOKEN = "test-token"
TABLES = (
    "flowexec_node_run",
    "flowexec_execution",
    "flowexec_flow_version",
    "flowexec_engine_slot",
    "flowexec_idempotency_key",
    "dss_workflow_execute_info",
    "dss_workflow_task",
)

START_HINTS = {
    "MariaDB": "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
    "RabbitMQ": "rabbitmq-server -detached",
}


def _unavailable(service: str, exc: Exception) -> None:
    message = f"{service} is not reachable ({exc}); start it with: {START_HINTS[service]}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mysql_url() -> str:
    engine = sa.create_engine(DATABASE_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        _unavailable("MariaDB", exc)
    finally:
        engine.dispose()
    return DATABASE_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        _unavailable("Redis", exc)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def amqp_url(mysql_url: str) -> str:
    """RabbitMQ on 127.0.0.1:5672 (guest/guest), in a vhost of this test database's own, made empty."""
    import socket
    import subprocess

    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        _unavailable("RabbitMQ", exc)
    vhost = "flowexec_" + mysql_url.rsplit("/", 1)[-1]
    for command in (
        ["delete_vhost", vhost],
        ["add_vhost", vhost],
        ["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
    ):
        subprocess.run(
            ["rabbitmqctl", *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60
        )
    return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


@pytest.fixture(scope="session")
def migrated_mysql(mysql_url: str) -> str:
    """Drop flowexec's tables and build the schema with the migrations (never create_all)."""
    from flask_migrate import upgrade

    from api.app import create_app
    from api.app import migrations_dir

    engine = sa.create_engine(mysql_url)
    with engine.begin() as conn:
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table in (*TABLES, "alembic_version"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()
    app = create_app({"database_url": mysql_url, "broker_url": "memory://"})
    with app.app_context():
        upgrade(directory=migrations_dir())
    return mysql_url


def truncate(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table in TABLES:
            conn.execute(sa.text(f"TRUNCATE TABLE {table}"))
        conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


def own_database(mysql_url: str, name: str) -> str:
    """A database of its own (dropped and rebuilt by the migrations), for suites that
    restart services or run worker processes, so that no other test run can disturb them."""
    from flask_migrate import upgrade

    from api.app import create_app
    from api.app import migrations_dir

    base, parent = mysql_url.rsplit("/", 1)
    name = f"{parent}_{name}"  # one per test database, so parallel suites never share one
    engine = sa.create_engine(mysql_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    url = base + "/" + name
    with create_app({"database_url": url, "broker_url": "memory://"}).app_context():
        upgrade(directory=migrations_dir())
    return url


def migrated_app(database_url: str, **overrides: Any) -> Any:
    """An app on ``database_url`` (memory broker) whose schema the migrations built."""
    from flask_migrate import upgrade

    from api.app import create_app
    from api.app import migrations_dir

    app = create_app({"database_url": database_url, "broker_url": "memory://", **overrides})
    with app.app_context():
        upgrade(directory=migrations_dir())
    return app


@pytest.fixture
def clean_mysql(migrated_mysql: str) -> str:
    """An empty schema: worker threads commit on their own connections, so truncate."""
    truncate(migrated_mysql)
    return migrated_mysql


@pytest.fixture
def clean_redis(redis_url: str) -> str:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Any]:
    """The local Linkis gateway over real HTTP on a loopback port."""
    from gateway import create_gateway
    from gateway import serve_gateway

    server = serve_gateway(create_gateway(tmp_path / "gateway", faults_enabled=True), "127.0.0.1", 0)
    yield server
    server.shutdown()


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


def spawn(args: list[str], env: dict[str, str], log: Path, **popen: Any) -> subprocess.Popen[str]:
    """Start a process whose output goes to the file ``log``, never to a pipe: a pipe nobody
    drains fills up and blocks the process (and the test waiting on it)."""
    with log.open("w") as sink:
        return subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True, **popen)


def first_line(log: Path, proc: subprocess.Popen[str], seconds: float = 60) -> str:
    """The first complete line a process spawned with :func:`spawn` wrote."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines(keepends=True)
        if lines and lines[0].endswith("\n"):
            return lines[0]
        assert proc.poll() is None, log.read_text()
        time.sleep(0.05)
    raise AssertionError(f"no output in {seconds} s: {log.read_text()!r}")
