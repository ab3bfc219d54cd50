"""The gateway the contract tests speak to, raw protocol calls, and polling helpers.

Used by the gateway's own tests and by the Linkis client's tests (``tests/flowexec/linkis``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from gateway import GatewayServer
from gateway import create_gateway
from gateway import serve_gateway
from gateway.protocol import CONTROL
from gateway.protocol import PREFIX

DEADLINE = 15.0
TOKENS = {"Token-Code": "LINKIS-AUTH", "Token-User": "hadoop"}
Control = Callable[..., dict[str, Any]]


def contract_gateway(state_dir: Path) -> GatewayServer:
    """Two password users, a token limited to alice, faults on and a short kill grace."""
    app = create_gateway(
        state_dir,
        users={"hadoop": "hadoop", "alice": "secret"},
        tokens={"LINKIS-AUTH": "*", "ALICE-ONLY": "alice"},
        faults_enabled=True,
        kill_grace=0.5,
    )
    return serve_gateway(app)


def control_of(gateway: GatewayServer) -> Control:
    """Call a ``flowexec-test`` control endpoint; returns the envelope's data."""

    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        resp = requests.request(method, gateway.url + CONTROL + path, json=body, timeout=5)
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()["data"]
        return data

    return call


class Api:
    """Raw calls under ``/api/rest_j/v1`` returning (HTTP code, envelope)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url + PREFIX + "/"
        self.session = requests.Session()
        self.session.headers.update(TOKENS if headers is None else headers)

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        resp = self.session.request(method, self.url + path, timeout=5, **kwargs)
        assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
        body: dict[str, Any] = resp.json()
        assert set(body) == {"method", "status", "message", "data"}
        return resp.status_code, body

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        code, body = self.call(method, path, **kwargs)
        assert (code, body["status"]) == (200, 0), body
        return body["data"]

    def submit(self, code: str, run_type: str = "shell", **extra: Any) -> dict[str, Any]:
        body = {
            "executionContent": {"code": code, "runType": run_type},
            "labels": {"engineType": "shell-1", "userCreator": "hadoop-nodeexecution"},
            **extra,
        }
        data: dict[str, Any] = self.data("POST", "entrance/submit", json=body)
        return data

    def task(self, task_id: int) -> dict[str, Any]:
        task: dict[str, Any] = self.data("GET", f"jobhistory/{task_id}/get")["task"]
        return task

    def finish(self, task_id: int) -> dict[str, Any]:
        terminal = ("Succeed", "Failed", "Cancelled", "Timeout")
        task: dict[str, Any] = wait_for(
            lambda: (t := self.task(task_id))["status"] in terminal and t, what="the job to end"
        )
        return task


def wait_for(predicate: Callable[[], Any], deadline: float = DEADLINE, what: str = "condition") -> Any:
    """Poll until ``predicate`` returns a truthy value (tests may poll; the product may not)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.03)
    raise AssertionError(f"timed out waiting for {what}")


def process_alive(pid: int) -> bool:
    """True while a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
