"""Issue 14's gateway and command-line findings, tried over HTTP and as processes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway import GatewayServer
from gateway import create_gateway
from gateway import serve_gateway
from gateway.protocol import PREFIX
from tests.conftest import first_line
from tests.conftest import spawn
from tests.security.conftest import home_of

TOKEN = "T-ANY"


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[GatewayServer]:
    server = serve_gateway(create_gateway(tmp_path / "gw", tokens={TOKEN: "*"}, max_body=1_000_000))
    yield server
    server.shutdown()


def call(gw: GatewayServer, method: str, path: str, user: str = "alice", **kw: Any) -> requests.Response:
    headers = {"Token-Code": TOKEN, "Token-User": user, **kw.pop("headers", {})}
    return requests.request(method, gw.url + PREFIX + path, headers=headers, timeout=30, **kw)


def run_shell(gw: GatewayServer, code: str, user: str = "alice") -> dict[str, Any]:
    body = {"executionContent": {"code": code, "runType": "sh"},
            "labels": {"engineType": "shell-1", "userCreator": f"{user}-IDE"}}  # fmt: skip
    data = call(gw, "POST", "/entrance/submit", user, json=body).json()["data"]
    for _ in range(200):
        task = call(gw, "GET", f"/jobhistory/{data['taskID']}/get", user).json()["data"]["task"]
        if task["status"] in ("Succeed", "Failed", "Cancelled"):
            return dict(task)
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_3_flowexec_gateway_has_no_default_credentials(tmp_path: Path, free_port: int) -> None:
    env = home_of(tmp_path)
    refused = subprocess.run(
        [sys.executable, "-m", "api.cli", "gateway", "--host", "0.0.0.0"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert refused.returncode == 2 and b"FLOWEXEC_GATEWAY_TOKENS" in refused.stderr
    log = tmp_path / "gateway.log"
    proc = spawn([sys.executable, "-m", "api.cli", "gateway", "--port", str(free_port)], env, log)
    try:
        token = first_line(log, proc).split("FLOWEXEC_LINKIS_TOKEN=")[1].rstrip(")\n")
        url = f"http://127.0.0.1:{free_port}{PREFIX}/user/userInfo"
        for _ in range(100):
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        old = requests.get(url, headers={"Token-Code": "LINKIS-AUTH", "Token-User": "hadoop"}, timeout=5)
        assert old.status_code == 401
        login = requests.post(f"http://127.0.0.1:{free_port}{PREFIX}/user/login",
                              json={"userName": "hadoop", "password": "hadoop"}, timeout=5)  # fmt: skip
        assert login.json()["status"] != 0
        assert (
            requests.get(url, headers={"Token-Code": token, "Token-User": "hadoop"}, timeout=5).status_code
            == 200
        )
    finally:
        proc.terminate()
        proc.wait(20)


def test_5_files_stay_with_their_user_and_history_is_never_served(gw: GatewayServer) -> None:
    task = run_shell(gw, "echo alice-secret")
    assert task["status"] == "Succeed"
    own = call(gw, "GET", "/filesystem/openLog", params={"path": task["logPath"]})
    assert own.json()["status"] == 0
    for path in (task["logPath"], task["resultLocation"]):
        for route in ("/filesystem/openLog", "/filesystem/getDirFileTrees", "/filesystem/openFile"):
            stolen = call(gw, "GET", route, "bob", params={"path": path})
            assert stolen.json()["status"] != 0 and "alice-secret" not in stolen.text, route
    history = str(Path(gw.app.extensions["flowexec_gateway"].root) / "history.db")
    assert "80010" in call(gw, "GET", "/filesystem/openFile", params={"path": history}).text


@pytest.mark.parametrize("user", ["../../../x", "a/b", "x" * 51])
def test_7_token_user_is_validated(gw: GatewayServer, user: str) -> None:
    assert call(gw, "GET", "/user/userInfo", user).status_code == 401


def test_8_a_late_page_is_read_without_the_whole_file(gw: GatewayServer) -> None:
    task = run_shell(gw, "seq 1 500000")
    files = call(gw, "GET", "/filesystem/getDirFileTrees", params={"path": task["resultLocation"]})
    path = files.json()["data"]["dirFileTrees"]["children"][0]["path"]
    started = time.monotonic()
    page = call(gw, "GET", "/filesystem/openFile", params={"path": path, "page": 100, "pageSize": 5000})
    assert page.json()["data"]["fileContent"][-1] == ["500000"] and time.monotonic() - started < 5


def test_10_body_limit_large_shell_code_and_generic_errors(gw: GatewayServer) -> None:
    json_type = {"Content-Type": "application/json"}
    assert call(gw, "POST", "/entrance/submit", data=b"x" * 1_100_000, headers=json_type).status_code == 413
    big = "true\n" * 60_000 + "echo done"  # 300 KB: past bash -c's argument limit
    assert run_shell(gw, big)["status"] == "Succeed"
    deep = "[" * 100_000 + "]" * 100_000
    reply = call(gw, "POST", "/entrance/submit", data=deep, headers={"Content-Type": "application/json"})
    assert reply.status_code < 500 and "Traceback" not in reply.text and "/" not in reply.json()["message"]


def test_cli_reads_scripts_only_inside_the_flow_folder(tmp_path: Path) -> None:
    (tmp_path / "outside.sh").write_text("echo secret")
    folder = tmp_path / "flow"
    folder.mkdir()
    (folder / "link.sh").symlink_to(tmp_path / "outside.sh")
    for script in ("../outside.sh", "/etc/hostname", "link.sh"):
        node = {"id": "a", "title": "a", "jobType": "linkis.shell.sh", "jobContent": {"script": script}}
        (folder / "f.json").write_text(__import__("json").dumps({"nodes": [node], "edges": []}))
        done = subprocess.run([sys.executable, "-m", "api.cli", "flow", "register", str(folder / "f.json")],
                              env=home_of(tmp_path), capture_output=True, timeout=60)  # fmt: skip
        assert done.returncode == 2 and b"outside" in done.stderr, (script, done.stderr)


def test_gunicorn_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import api.wsgi"], env=home_of(tmp_path),
                          capture_output=True, timeout=60)  # fmt: skip
    assert done.returncode == 3 and b"FLOWEXEC_TOKEN" in done.stderr


def test_metrics_listen_on_loopback_by_default() -> None:
    from flowexec.config import Settings

    assert Settings.from_env({}).metrics_host == "127.0.0.1"
