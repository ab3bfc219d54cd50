"""``flowexec serve`` over real HTTP, and history/show/logs/kill on the same embedded home."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.api.cli.test_cli import flowexec
from tests.api.conftest import dss_body
from tests.api.conftest import slow_flow
from tests.conftest import EXAMPLES
from tests.conftest import first_line
from tests.conftest import spawn

TOKEN = "serve-token"
ENTRANCE = "/api/rest_j/v1/dss/flow/entrance"
HEADERS = {"Token-Code": TOKEN, "Token-User": "erin"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {
        **os.environ,
        "FLOWEXEC_HOME": str(home),
        "FLOWEXEC_TOKEN": TOKEN,
        "FLOWEXEC_POLL_FIRST": "0.1",
        "FLOWEXEC_POLL_MAX": "0.3",
    }
    for name in ("FLOWEXEC_DATABASE_URL", "FLOWEXEC_BROKER_URL", "FLOWEXEC_LINKIS_URL"):
        env.pop(name, None)
    # The server's output goes to a file: a pipe nobody drains fills up and blocks the server.
    out = home / "serve.log"
    proc = spawn([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env, out)
    try:
        first = first_line(out, proc)
        assert f"http://127.0.0.1:{port}" in first and TOKEN not in first, first  # configured: never printed
        yield {"url": f"http://127.0.0.1:{port}", "home": home}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _post(served: dict[str, Any], path: str, body: Any) -> dict[str, Any]:
    reply = requests.post(served["url"] + path, json=body, headers=HEADERS, timeout=30)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()  # type: ignore[no-any-return]


def _status(served: dict[str, Any], exec_id: str, task_id: int) -> str:
    reply = requests.get(
        f"{served['url']}{ENTRANCE}/{exec_id}/status", params={"taskID": task_id}, headers=HEADERS, timeout=30
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["data"]["status"])


def _wait(check: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_serve_runs_a_flow_over_http(served: dict[str, Any]) -> None:
    from api.cli.run import read_flow

    doc, scripts = read_flow(str(EXAMPLES / "failing.json"))
    _post(served, "/api/v1/flows", {"flowId": 7, "version": "v000001", "flow": doc, "scripts": scripts})
    data = _post(served, f"{ENTRANCE}/execute", dss_body(7, "v000001"))["data"]
    _wait(lambda: _status(served, data["execID"], data["taskID"]) == "Failed")
    anonymous = requests.get(f"{served['url']}/api/v1/executions", timeout=30)
    assert anonymous.status_code == 401 and anonymous.json()["status"] == -1
    assert requests.get(f"{served['url']}/api/v1/openapi.json", timeout=30).json()["openapi"].startswith("3.")

    history = flowexec("history", "--json", home=served["home"])
    assert history.returncode == 0, history.stderr
    rows = json.loads(history.stdout)
    assert [(r["taskID"], r["flowId"], r["status"], r["user"]) for r in rows] == [
        (data["taskID"], 7, "Failed", "erin")
    ]
    assert "Failed" in flowexec("history", "--flow-id", "7", home=served["home"]).stdout
    assert json.loads(flowexec("history", "--json", "--flow-id", "8", home=served["home"]).stdout) == []

    show = flowexec("show", data["execID"], "--json", home=served["home"])
    detail = json.loads(show.stdout)
    assert detail["taskID"] == data["taskID"]
    assert {n["id"]: n["status"] for n in detail["nodes"]} == {
        "start": "Succeed",
        "broken": "Failed",
        "never": "Cancelled",
    }
    assert "broken" in flowexec("show", str(data["taskID"]), home=served["home"]).stdout

    logs = flowexec("logs", data["execID"], "broken", home=served["home"])
    assert logs.returncode == 0, logs.stderr
    assert "ERROR table not found" in logs.stdout
    missing = flowexec("logs", data["execID"], "nope", home=served["home"])
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_cli_kill_of_a_node_and_of_an_execution(served: dict[str, Any]) -> None:
    _post(served, "/api/v1/flows", {"flowId": 8, "version": "v000001", "flow": slow_flow(60)})
    data = _post(served, f"{ENTRANCE}/execute", dss_body(8, "v000001"))["data"]

    def slow_running() -> bool:
        detail = json.loads(flowexec("show", str(data["taskID"]), "--json", home=served["home"]).stdout)
        return {n["id"]: n["status"] for n in detail["nodes"]}["slow"] == "Running"

    _wait(slow_running)
    killed = flowexec("kill", data["execID"], "--node", "slow", home=served["home"])
    assert killed.returncode == 0, killed.stderr
    _wait(lambda: _status(served, data["execID"], data["taskID"]) == "Failed")
    detail = json.loads(flowexec("show", str(data["taskID"]), "--json", home=served["home"]).stdout)
    assert {n["id"]: n["status"] for n in detail["nodes"]} == {
        "first": "Succeed",
        "slow": "Cancelled",
        "last": "Cancelled",
    }

    again = _post(served, f"{ENTRANCE}/execute", dss_body(8, "v000001"))["data"]
    result = flowexec("kill", str(again["taskID"]), home=served["home"])
    assert result.returncode == 0, result.stderr
    _wait(lambda: _status(served, again["execID"], again["taskID"]) == "Cancelled")
    assert json.loads(result.stdout)["taskID"] == again["taskID"]


def test_cli_show_of_an_unknown_execution(tmp_path: Path) -> None:
    result = flowexec("show", "exec_id_nothing_42", home=tmp_path)
    assert result.returncode == 2 and "not found" in result.stderr
