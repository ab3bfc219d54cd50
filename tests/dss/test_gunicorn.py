"""Under gunicorn, one registration per instance however many workers: the master registers,
the workers' execIDs name its ``host:port``, and a stop leaves Eureka."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from api.cli.run import read_flow
from flowexec import execid
from tests.conftest import EXAMPLES
from tests.dss import stubs
from tests.dss.test_drop_in import _free_port
from tests.gateway.support import wait_for


def test_gunicorn_master_registers_once_and_workers_route_to_it(tmp_path: Path) -> None:
    import requests

    state = stubs.EurekaState()
    eureka = stubs.Served(stubs.eureka_app(state))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWEXEC_")}
    env.update(
        FLOWEXEC_HOME=str(tmp_path),
        FLOWEXEC_TOKEN="t",
        FLOWEXEC_BROKER_URL="memory://",
        FLOWEXEC_EUREKA_URL=f"{eureka.url}/eureka/",
        FLOWEXEC_EUREKA_HOST="127.0.0.1",
    )
    subprocess.run(
        [sys.executable, "-m", "api.cli", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with open(tmp_path / "gunicorn.log", "wb") as out:
        proc = subprocess.Popen(
            [
                gunicorn,
                "-c",
                "python:api.gunicorn_conf",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "api.wsgi:app",
            ],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        wait_for(
            lambda: state.apps.get("DSS-FLOW-ENTRANCE-SERVER-DEV") or proc.poll() is not None,
            60,
            "registration",
        )
        assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
        headers = {"Token-Code": "t", "Token-User": "alice"}
        doc, scripts = read_flow(str(EXAMPLES / "diamond.json"))
        flows = f"http://127.0.0.1:{port}/api/v1/flows"
        wait_for(
            lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code < 500,
            60,
            "workers",
        )
        requests.post(flows, json={"flowId": 7, "flow": doc, "scripts": scripts}, headers=headers, timeout=10)
        ids = set()
        for _ in range(6):  # several requests, likely both workers
            reply = requests.post(
                f"http://127.0.0.1:{port}{stubs.REST}/dss/flow/entrance/execute",
                json={"executionCode": '{"flowId":7}', "params": {}, "labels": {"route": "dev"}},
                headers=headers,
                cookies={"workspaceId": "1", "workspaceName": "ws"},
                timeout=10,
            )
            assert reply.status_code == 200, reply.text
            ids.add(execid.parse(reply.json()["data"]["execID"]).instance)
        assert ids == {f"127.0.0.1:{port}"}
        time.sleep(1)
        assert [v for v in state.verbs("DSS-FLOW-ENTRANCE-SERVER-DEV") if v == "register"] == ["register"]
        assert list(state.apps["DSS-FLOW-ENTRANCE-SERVER-DEV"]) == [
            f"127.0.0.1:dss-flow-entrance-server-dev:{port}"
        ]
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert not state.apps.get("DSS-FLOW-ENTRANCE-SERVER-DEV")
        assert state.verbs("DSS-FLOW-ENTRANCE-SERVER-DEV")[-1] == "cancel"
    finally:
        if proc.poll() is None:
            proc.kill()
        eureka.shutdown()
