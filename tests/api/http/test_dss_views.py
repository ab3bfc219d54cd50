"""The DSS front end's view of a run (``/execution``, ``/status``, ``logPath`` through Linkis
``filesystem/openLog``) after a fail-fast, a rerun while another run is active, and a rerun
with nothing failed."""

from __future__ import annotations

from typing import Any

import requests

from tests.api.conftest import ENTRANCE
from tests.api.conftest import execute
from tests.api.conftest import headers
from tests.api.conftest import register_doc
from tests.api.conftest import wait_final
from tests.api.conftest import wait_node


def _node(key: str, code: str) -> dict[str, Any]:
    return {"id": key, "key": key, "title": key, "jobType": "linkis.shell.sh", "jobContent": {"code": code}}


FLOW = {
    # ok succeeds; gate fails after a second (rc=3) while slow runs; after never starts.
    "nodes": [
        _node("ok", "echo ok"),
        _node("gate", "sleep 1; exit ${rc}"),
        _node("slow", "sleep ${nap}"),
        _node("after", "echo after"),
    ],
    "edges": [{"source": "gate", "target": "after"}],
    "props": [{"rc": "0"}, {"nap": "0"}],
}


def view(client: Any, exec_id: str) -> dict[str, Any]:
    reply = client.get(f"{ENTRANCE}/{exec_id}/execution?labels=dev", headers=headers())
    assert reply.status_code == 200 and reply.json["message"] == "Successfully get job execution info"
    data: dict[str, Any] = reply.json["data"]
    assert list(data) == ["succeedJobs", "runningJobs", "failedJobs", "pendingJobs", "skippedJobs"]
    return data


def infos(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {j["nodeID"]: j["info"] for j in items}


def variables(rc: str, nap: str) -> dict[str, Any]:
    return {"params": {"variable": {"rc": rc, "nap": nap}}}


def test_fail_fast_view_status_and_log(client: Any, stack: Any) -> None:
    register_doc(client, FLOW, 7201)
    exec_id, task_id = execute(client, 7201, **variables("3", "30"))
    assert wait_final(client, exec_id, task_id) == "Failed"
    data = view(client, exec_id)
    assert infos(data["succeedJobs"]) == {"ok": "node execute success"}
    # Killed while running: failed, "node has cancelled"; never started: pending, info null.
    assert infos(data["failedJobs"]) == {"gate": "node execute fail", "slow": "node has cancelled"}
    assert data["pendingJobs"] == [{"nodeID": "after", "info": None, "startTime": 0, "nowTime": 0}]
    assert data["runningJobs"] == [] and data["skippedJobs"] == []
    # The node table stays truthful: "after" was cancelled before it started.
    nodes = client.get(f"/api/v1/executions/{task_id}", headers=headers()).json["data"]["nodes"]
    assert {n["id"]: n["status"] for n in nodes}["after"] == "Cancelled"
    status = client.get(f"{ENTRANCE}/{exec_id}/status?taskID={task_id}&labels=dev", headers=headers()).json
    log_path = status["data"]["logPath"]
    assert log_path.startswith("file://") and log_path.endswith(f"/flowexecution/alice/{task_id}.log")
    # The failure-log panel opens it through Linkis.
    opened = requests.get(
        f"{stack.gateway_url}/api/rest_j/v1/filesystem/openLog",
        params={"path": log_path},
        headers={"Token-Code": "LINKIS-AUTH", "Token-User": "alice"},
        timeout=10,
    ).json()
    assert opened["status"] == 0, opened
    error, _, info, every = opened["data"]["log"]
    assert "node gate execute fail" in error and "errCode" in error
    assert "node ok execute success" in info and "node ok Linkis log: file://" in info
    assert "Job Failed" in every
    # /{execID}/log reads the same file.
    served = client.get(f"{ENTRANCE}/{exec_id}/log?fromLine=0&size=-1&distinctLevel=false", headers=headers())
    assert served.json["data"]["log"] + "\n" == every


def test_rerun_while_another_run_is_active(client: Any) -> None:
    register_doc(client, FLOW, 7202)
    exec1, task1 = execute(client, 7202, **variables("3", "30"))
    assert wait_final(client, exec1, task1) == "Failed"
    exec2, task2 = execute(client, 7202, **variables("0", "30"))
    wait_node(client, task2, "slow", "Running")
    # The active run does not hide the failed one: the rerun skips what run 1 succeeded.
    exec3, task3 = execute(client, 7202, isReExecute=True, **variables("0", "0"))
    assert wait_final(client, exec3, task3) == "Succeed"
    data = view(client, exec3)
    assert infos(data["skippedJobs"]) == {"ok": "node has skipped"}
    assert set(infos(data["succeedJobs"])) == {"gate", "slow", "after"}
    client.get(f"{ENTRANCE}/{exec2}/kill?taskID={task2}&labels=dev", headers=headers())
    assert wait_final(client, exec2, task2) == "Cancelled"


def test_rerun_with_nothing_failed_runs_every_node(client: Any) -> None:
    register_doc(client, FLOW, 7203)
    exec_id, task_id = execute(client, 7203, isReExecute=True)
    assert wait_final(client, exec_id, task_id) == "Succeed"
    data = view(client, exec_id)
    assert set(infos(data["succeedJobs"])) == {"ok", "gate", "slow", "after"}
    assert data["skippedJobs"] == [] and data["pendingJobs"] == []
