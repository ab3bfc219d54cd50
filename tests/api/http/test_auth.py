"""Who may do what: tokens, the trusted proxy header, ownership, admins."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ADMIN
from tests.api.conftest import ENTRANCE
from tests.api.conftest import dss_body
from tests.api.conftest import execute
from tests.api.conftest import headers
from tests.api.conftest import register
from tests.api.conftest import register_doc
from tests.api.conftest import slow_flow
from tests.api.conftest import wait_final
from tests.api.conftest import wait_node
from tests.conftest import TOKEN


def test_anonymous_and_bad_tokens_get_401_in_the_envelope(client: Any) -> None:
    for sent in ({}, {"Token-Code": "wrong", "Token-User": "alice"}, {"Token-Code": TOKEN}):
        reply = client.post(f"{ENTRANCE}/execute", json=dss_body(1, "v1"), headers=sent)
        assert reply.status_code == 401
        assert reply.json == {
            "method": "/api/entrance/execute",
            "status": -1,
            "message": reply.json["message"],
            "data": {},
        }
        assert "log in" in reply.json["message"]
        for path in (f"{ENTRANCE}/exec_id_1/status", "/api/v1/executions", "/api/v1/flows"):
            assert client.get(path, headers=sent).status_code == 401


def test_another_users_execution_can_be_neither_read_nor_killed(client: Any) -> None:
    register_doc(client, slow_flow(), 401)
    exec_id, task_id = execute(client, 401)
    wait_node(client, task_id, "slow", "Running")
    bob = headers("bob")
    for path in (
        f"{ENTRANCE}/{exec_id}/status?taskID={task_id}",
        f"{ENTRANCE}/{exec_id}/execution",
        f"{ENTRANCE}/{exec_id}/log",
        f"{ENTRANCE}/{exec_id}/progress",
        f"{ENTRANCE}/{exec_id}/kill?taskID={task_id}",
        f"/api/v1/executions/{task_id}",
        f"/api/v1/executions/{task_id}/graph.svg",
        f"/api/v1/executions/{task_id}/nodes/slow/log",
    ):
        reply = client.get(path, headers=bob)
        assert reply.status_code == 403, path
        assert reply.json["status"] == 3 and reply.json["data"] == {}
    for path in (f"/api/v1/executions/{task_id}/kill", f"/api/v1/executions/{task_id}/nodes/slow/kill"):
        assert client.post(path, headers=bob).status_code == 403
    listed = client.get("/api/v1/executions", headers=bob).json["data"]
    assert task_id not in {e["taskID"] for e in listed["executions"]}
    assert client.get("/api/v1/executions?user=alice", headers=bob).status_code == 403
    # Nothing was killed: the run is still going, then the admin sees and kills it.
    detail = client.get(f"/api/v1/executions/{task_id}", headers=headers()).json["data"]
    assert detail["status"] == "Running"
    assert {n["id"]: n["status"] for n in detail["nodes"]}["slow"] == "Running"
    admin = headers(ADMIN)
    assert client.get(f"/api/v1/executions/{task_id}", headers=admin).json["data"]["user"] == "alice"
    everyone = client.get("/api/v1/executions?user=alice", headers=admin).json["data"]
    assert task_id in {e["taskID"] for e in everyone["executions"]}
    assert client.get(f"{ENTRANCE}/{exec_id}/kill?taskID={task_id}", headers=admin).status_code == 200
    assert wait_final(client, exec_id, task_id) == "Cancelled"


def test_trusted_proxy_header_names_the_user(stack: Any, migrated_mysql: str) -> None:
    from api.app import create_app

    app = create_app(
        {
            "database_url": migrated_mysql,
            "broker_url": "memory://",
            "token": TOKEN,
            "proxy_user_header": "X-DSS-User",
            "trusted_proxies": frozenset({"127.0.0.1"}),
            "linkis_url": stack.gateway_url,
        }
    )
    proxied = app.test_client()
    client = stack.app.test_client()
    register(client, "diamond.json", 402, user="carol")
    reply = proxied.post(
        f"{ENTRANCE}/execute", json=dss_body(402, "v000001"), headers={"X-DSS-User": "carol"}
    )
    assert reply.status_code == 200, reply.json
    exec_id, task_id = reply.json["data"]["execID"], reply.json["data"]["taskID"]
    assert "_carol_" in exec_id
    assert wait_final(client, exec_id, task_id, user="carol") == "Succeed"
    detail = proxied.get(f"/api/v1/executions/{task_id}", headers={"X-DSS-User": "carol"}).json["data"]
    assert detail["user"] == "carol" and detail["submitUser"] == "carol"
    assert proxied.get(f"/api/v1/executions/{task_id}", headers={"X-DSS-User": "dave"}).status_code == 403
    assert proxied.get(f"/api/v1/executions/{task_id}").status_code == 401
    # From an address that is not a trusted proxy, the header means nothing.
    far = {"REMOTE_ADDR": "10.9.8.7"}
    assert (
        proxied.get(
            f"/api/v1/executions/{task_id}", headers={"X-DSS-User": "carol"}, environ_base=far
        ).status_code
        == 401
    )
    # Without the setting, the header means nothing.
    assert client.get(f"/api/v1/executions/{task_id}", headers={"X-DSS-User": "carol"}).status_code == 401
