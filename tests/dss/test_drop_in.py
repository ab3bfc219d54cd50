"""flowexec dropped into DSS, on one machine: a real ``flowexec serve`` (embedded worker and local
Linkis, MariaDB) registers in a stub Eureka beside a stub ``dss-server-dev``; DSS's web calls go
through a stand-in Linkis gateway applying DSS's routing rule (shared/dss-drop-in.md)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from api.http import ticket
from flowexec import execid
from tests.api.conftest import dss_body
from tests.api.conftest import slow_flow
from tests.conftest import own_database
from tests.dss import stubs
from tests.gateway.support import wait_for

APP = "DSS-FLOW-ENTRANCE-SERVER-DEV"
ENTRANCE = f"{stubs.REST}/dss/flow/entrance"
FINAL = ("Succeed", "Failed", "Cancelled", "Timeout")


@dataclass
class Site:
    db: str
    eureka: stubs.EurekaState
    eureka_url: str
    dss: stubs.DssState
    gateway: str
    routed: list[stubs.Forwarded]
    flowexec: str
    port: int
    proc: subprocess.Popen[bytes]
    legacy_gateway: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(mysql_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = own_database(mysql_url, "dss_drop_in")
    home = tmp_path_factory.mktemp("dss")
    eureka_state, dss_state = stubs.EurekaState(), stubs.DssState()
    eureka = stubs.Served(stubs.eureka_app(eureka_state))
    dss = stubs.Served(stubs.dss_server_app(dss_state))
    stubs.register_plain(eureka.url, "dss-server-dev", "127.0.0.1", dss.port)
    gateway_app, routed = stubs.gateway_app(eureka.url, {"GW-TOKEN": "*"})
    gateway = stubs.Served(gateway_app)
    legacy = stubs.Served(stubs.gateway_app(eureka.url, {}, linkis_14=False)[0])
    dss_state.flows.update(
        {
            401: stubs.dss_flow(401, "v000003", slow_flow(0)),
            402: stubs.dss_flow(402, "v000001", slow_flow(120)),
            403: stubs.dss_flow(403, "v000001", slow_flow(4)),
        }
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWEXEC_")}
    env.update(
        FLOWEXEC_DATABASE_URL=db,
        FLOWEXEC_HOME=str(home),
        FLOWEXEC_TOKEN="direct-callers-only",
        FLOWEXEC_EUREKA_URL=f"{eureka.url}/eureka/",
        FLOWEXEC_EUREKA_HOST="127.0.0.1",
        FLOWEXEC_TRUST_LINKIS_TICKET="true",
        FLOWEXEC_DSS_URL=gateway.url,
        FLOWEXEC_DSS_SHARED_TABLES="true",
        FLOWEXEC_POLL_FIRST="0.1",
        FLOWEXEC_POLL_MAX="0.3",
        FLOWEXEC_RECONCILE_EVERY="1",
    )
    with open(home / "serve.log", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        wait_for(lambda: eureka_state.apps.get(APP) or proc.poll() is not None, 60, "registration")
        assert proc.poll() is None, (home / "serve.log").read_text()
        yield Site(
            db,
            eureka_state,
            eureka.url,
            dss_state,
            gateway.url,
            routed,
            f"http://127.0.0.1:{port}",
            port,
            proc,
            legacy.url,
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for served in (gateway, legacy, dss, eureka):
            served.shutdown()


def browser(user: str = "alice", **extra: str) -> dict[str, str]:
    """The cookies DSS's web holds after login: the gateway's ticket and the workspace."""
    return {
        ticket.TICKET_COOKIE: ticket.encode(user, int(time.time() * 1000)),
        "workspaceId": "224",
        "workspaceName": "bdapWorkspace",
        **extra,
    }


def execute(site: Site, flow_id: int, version: str, cookies: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    reply = requests.post(
        f"{site.gateway}{ENTRANCE}/execute",
        json=dss_body(flow_id, version),
        cookies=cookies,
        timeout=30,
        **kwargs,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == 0, reply.json()
    return dict(reply.json()["data"])


def status(site: Site, exec_id: str, task_id: int, cookies: dict[str, str], base: str | None = None) -> str:
    reply = requests.get(
        f"{base or site.gateway}{ENTRANCE}/{exec_id}/status",
        params={"taskID": task_id, "labels": "dev"},
        cookies=cookies,
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["data"]["status"])


def wait_final(site: Site, exec_id: str, task_id: int, cookies: dict[str, str]) -> str:
    return str(
        wait_for(
            lambda: (s := status(site, exec_id, task_id, cookies)) in FINAL and s, 60, f"{exec_id} to end"
        )
    )


def row(site: Site, task_id: int) -> Any:
    engine = sa.create_engine(site.db)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT * FROM dss_workflow_task WHERE id = :id"), {"id": task_id}
            ).one()
    finally:
        engine.dispose()


def test_registered_in_eureka_as_the_gateway_expects(site: Site) -> None:
    ((instance_id, instance),) = site.eureka.apps[APP].items()
    assert instance_id == f"127.0.0.1:dss-flow-entrance-server-dev:{site.port}"
    assert instance["app"] == APP and instance["status"] == "UP"
    assert instance["hostName"] == instance["ipAddr"] == "127.0.0.1"
    assert instance["port"] == {"$": site.port, "@enabled": "true"}
    assert instance["dataCenterInfo"]["name"] == "MyOwn"
    assert instance["leaseInfo"]["renewalIntervalInSecs"] <= 4
    beats = wait_for(
        lambda: len(b := site.eureka.heartbeats(APP, instance_id)) >= 2 and b, 15, "two heartbeats"
    )
    assert all(later - earlier <= 4.5 for earlier, later in zip(beats, beats[1:], strict=False))
    assert stubs.read_services(site.eureka_url)["dss-flow-entrance-server-dev"] == [f"127.0.0.1:{site.port}"]


def test_the_web_uis_four_calls_reach_flowexec_through_the_gateway(site: Site) -> None:
    cookies = browser()
    data = execute(site, 401, "v000003", cookies)
    exec_id, task_id = data["execID"], data["taskID"]
    parsed = execid.parse(exec_id)
    assert (parsed.application, parsed.instance) == ("dss-flow-entrance-server-dev", f"127.0.0.1:{site.port}")
    assert wait_final(site, exec_id, task_id, cookies) == "Succeed"
    view = requests.get(
        f"{site.gateway}{ENTRANCE}/{exec_id}/execution", params={"labels": "dev"}, cookies=cookies, timeout=30
    )
    assert view.status_code == 200 and view.json()["status"] == 0
    assert list(view.json()["data"]) == [
        "succeedJobs",
        "runningJobs",
        "failedJobs",
        "pendingJobs",
        "skippedJobs",
    ]
    assert sorted(j["nodeID"] for j in view.json()["data"]["succeedJobs"]) == ["first", "last", "slow"]
    # Routed: execute by DSS's name rule, the rest by the execID to this very instance.
    mine = [f for f in site.routed if exec_id in f.path or f.path.endswith("/execute")]
    assert {(f.service, f.instance) for f in mine} == {
        ("dss-flow-entrance-server-dev", f"127.0.0.1:{site.port}")
    }
    assert all(f.by_exec_id for f in mine if exec_id in f.path)
    # The user came from the ticket; the flow from DSS's workflow API, with the user's ticket.
    task = row(site, task_id)
    assert task.um_user == "alice" and task.status == "Succeed" and task.instance == f"127.0.0.1:{site.port}"
    workspace = json.loads(task.params)["workspace"]
    assert (workspace["workspaceId"], workspace["workspaceName"]) == (224, "bdapWorkspace")
    assert ticket.TICKET_COOKIE not in workspace["cookies"] and workspace["dssUrl"] == site.gateway
    assert ("/api/rest_j/v1/dss/workflow/get", "alice") in site.dss.seen
    native = requests.get(
        f"{site.flowexec}/api/v1/flows/401/versions",
        headers={"Token-Code": "direct-callers-only", "Token-User": "alice"},
        timeout=10,
    )
    assert "v000003" in native.text, native.text


def test_kill_through_the_gateway(site: Site) -> None:
    cookies = browser()
    data = execute(site, 402, "v000001", cookies)
    exec_id, task_id = data["execID"], data["taskID"]
    wait_for(lambda: status(site, exec_id, task_id, cookies) == "Running", 60, "running")
    killed = requests.get(
        f"{site.gateway}{ENTRANCE}/{exec_id}/kill",
        params={"taskID": task_id, "labels": "dev"},
        cookies=cookies,
        timeout=30,
    )
    assert killed.status_code == 200 and killed.json()["status"] == 0, killed.text
    assert killed.json()["message"] == "Successfully killed the job(成功kill了job)"
    assert wait_final(site, exec_id, task_id, cookies) == "Cancelled"
    assert site.routed[-1].by_exec_id and site.routed[-1].instance == f"127.0.0.1:{site.port}"


def test_dss_servers_sweeper_leaves_a_live_run_alone(site: Site) -> None:
    """``CheckWorkflowExecuteTask`` (DSS >= 1.1.2) fails Inited/Running rows of dead instances."""
    cookies = browser()
    data = execute(site, 403, "v000001", cookies)
    exec_id, task_id = data["execID"], data["taskID"]
    wait_for(lambda: status(site, exec_id, task_id, cookies) == "Running", 60, "running")
    assert row(site, task_id).status == "Scheduled"
    engine = sa.create_engine(site.db)
    with engine.begin() as conn:  # the sweeper's update: only dss-server-dev instances are live
        swept = conn.execute(
            sa.text(
                "UPDATE dss_workflow_task SET status = 'Failed' "
                "WHERE status IN ('Inited', 'Running') AND (instance IS NULL OR instance NOT IN (:live))"
            ),
            {"live": "127.0.0.1:9043"},
        ).rowcount
    engine.dispose()
    assert swept == 0
    assert wait_final(site, exec_id, task_id, cookies) == "Succeed"
    assert row(site, task_id).status == "Succeed"


def test_every_other_dss_route_still_reaches_dss_server(site: Site) -> None:
    calls = [
        ("GET", "/dss/workflow/get?flowId=401&isNotHaveLock=true&labels=dev", None),
        ("POST", "/dss/workflow/saveFlow", {"id": 401, "json": "{}", "labels": {"route": "dev"}}),
        ("GET", "/dss/framework/workspace/getWorkspaces", None),
        ("GET", "/dss/framework/project/getAllProjects?labels=dev", None),
        ("GET", "/dss/scriptis/proxy/dev/test", None),
        ("POST", "/dss/workflow/publishWorkflow", {"workflowId": 401, "labels": {"route": "prod"}}),
        ("GET", "/dss/framework/orchestrator/getOrchestratorVersion?labels=test", None),
    ]
    for method, path, body in calls:
        reply = requests.request(
            method, f"{site.gateway}{stubs.REST}{path}", json=body, cookies=browser(), timeout=30
        )
        assert reply.status_code == 200, (path, reply.text)
        assert site.routed[-1].service == "dss-server-dev", path


def test_token_auth_at_the_gateway_becomes_a_ticket(site: Site) -> None:
    workspace = {"workspaceId": "224", "workspaceName": "bdapWorkspace"}
    data = execute(site, 401, "v000003", workspace, headers={"Token-Code": "GW-TOKEN", "Token-User": "bob"})
    # flowexec's own token is another one: bob can only come from the ticket the gateway minted.
    assert row(site, data["taskID"]).um_user == "bob"


def test_a_ticket_needs_the_gateways_marker(site: Site) -> None:
    direct = requests.post(
        f"{site.flowexec}{ENTRANCE}/execute", json=dss_body(401, "v000003"), cookies=browser(), timeout=30
    )
    assert direct.status_code == 401 and direct.json()["status"] == -1
    assert ticket.MARKER_COOKIE in direct.json()["message"]
    forged = requests.post(
        f"{site.flowexec}{ENTRANCE}/execute",
        json=dss_body(401, "v000003"),
        cookies=browser(**{ticket.TICKET_COOKIE: "bm90IGEgdGlja2V0", ticket.MARKER_COOKIE: "true"}),
        timeout=30,
    )
    assert forged.status_code == 401 and forged.json()["status"] == -1


def test_execute_without_workspace_cookies_is_dss_error_50010(site: Site) -> None:
    cookies = {ticket.TICKET_COOKIE: ticket.encode("alice", 1)}
    reply = requests.post(
        f"{site.gateway}{ENTRANCE}/execute", json=dss_body(401, "v000003"), cookies=cookies, timeout=30
    )
    assert reply.status_code == 400
    body = reply.json()
    assert body["status"] == 1 and body["data"]["errorMsg"]["errCode"] == 50010
    assert body["message"].startswith("error code(错误码): 50010")


def test_a_flow_dss_does_not_hold_is_a_clear_error(site: Site) -> None:
    reply = requests.post(
        f"{site.gateway}{ENTRANCE}/execute", json=dss_body(999, "v000001"), cookies=browser(), timeout=30
    )
    assert reply.status_code == 404 and "flow 999 from DSS" in reply.json()["message"]
    stale = requests.post(
        f"{site.gateway}{ENTRANCE}/execute", json=dss_body(403, "v000009"), cookies=browser(), timeout=30
    )
    assert stale.status_code == 404 and "DSS holds version v000001" in stale.json()["message"]


def test_an_older_gateway_routes_status_by_the_name_rule(site: Site) -> None:
    cookies = browser()
    data = execute(site, 401, "v000003", cookies)
    assert status(site, data["execID"], data["taskID"], cookies, base=site.legacy_gateway) in (
        "Running",
        *FINAL,
    )


def test_shutdown_leaves_eureka(site: Site) -> None:
    site.proc.send_signal(signal.SIGINT)
    assert site.proc.wait(30) == 0
    assert not site.eureka.apps.get(APP)
    assert site.eureka.verbs(APP)[-1] == "cancel"
    assert "dss-flow-entrance-server-dev" not in stubs.read_services(site.eureka_url)
