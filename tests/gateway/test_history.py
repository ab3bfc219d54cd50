"""``jobhistory`` over raw HTTP: the SQLite rows, their keys, filters, restart and reset."""

from __future__ import annotations

from pathlib import Path

from gateway import create_gateway
from gateway import serve_gateway
from tests.gateway.support import Api
from tests.gateway.support import Control


def test_history_row_has_the_documented_keys(api: Api) -> None:
    data = api.submit("true", source={"scriptPath": "/x.sh"})
    task = api.finish(data["taskID"])

    assert task["progress"] == "1.0"
    assert task["strongerExecId"] == data["execID"]
    assert data["execID"].endswith(task["execId"])
    assert isinstance(task["createdTime"], int) and isinstance(task["costTime"], int)
    assert '"scriptPath": "/x.sh"' in task["sourceJson"]
    assert task["logPath"].startswith("file:///") and task["resultLocation"].startswith("file:///")
    assert {"umUser", "executeUser", "engineType", "runType", "errCode", "errDesc"} <= set(task)


def test_history_list_filters_and_counts_rows(api: Api) -> None:
    ids = [api.submit("true")["taskID"] for _ in range(3)]
    failed = api.submit("exit 1")["taskID"]
    for task_id in (*ids, failed):
        api.finish(task_id)

    page = api.data("GET", "jobhistory/list", params={"pageSize": 2, "creator": "nodeexecution"})
    assert (page["totalPage"], len(page["tasks"])) == (4, 2)
    assert [t["taskID"] for t in page["tasks"]] == [failed, ids[2]]
    only = api.data("GET", "jobhistory/list", params={"status": "Failed,Cancelled"})
    assert [t["taskID"] for t in only["tasks"]] == [failed]
    assert api.data("GET", "jobhistory/list", params={"taskID": ids[0]})["totalPage"] == 1
    assert api.data("GET", "jobhistory/list", params={"creator": "IDE"})["totalPage"] == 0


def test_history_survives_a_restart_and_task_ids_keep_growing(tmp_path: Path) -> None:
    server = serve_gateway(create_gateway(tmp_path))
    api = Api(server.url)
    try:
        first = api.submit("echo before")
        api.finish(first["taskID"])
    finally:
        api.session.close()
        server.shutdown()

    server = serve_gateway(create_gateway(tmp_path))
    api = Api(server.url)
    try:
        assert api.task(first["taskID"])["status"] == "Succeed"
        _, body = api.call("GET", f"entrance/{first['execID']}/status")
        assert body["status"] == 1
        assert api.submit("true")["taskID"] > first["taskID"]
    finally:
        api.session.close()
        server.shutdown()


def test_reset_clears_history_and_counters(api: Api, control: Control) -> None:
    data = api.submit("sleep 30")
    assert control("GET", "/submits")["submits"] == 1

    control("POST", "/reset")

    assert control("GET", "/submits")["submits"] == 0
    code, body = api.call("GET", f"jobhistory/{data['taskID']}/get")
    assert (code, body["status"]) == (400, 1)
