"""Issue 14's findings, each tried against the REST API over HTTP (MariaDB and SQLite), refused,
bounded or fixed; and the holds that were found sound, so that they stay held."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.security.conftest import ADMIN
from tests.security.conftest import ENTRANCE
from tests.security.conftest import NARROW
from tests.security.conftest import Rest
from tests.security.conftest import execute_body
from tests.security.conftest import flow
from tests.security.conftest import shell_node
from tests.security.conftest import wait_final


def register(rest: Rest, flow_id: int | None, doc: dict[str, Any], user: str = "alice", **extra: Any) -> Any:
    body = {"flow": doc, **({"flowId": flow_id} if flow_id is not None else {}), **extra}
    return rest.call("POST", "/api/v1/flows", user, json=body)


def execute(rest: Rest, flow_id: int, user: str = "alice", version: str | None = None, **params: Any) -> Any:
    return rest.call("POST", f"{ENTRANCE}/execute", user, json=execute_body(flow_id, version, **params))


def test_1_flows_belong_to_who_registered_them(rest: Rest) -> None:
    assert register(rest, 101, flow(shell_node("a", "echo alice's"))).status_code == 201
    # alice registered 101; bob may neither add a version nor run it
    hijack = register(rest, 101, flow(shell_node("a", "echo pwned")), user="bob", version="v2")
    assert hijack.status_code == 403 and hijack.json()["status"] == 3
    assert execute(rest, 101, user="bob").status_code == 403
    # nor reach it as a subflow of his own flow
    sub = {"id": "s", "title": "s", "jobType": "workflow.subflow", "jobContent": {"embeddedFlowId": "101"}}
    assert register(rest, 102, flow(sub), user="bob").status_code == 201
    assert execute(rest, 102, user="bob").status_code == 403
    # the owner's version-less execute runs the owner's newest version; an admin may add versions
    assert register(rest, 101, flow(shell_node("a", "echo v2")), version="v2").status_code == 201
    assert register(rest, 101, flow(shell_node("a", "echo v3")), user=ADMIN, version="v3").status_code == 201
    ok = execute(rest, 101)
    assert ok.status_code == 200, ok.json()
    assert wait_final(rest, ok.json()["data"]["taskID"])["version"] == "v3"


def test_2_the_proxy_header_counts_only_from_a_trusted_proxy(rest: Rest) -> None:
    # neither server trusts any proxy: the header is ignored, with or without a token
    assert rest.call("GET", "/api/v1/executions", None, headers={"X-DSS-User": ADMIN}).status_code == 401
    assert rest.call("GET", "/api/v1/executions", None, headers={"X-Proxy-User": ADMIN}).status_code == 401


def test_4_a_subflow_bomb_is_refused_at_registration(rest: Rest) -> None:
    def level(n: int) -> dict[str, Any]:
        return {
            "id": f"s{n}",
            "title": "s",
            "jobType": "workflow.subflow",
            "jobContent": {"embeddedFlowId": "c"},
        }

    child: dict[str, Any] = flow(*[shell_node(f"n{i}", "true") for i in range(10)])
    for _ in range(5):  # a few KB of JSON, 10^6 nodes once expanded
        child = {"nodes": [level(i) for i in range(10)], "edges": [], "subflows": {"c": child}}
    assert len(str(child)) < 20_000
    started = time.monotonic()
    reply = register(rest, 201, child)
    assert reply.status_code == 400 and "FLOWEXEC_MAX_NODES" in reply.json()["message"]
    assert time.monotonic() - started < 5
    deep: dict[str, Any] = flow(shell_node("leaf", "true"))
    for _ in range(12):
        deep = flow(
            {"id": "s", "title": "s", "jobType": "workflow.subflow", "jobContent": {"embeddedFlow": deep}}
        )
    reply = register(rest, 202, deep)
    assert reply.status_code == 400 and "FLOWEXEC_MAX_SUBFLOW_DEPTH" in reply.json()["message"]


def test_6_variables_expand_once_and_bounded(rest: Rest) -> None:
    doc = flow(shell_node("bomb", "echo " + "${big}" * 2000))
    assert register(rest, 301, doc).status_code == 201
    reply = execute(rest, 301, variable={"big": "x" * 100_000})
    assert reply.status_code == 400 and "at most 60000" in reply.json()["message"]  # DSS's TEXT column
    reply = execute(rest, 301, variable={"big": "x" * 50_000})  # 100 MB of code once expanded
    assert reply.status_code == 400 and "FLOWEXEC_MAX_CODE_CHARS" in reply.json()["message"]
    assert register(rest, 302, flow(shell_node("once", "echo '${a}'"))).status_code == 201
    reply = execute(rest, 302, variable={"a": "${b}${b}", "b": "z"})
    task_id = reply.json()["data"]["taskID"]
    assert wait_final(rest, task_id)["status"] == "Succeed"
    result = rest.call("GET", f"/api/v1/executions/{task_id}/nodes/once/result").json()["data"]
    assert result["resultSets"][0]["rows"] == [["${b}${b}"]]


@pytest.mark.parametrize("user", ["../../../x", "a/b", "x" * 51, "bad-dash", ".hidden", "A\u00e9"])
def test_7_user_names_are_validated(rest: Rest, user: str) -> None:
    reply = rest.call("GET", "/api/v1/executions", user)
    assert reply.status_code == 400 and "invalid user name" in reply.json()["message"]


def test_8_result_reads_are_paged(rest: Rest) -> None:
    assert register(rest, 401, flow(shell_node("loud", "seq 1 300000"))).status_code == 201
    task_id = execute(rest, 401).json()["data"]["taskID"]
    assert wait_final(rest, task_id)["status"] == "Succeed"
    path = f"/api/v1/executions/{task_id}/nodes/loud/result"
    started = time.monotonic()
    last = rest.call("GET", path, params={"page": 300, "pageSize": 1000}).json()["data"]["resultSets"][0]
    assert last["rows"][-1] == ["300000"] and last["more"] is True and time.monotonic() - started < 10
    assert rest.call("GET", path, params={"pageSize": 100_000}).status_code == 400


def test_9_a_mapped_token_acts_only_for_its_users(rest: Rest) -> None:
    assert rest.call("GET", "/api/v1/executions", "etl", token=NARROW).status_code == 200
    assert rest.call("GET", "/api/v1/executions", "root", token=NARROW).status_code == 401
    assert rest.call("GET", "/api/v1/executions", ADMIN, token=NARROW).status_code == 401


def test_10_ids_json_depth_case_kill_method_docs_and_kill_reasons(rest: Rest) -> None:
    for bad in ("k" * 129, "emoji\U0001f600", "a,b", "a/b"):
        reply = register(rest, 501, flow(shell_node(bad, "true")))
        assert reply.status_code == 400, (bad, reply.json())
    nested = '{"flowId": 502, "flow": {"nodes": ' + "[" * 900 + "]" * 900 + "}}"  # parses, too deep
    json_type = {"Content-Type": "application/json"}
    assert rest.call("POST", "/api/v1/flows", data=nested, headers=json_type).status_code == 400
    raw = "[" * 100_000 + "]" * 100_000
    assert rest.call("POST", "/api/v1/flows", data=raw, headers=json_type).status_code == 400
    # names are exact: Alice is not alice, on MariaDB too
    assert register(rest, 503, flow(shell_node("slow", "sleep 30"))).status_code == 201
    task_id = execute(rest, 503).json()["data"]["taskID"]
    mine = rest.call("GET", "/api/v1/executions", "Alice").json()["data"]["executions"]
    assert task_id not in {e["taskID"] for e in mine}
    assert rest.call("GET", f"/api/v1/executions/{task_id}", "Alice").status_code == 403
    # the native kill is POST only; a kill is recorded as the user's
    assert rest.call("GET", f"/api/v1/executions/{task_id}/kill").status_code == 405
    assert rest.call("POST", f"/api/v1/executions/{task_id}/kill").status_code == 200
    detail = wait_final(rest, task_id)
    node = next(n for n in detail["nodes"] if n["id"] == "slow")
    assert "killed by alice" in str(node), node
    page = rest.call("GET", "/api/v1/docs", None).text
    assert "unpkg" not in page and "cdn" not in page.lower()
    assert rest.call("GET", "/api/v1/docs/swagger-ui-bundle.js", None).status_code == 200


def test_holds_401_owner_checks_and_413(rest: Rest) -> None:
    assert rest.call("GET", "/api/v1/executions", None).status_code == 401
    assert rest.call("GET", "/api/v1/executions", "alice", token="wrong").status_code == 401
    assert register(rest, 601, flow(shell_node("a", "true"))).status_code == 201
    task_id = execute(rest, 601).json()["data"]["taskID"]
    for method, path in (
        ("GET", f"/api/v1/executions/{task_id}"),
        ("GET", f"/api/v1/executions/{task_id}/graph.svg"),
        ("GET", f"/api/v1/executions/{task_id}/nodes/a/log"),
        ("GET", f"/api/v1/executions/{task_id}/nodes/a/result"),
        ("POST", f"/api/v1/executions/{task_id}/kill"),
        ("POST", f"/api/v1/executions/{task_id}/nodes/a/kill"),
    ):
        assert rest.call(method, path, "mallory").status_code == 403, path
    assert rest.call("GET", f"/api/v1/executions/{task_id}", ADMIN).status_code == 200
    big = rest.call(
        "POST", "/api/v1/flows", data=b"x" * 2_000_000, headers={"Content-Type": "application/json"}
    )
    assert big.status_code == 413
