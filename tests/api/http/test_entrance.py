"""DSS's FlowExecution routes with the bodies DSS's web sends (dss-api.md 1), field by field."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from tests.api.conftest import ENTRANCE
from tests.api.conftest import dss_body
from tests.api.conftest import execute
from tests.api.conftest import headers
from tests.api.conftest import register
from tests.api.conftest import register_doc
from tests.api.conftest import slow_flow
from tests.api.conftest import wait_final
from tests.api.conftest import wait_node

ENVELOPE = ["method", "status", "message", "data"]
DIAMOND = {"extract_sh", "agg_sh", "report_sh", "join_end"}
LISTS = ["succeedJobs", "runningJobs", "failedJobs", "pendingJobs", "skippedJobs"]


def test_execute_replies_exactly_like_dss(client: Any) -> None:
    register(client, "diamond.json", 301, "v000007")
    body = {
        "executeApplicationName": "flowexecution",
        "requestApplicationName": "flowexecution",
        "runType": "json",
        "executionCode": '{"flowId":301,"version":"v000007"}',
        "params": {},
        "labels": {"route": "dev"},
        "source": {"projectName": "sales_dw", "flowName": "daily_load"},
    }
    reply = client.post(f"{ENTRANCE}/execute", json=body, headers=headers())
    assert reply.status_code == 200
    assert list(reply.json) == ENVELOPE
    assert reply.json["method"] == "/api/entrance/execute"
    assert reply.json["status"] == 0 and reply.json["message"] == "OK"
    data = reply.json["data"]
    assert list(data) == ["execID", "taskID"]
    assert isinstance(data["taskID"], int)
    assert re.fullmatch(
        r"exec_id013\d{3}flowexecution.+_flowexecution_" + str(data["taskID"]), data["execID"]
    )
    assert wait_final(client, data["execID"], data["taskID"]) == "Succeed"


def test_status_and_execution_views(client: Any) -> None:
    register(client, "diamond.json", 302)
    exec_id, task_id = execute(client, 302)
    wait_final(client, exec_id, task_id)
    status = client.get(f"{ENTRANCE}/{exec_id}/status?taskID={task_id}&labels=dev", headers=headers()).json
    assert list(status) == ENVELOPE
    assert status["method"] == f"/api/entrance/{exec_id}/status"
    assert list(status["data"]) == ["status", "execID", "logPath"]
    assert status["data"]["status"] == "Succeed" and status["data"]["execID"] == exec_id
    assert status["data"]["logPath"].endswith(f"/{task_id}.log")

    view = client.get(f"{ENTRANCE}/{exec_id}/execution?labels=dev", headers=headers()).json
    assert view["method"] == f"/api/entrance/{exec_id}/execution"
    assert view["status"] == 0 and view["message"] == "Successfully get job execution info"
    assert list(view["data"]) == LISTS
    succeeded = {j["nodeID"]: j for j in view["data"]["succeedJobs"]}
    assert set(succeeded) == DIAMOND
    for key, job in succeeded.items():
        assert job["info"] == "node execute success"
        assert isinstance(job["startTime"], int) and isinstance(job["nowTime"], int)
        assert 0 < job["startTime"] <= job["nowTime"]
        if key == "join_end":  # an empty node has no Linkis job
            assert list(job) == ["nodeID", "info", "startTime", "nowTime"]
        else:
            assert list(job) == ["nodeID", "info", "startTime", "nowTime", "execID", "taskID"]
            assert isinstance(job["taskID"], int) and job["execID"]
    assert all(view["data"][name] == [] for name in LISTS[1:])


def test_selected_execute_skips_the_rest(client: Any) -> None:
    register(client, "diamond.json", 303)
    exec_id, task_id = execute(client, 303, isSelectedExecute=True, nodeID="extract_sh,agg_sh")
    assert wait_final(client, exec_id, task_id) == "Succeed"
    data = client.get(f"{ENTRANCE}/{exec_id}/execution?labels=dev", headers=headers()).json["data"]
    assert {j["nodeID"] for j in data["succeedJobs"]} == {"extract_sh", "agg_sh"}
    skipped = {j["nodeID"] for j in data["skippedJobs"]}
    assert skipped == {"report_sh", "join_end"}
    assert {j["nodeID"] for j in data["pendingJobs"]} == skipped  # DSS lists skipped nodes as pending too
    for job in data["skippedJobs"]:
        assert job == {"nodeID": job["nodeID"], "info": "node has skipped", "startTime": 0, "nowTime": 0}
    detail = client.get(f"/api/v1/executions/{task_id}", headers=headers()).json["data"]
    assert detail["strategy"] == "selectedExecute" and detail["nodeIDs"] == ["agg_sh", "extract_sh"]


def test_rerun_failed_reruns_only_what_did_not_succeed(client: Any) -> None:
    register(client, "failing.json", 304)
    exec_id, task_id = execute(client, 304)
    assert wait_final(client, exec_id, task_id) == "Failed"
    failed = client.get(f"{ENTRANCE}/{exec_id}/execution?labels=dev", headers=headers()).json["data"]
    # "never" never started: DSS keeps it pending (grey), not failed.
    assert {j["nodeID"]: j["info"] for j in failed["failedJobs"]} == {"broken": "node execute fail"}
    assert {j["nodeID"]: j["info"] for j in failed["pendingJobs"]} == {"never": None}
    exec2, task2 = execute(client, 304, isReExecute=True, isSelectedExecute=True, nodeID="start")
    assert wait_final(client, exec2, task2) == "Failed"
    data = client.get(f"{ENTRANCE}/{exec2}/execution?labels=dev", headers=headers()).json["data"]
    assert [j["nodeID"] for j in data["skippedJobs"]] == ["start"]  # rerun wins over selected
    detail = client.get(f"/api/v1/executions/{task2}", headers=headers()).json["data"]
    assert detail["strategy"] == "reExecute"


def test_kill_cancels_the_flow(client: Any) -> None:
    register_doc(client, slow_flow(), 305)
    exec_id, task_id = execute(client, 305)
    wait_node(client, task_id, "slow", "Running")
    reply = client.get(f"{ENTRANCE}/{exec_id}/kill?taskID={task_id}&labels=dev", headers=headers())
    assert reply.status_code == 200
    assert reply.json == {
        "method": f"/api/entrance/{exec_id}/kill",
        "status": 0,
        "message": "Successfully killed the job(成功kill了job)",
        "data": {"execID": exec_id},
    }
    assert wait_final(client, exec_id, task_id) == "Cancelled"
    data = client.get(f"{ENTRANCE}/{exec_id}/execution?labels=dev", headers=headers()).json["data"]
    # Killed while running: failed, cancelled; never started: pending, as DSS lists them.
    assert {j["nodeID"]: j["info"] for j in data["failedJobs"]} == {"slow": "node has cancelled"}
    assert {j["nodeID"]: j["info"] for j in data["pendingJobs"]} == {"last": None}


def test_flow_log_and_progress(client: Any) -> None:
    register(client, "diamond.json", 306)
    exec_id, task_id = execute(client, 306)
    wait_final(client, exec_id, task_id)
    log = client.get(
        f"{ENTRANCE}/{exec_id}/log?fromLine=0&size=100&distinctLevel=true", headers=headers()
    ).json
    assert log["status"] == 0 and list(log["data"]) == ["log", "execID", "fromLine"]
    error, warn, info, every = log["data"]["log"]
    assert error == "" and warn == ""
    assert "node extract_sh execute success" in info and every.endswith("Job Succeed")
    assert log["data"]["fromLine"] == len(every.split("\n"))
    plain = client.get(
        f"{ENTRANCE}/{exec_id}/log?fromLine=2&size=1&distinctLevel=false", headers=headers()
    ).json
    assert plain["data"]["log"] == every.split("\n")[2] and plain["data"]["fromLine"] == 3
    progress = client.get(f"{ENTRANCE}/{exec_id}/progress", headers=headers()).json["data"]
    assert progress["progress"] == 1.0 and progress["execID"] == exec_id
    assert progress["progressInfo"] == [
        {"id": exec_id, "succeedTasks": 4, "failedTasks": 0, "runningTasks": 0, "totalTasks": 4}
    ]


def test_unknown_exec_id_is_a_clean_not_found(client: Any) -> None:
    for path in (
        "exec_id013006flowexecutionnohostflowexecution_alice_flowexecution_999999/status",
        "exec_id013006flowexecutionnohostflowexecution_alice_flowexecution_999999/kill",
        "exec_id013006flowexecutionnohostflowexecution_alice_flowexecution_999999/execution",
        "not-an-exec-id/status",
        f"exec_id_{2**70}/status",
    ):
        reply = client.get(f"{ENTRANCE}/{path}", headers=headers())
        assert reply.status_code == 404, (path, reply.json)
        assert list(reply.json) == ENVELOPE and reply.json["status"] == 1
        assert reply.json["method"] == f"/api/entrance/{path}"


def test_task_id_must_match_the_exec_id(client: Any) -> None:
    register(client, "diamond.json", 307)
    exec_id, task_id = execute(client, 307)
    reply = client.get(f"{ENTRANCE}/{exec_id}/status?taskID={task_id + 1000}", headers=headers())
    assert reply.status_code == 404 and reply.json["status"] == 1
    wait_final(client, exec_id, task_id)


def test_dss_body_variables_reach_the_task(client: Any, stack: Any) -> None:
    register(client, "diamond.json", 308)
    body = dss_body(308, "v000001", params={"variable": {"run_date": "20250301"}})
    reply = client.post(f"{ENTRANCE}/execute", json=body, headers=headers())
    task_id = reply.json["data"]["taskID"]
    wait_final(client, reply.json["data"]["execID"], task_id)
    from flowexec import service

    with stack.app.app_context():
        task, _, _ = service.execution_nodes(task_id)
    params = json.loads(task.params)
    assert params["variable"] == {"run_date": "20250301"} and params["executeStrategy"] == "execute"
    assert task.um_user == "alice" and task.submit_user == "alice"
    assert json.loads(task.script_path) == {"projectName": "sales_dw", "flowName": "daily_load"}


def test_status_and_kill_read_no_node_row(client: Any, stack: Any) -> None:
    """DSS polls status every second per open canvas: it reads the task row, never the nodes."""
    from sqlalchemy import event

    from api.extensions import db

    register(client, "diamond.json", 318)
    exec_id, task_id = execute(client, 318)
    wait_final(client, exec_id, task_id)
    seen: list[str] = []
    me = threading.get_ident()  # the test client serves the request on this thread

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.get_ident() == me:  # not the embedded worker's or beat's queries
            seen.append(statement)

    with stack.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        status = client.get(f"{ENTRANCE}/{exec_id}/status?taskID={task_id}&labels=dev", headers=headers())
        kill = client.get(f"{ENTRANCE}/{exec_id}/kill?taskID={task_id}&labels=dev", headers=headers())
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert status.json["data"]["status"] == "Succeed" and kill.json["status"] == 0
    assert any("dss_workflow_task" in s for s in seen)
    assert not [s for s in seen if "flowexec_node_run" in s]
