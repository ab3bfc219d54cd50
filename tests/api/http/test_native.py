"""Native /api/v1: flows and versions, history with filters and pages, detail, node log, kill, graph."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from tests.api.conftest import execute
from tests.api.conftest import headers
from tests.api.conftest import register
from tests.api.conftest import register_doc
from tests.api.conftest import slow_flow
from tests.api.conftest import wait_final
from tests.api.conftest import wait_node

SVG = "{http://www.w3.org/2000/svg}"


def test_register_is_idempotent_and_versions_are_listed(client: Any) -> None:
    register(client, "diamond.json", 601, "v000001")
    register(client, "n_shape.json", 601, "v000002")
    from api.cli.run import read_flow
    from tests.conftest import EXAMPLES

    doc, scripts = read_flow(str(EXAMPLES / "diamond.json"))
    again = client.post(
        "/api/v1/flows",
        json={"flowId": 601, "version": "v000001", "flow": doc, "scripts": scripts},
        headers=headers(),
    )
    assert again.status_code == 200 and again.json["data"]["created"] is False
    other = {**scripts, "scripts/extract.sh": "echo changed"}
    clash = client.post(
        "/api/v1/flows",
        json={"flowId": 601, "version": "v000001", "flow": doc, "scripts": other},
        headers=headers(),
    )
    assert clash.status_code == 400 and "other content" in clash.json["message"]
    versions = client.get("/api/v1/flows/601/versions", headers=headers()).json["data"]
    assert versions["flowId"] == 601
    assert [v["version"] for v in versions["versions"]] == ["v000002", "v000001"]
    assert versions["versions"][0]["createdBy"] == "alice"
    flows = client.get("/api/v1/flows?pageSize=200", headers=headers()).json["data"]
    mine = next(f for f in flows["flows"] if f["flowId"] == 601)
    assert mine["latestVersion"] == "v000002" and mine["versions"] == 2
    assert client.get("/api/v1/flows/999999/versions", headers=headers()).status_code == 404


def test_history_filters_sorts_and_pages(client: Any) -> None:
    register(client, "diamond.json", 602)
    register(client, "failing.json", 603)
    runs = [execute(client, 602), execute(client, 603), execute(client, 602)]
    for exec_id, task_id in runs:
        wait_final(client, exec_id, task_id)
    ids = [task_id for _, task_id in runs]

    def listed(query: str) -> dict[str, Any]:
        reply = client.get(f"/api/v1/executions?{query}", headers=headers())
        assert reply.status_code == 200, reply.json
        return reply.json["data"]  # type: ignore[no-any-return]

    by_flow = listed("flowId=602")
    assert [e["taskID"] for e in by_flow["executions"]] == [ids[2], ids[0]] and by_flow["total"] == 2
    assert [e["taskID"] for e in listed("flowId=603&status=Failed")["executions"]] == [ids[1]]
    assert listed("flowId=603&status=Succeed")["executions"] == []
    first, second = listed("flowId=602&pageSize=1&page=1"), listed("flowId=602&pageSize=1&page=2")
    assert [e["taskID"] for e in first["executions"] + second["executions"]] == [ids[2], ids[0]]
    assert first["total"] == 2 and first["page"] == 1 and first["pageSize"] == 1
    assert listed("flowId=602&since=2000-01-01T00:00:00&until=2999-01-01T00:00:00%2B08:00")["total"] == 2
    assert listed("flowId=602&since=2999-01-01T00:00:00")["total"] == 0
    row = by_flow["executions"][0]
    assert set(row) == {
        "taskID",
        "execID",
        "flowId",
        "version",
        "strategy",
        "status",
        "progress",
        "user",
        "submitUser",
        "createdTime",
        "finishedTime",
        "durationSeconds",
    }
    assert row["status"] == "Succeed" and row["user"] == "alice" and row["durationSeconds"] >= 0


def test_detail_has_every_node(client: Any) -> None:
    register(client, "failing.json", 604)
    exec_id, task_id = execute(client, 604)
    wait_final(client, exec_id, task_id)
    data = client.get(f"/api/v1/executions/{task_id}", headers=headers()).json["data"]
    assert data["taskID"] == task_id and data["execID"] == exec_id
    assert data["flowId"] == 604 and data["version"] == "v000001" and data["strategy"] == "execute"
    assert data["status"] == "Failed" and data["errCode"] and "broken" in data["errDesc"]
    assert data["failurePolicy"] == "fail_fast" and data["source"] == {
        "projectName": "sales_dw",
        "flowName": "daily_load",
    }
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["broken"]["status"] == "Failed" and nodes["broken"]["attempt"] == 1
    assert nodes["broken"]["linkisTaskID"] and nodes["broken"]["linkisExecID"]
    assert nodes["broken"]["logPath"] and "table not found" in nodes["broken"]["error"]
    assert nodes["start"]["children"] == ["broken"]
    assert nodes["never"]["status"] == "Cancelled" and nodes["never"]["startedAt"] is None


def test_node_log_pages_by_line(client: Any) -> None:
    register(client, "failing.json", 605)
    exec_id, task_id = execute(client, 605)
    wait_final(client, exec_id, task_id)
    whole = client.get(f"/api/v1/executions/{task_id}/nodes/broken/log?size=1000", headers=headers()).json
    assert whole["status"] == 0
    lines = whole["data"]["lines"]
    assert any("ERROR table not found" in line for line in lines)
    assert whole["data"]["fromLine"] == 1 and whole["data"]["nextLine"] == len(lines) + 1
    second = client.get(
        f"/api/v1/executions/{task_id}/nodes/broken/log?fromLine=2&size=1", headers=headers()
    ).json["data"]
    assert second["lines"] == lines[1:2] and second["nextLine"] == 3
    never = client.get(f"/api/v1/executions/{task_id}/nodes/never/log", headers=headers()).json["data"]
    assert never["lines"] == [] and never["nextLine"] == 1
    missing = client.get(f"/api/v1/executions/{task_id}/nodes/nope/log", headers=headers())
    assert missing.status_code == 404 and "nope" in missing.json["message"]


def test_kill_one_node_then_the_flow(client: Any) -> None:
    register_doc(client, slow_flow(), 606)
    exec_id, task_id = execute(client, 606)
    wait_node(client, task_id, "slow", "Running")
    reply = client.post(f"/api/v1/executions/{task_id}/nodes/slow/kill", headers=headers())
    assert reply.status_code == 200 and reply.json["data"]["nodeID"] == "slow"
    assert wait_final(client, exec_id, task_id) == "Failed"  # fail fast: a cancelled node fails the flow
    nodes = {
        n["id"]: n["status"]
        for n in client.get(f"/api/v1/executions/{task_id}", headers=headers()).json["data"]["nodes"]
    }
    assert nodes == {"first": "Succeed", "slow": "Cancelled", "last": "Cancelled"}
    assert client.post(f"/api/v1/executions/{task_id}/nodes/zz/kill", headers=headers()).status_code == 404

    exec2, task2 = execute(client, 606)
    wait_node(client, task2, "slow", "Running")
    killed = client.post(f"/api/v1/executions/{task2}/kill", headers=headers())
    assert killed.status_code == 200 and killed.json["data"]["taskID"] == task2
    assert wait_final(client, exec2, task2) == "Cancelled"
    assert client.post("/api/v1/executions/99999999/kill", headers=headers()).status_code == 404


def test_graph_is_svg_coloured_by_state(client: Any) -> None:
    register(client, "failing.json", 607)
    exec_id, task_id = execute(client, 607)
    wait_final(client, exec_id, task_id)
    reply = client.get(f"/api/v1/executions/{task_id}/graph.svg", headers=headers())
    assert reply.status_code == 200 and reply.mimetype == "image/svg+xml"
    root = ET.fromstring(reply.data)
    assert root.tag == f"{SVG}svg"
    groups = {g.get("data-key"): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    assert {k: g.get("data-state") for k, g in groups.items()} == {
        "start": "Succeed",
        "broken": "Failed",
        "never": "Cancelled",
    }
    fills = {k: g.find(f"{SVG}rect").get("fill") for k, g in groups.items()}  # type: ignore[union-attr]
    assert len(set(fills.values())) == 3
    ys = {k: float(g.find(f"{SVG}rect").get("y")) for k, g in groups.items()}  # type: ignore[union-attr,arg-type]
    assert ys["start"] < ys["broken"] < ys["never"]  # one layer per depth
    assert len([e for e in root.iter(f"{SVG}line") if e.get("class") == "edge"]) == 2


def test_healthz(client: Any) -> None:
    reply = client.get("/healthz")
    assert reply.status_code == 200
    data = reply.json["data"]
    assert (data["database"], data["schema"], data["broker"]) == ("ok", "ok", "ok")
    assert data["revision"] == data["head"] != ""
