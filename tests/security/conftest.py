"""Real servers for the security tests: the REST API over HTTP on MariaDB (a WSGI server thread)
and on SQLite (``flowexec serve`` in its own process), and the gateway over HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TOKEN
from tests.conftest import first_line
from tests.conftest import spawn
from tests.conftest import truncate

ADMIN = "root_admin"
NARROW = "narrow-token"  # FLOWEXEC_TOKENS: may act as etl only
ENTRANCE = "/api/rest_j/v1/dss/flow/entrance"


@dataclass
class Rest:
    """A REST API reached over HTTP, and who runs it."""

    url: str
    kind: str

    def call(self, method: str, path: str, user: str | None = "alice", token: str = TOKEN, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if user is not None:
            headers.update({"Token-Code": token, "Token-User": user})
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kw)


def _serve_in_thread(app: Any) -> tuple[str, Any]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def rest(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rest]:
    home = tmp_path_factory.mktemp("security")
    if request.param == "mariadb":
        from api.embedded import embedded_stack

        url = request.getfixturevalue("migrated_mysql")
        truncate(url)
        overrides = {
            "database_url": url, "broker_url": "memory://", "home": str(home), "token": TOKEN,
            "tokens": {NARROW: frozenset({"etl"})}, "admins": frozenset({ADMIN}),
            "poll_min": 0.1, "poll_max": 0.3, "reconcile_every": 1.0,
        }  # fmt: skip
        with embedded_stack(overrides) as stack:
            base, server = _serve_in_thread(stack.app)
            yield Rest(base, "mariadb")
            server.shutdown()
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWEXEC_")}
    env.update(FLOWEXEC_HOME=str(home), FLOWEXEC_TOKEN=TOKEN, FLOWEXEC_TOKENS=f"{NARROW}=etl",
               FLOWEXEC_ADMINS=ADMIN, FLOWEXEC_POLL_MIN="0.1", FLOWEXEC_POLL_MAX="0.3")  # fmt: skip
    log = home / "serve.log"
    proc = spawn([sys.executable, "-m", "api.cli", "serve", "--port", "0"], env, log, start_new_session=True)
    try:
        line = first_line(log, proc)
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert found, f"flowexec serve printed {line!r}"
        assert TOKEN not in line  # a configured token is never printed
        yield Rest(f"http://127.0.0.1:{found.group(1)}", "sqlite")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def shell_node(key: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"id": key, "title": key, "jobType": "linkis.shell.sh", "jobContent": {"code": code}, **extra}


def flow(*nodes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"nodes": list(nodes), "edges": [], **extra}


def execute_body(flow_id: int, version: str | None = None, **params: Any) -> dict[str, Any]:
    code = {"flowId": flow_id, **({"version": version} if version else {})}
    return {"executionCode": code, "params": params, "labels": {"route": "dev"}}


def wait_final(rest: Rest, task_id: int, user: str = "alice", seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        data: dict[str, Any] = rest.call("GET", f"/api/v1/executions/{task_id}", user).json()["data"]
        if data["status"] in ("Succeed", "Failed", "Cancelled", "Timeout"):
            return data
        assert time.monotonic() < deadline, data["status"]
        time.sleep(0.2)


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def home_of(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWEXEC_")}
    env["FLOWEXEC_HOME"] = str(tmp)
    return env
