"""A real gateway on a loopback port per test, and helpers to drive it."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from flowexec.linkis.client import LinkisClient
from flowexec.linkis.gateway import CONTROL
from flowexec.linkis.gateway import GatewayServer
from flowexec.linkis.gateway import create_gateway
from flowexec.linkis.gateway import serve_gateway
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import JobStatus

DEADLINE = 15.0


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayServer]:
    app = create_gateway(
        tmp_path / "state",
        users={"hadoop": "hadoop", "alice": "secret"},
        tokens={"LINKIS-AUTH": "*", "ALICE-ONLY": "alice"},
        faults_enabled=True,
        kill_grace=0.5,
    )
    server = serve_gateway(app)
    yield server
    server.shutdown()


@pytest.fixture
def client(gateway: GatewayServer) -> Iterator[LinkisClient]:
    with LinkisClient(gateway.url, read_timeout=5, submit_timeout=5, backoff=0.01) as linkis:
        yield linkis


@pytest.fixture
def control(gateway: GatewayServer) -> Callable[..., dict[str, Any]]:
    """Call a ``flowexec-test`` control endpoint; returns the envelope's data."""

    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        resp = requests.request(method, gateway.url + CONTROL + path, json=body, timeout=5)
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()["data"]
        return data

    return call


def shell(code: str, **kwargs: Any) -> JobSpec:
    return JobSpec(code=code, run_type="shell", engine_type="shell-1", user="hadoop", **kwargs)


def wait_for(predicate: Callable[[], Any], deadline: float = DEADLINE, what: str = "condition") -> Any:
    """Poll until ``predicate`` returns a truthy value (tests may poll; the product may not)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.03)
    raise AssertionError(f"timed out waiting for {what}")


def wait_terminal(client: LinkisClient, ref: JobRef) -> JobStatus:
    status: JobStatus = wait_for(
        lambda: (s := client.status(ref)).terminal and s, what=f"task {ref.task_id} to end"
    )
    return status


def wait_state(client: LinkisClient, ref: JobRef, state: str) -> None:
    wait_for(lambda: client.status(ref).state == state, what=f"task {ref.task_id} {state}")


def process_alive(pid: int) -> bool:
    """True while a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
