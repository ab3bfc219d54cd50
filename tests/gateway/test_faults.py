"""Fault injection over raw HTTP: per-job faults, per-request answers, the 404 shape."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from gateway import GatewayServer
from gateway.protocol import PREFIX
from tests.gateway.support import Api
from tests.gateway.support import Control
from tests.gateway.support import process_alive
from tests.gateway.support import wait_for


def test_ignore_kill_reports_cancelled_but_leaves_the_process(api: Api, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    runtime = {"flowexec.fault": "ignore_kill"}
    data = api.submit(
        f"echo $$ > {pid_file}; sleep 30",
        params={"configuration": {"runtime": runtime}},
    )
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="pid"))

    api.data("GET", f"entrance/{data['execID']}/kill", params={"taskID": data["taskID"]})

    assert api.task(data["taskID"])["status"] == "Cancelled"
    time.sleep(0.7)  # longer than the kill grace
    assert process_alive(pid)
    os.killpg(pid, signal.SIGKILL)


def test_delay_and_hang_faults(api: Api) -> None:
    runtime = {"flowexec.fault": "delay", "flowexec.fault.seconds": 30}
    delayed = api.submit("true", params={"configuration": {"runtime": runtime}})
    hung = api.submit("true", params={"configuration": {"runtime": {"flowexec.fault": "hang"}}})
    wait_for(lambda: api.task(hung["taskID"])["status"] == "Running", what="Running")

    time.sleep(0.3)
    assert api.task(delayed["taskID"])["status"] == "Scheduled"
    assert api.task(hung["taskID"])["status"] == "Running"
    for job in (delayed, hung):
        api.data("GET", f"entrance/{job['execID']}/kill", params={"taskID": job["taskID"]})
        assert api.finish(job["taskID"])["status"] == "Cancelled"


def test_http_fault_answer_shapes(api: Api, control: Control, gateway: GatewayServer) -> None:
    control("POST", "/faults", {"method": "GET", "path": "jobhistory/list", "action": "http_503"})
    code, body = api.call("GET", "jobhistory/list")
    assert (code, body["status"], body["data"]) == (503, 503, [])

    control("POST", "/faults", {"path": "jobhistory/list", "action": "spring_500"})
    resp = api.session.get(gateway.url + PREFIX + "/jobhistory/list", timeout=5)
    assert resp.status_code == 500 and resp.json()["error"] == "Internal Server Error"

    control("DELETE", "/faults")
    assert api.data("GET", "jobhistory/list")["tasks"] == []


def test_unknown_path_is_a_gateway_style_404(api: Api) -> None:
    code, body = api.call("GET", "nowhere/at/all")

    assert (code, body["status"], body["data"]) == (404, 404, [])
