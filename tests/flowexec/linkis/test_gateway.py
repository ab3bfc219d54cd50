"""Protocol tests of the local gateway over raw HTTP: what linkis-protocol.md §9 promises."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from flowexec.linkis.gateway import PREFIX
from flowexec.linkis.gateway import SESSION_COOKIE
from flowexec.linkis.gateway import GatewayServer
from flowexec.linkis.gateway import create_gateway
from flowexec.linkis.gateway import parse_pairs
from flowexec.linkis.gateway import serve_gateway
from tests.flowexec.linkis.conftest import process_alive
from tests.flowexec.linkis.conftest import wait_for

Control = Callable[..., dict[str, Any]]
TOKENS = {"Token-Code": "LINKIS-AUTH", "Token-User": "hadoop"}


class Api:
    """Raw calls under ``/api/rest_j/v1`` returning (HTTP code, envelope)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url + PREFIX + "/"
        self.session = requests.Session()
        self.session.headers.update(TOKENS if headers is None else headers)

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        resp = self.session.request(method, self.url + path, timeout=5, **kwargs)
        assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
        body: dict[str, Any] = resp.json()
        assert set(body) == {"method", "status", "message", "data"}
        return resp.status_code, body

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        code, body = self.call(method, path, **kwargs)
        assert (code, body["status"]) == (200, 0), body
        return body["data"]

    def submit(self, code: str, run_type: str = "shell", **extra: Any) -> dict[str, Any]:
        body = {
            "executionContent": {"code": code, "runType": run_type},
            "labels": {"engineType": "shell-1", "userCreator": "hadoop-nodeexecution"},
            **extra,
        }
        data: dict[str, Any] = self.data("POST", "entrance/submit", json=body)
        return data

    def task(self, task_id: int) -> dict[str, Any]:
        task: dict[str, Any] = self.data("GET", f"jobhistory/{task_id}/get")["task"]
        return task

    def finish(self, task_id: int) -> dict[str, Any]:
        terminal = ("Succeed", "Failed", "Cancelled", "Timeout")
        task: dict[str, Any] = wait_for(
            lambda: (t := self.task(task_id))["status"] in terminal and t, what="the job to end"
        )
        return task


@pytest.fixture
def api(gateway: GatewayServer) -> Iterator[Api]:
    client = Api(gateway.url)
    yield client
    client.session.close()


def test_parse_pairs_reads_users_and_tokens() -> None:
    assert parse_pairs("hadoop:hadoop, alice:s:x", ":") == {"hadoop": "hadoop", "alice": "s:x"}
    assert parse_pairs("LINKIS-AUTH=*,DSS-AUTH=hadoop", "=") == {
        "LINKIS-AUTH": "*",
        "DSS-AUTH": "hadoop",
    }
    assert parse_pairs("", ":") == {}
    with pytest.raises(ValueError):
        parse_pairs("nocolon", ":")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Token-Code": "LINKIS-AUTH"}, {"Token-Code": "NOPE", "Token-User": "hadoop"}],
)
def test_missing_or_bad_token_is_401_status_minus_1(gateway: GatewayServer, headers: dict) -> None:
    api = Api(gateway.url, headers)
    code, body = api.call("GET", "jobhistory/list")
    api.session.close()

    assert (code, body["status"]) == (401, -1)


def test_password_login_sets_the_session_cookie(gateway: GatewayServer) -> None:
    api = Api(gateway.url, {})
    code, body = api.call("POST", "user/login", json={"userName": "hadoop", "password": "bad"})
    assert (code, body["status"]) == (400, 1)

    data = api.data("POST", "user/login", json={"userName": "hadoop", "password": "hadoop"})
    assert data["sessionTimeOut"] == 3600000 and data["userName"] == "hadoop"
    assert SESSION_COOKIE in api.session.cookies
    assert api.data("GET", "user/heartbeat") == {}
    ref = api.submit("true")
    assert api.finish(ref["taskID"])["umUser"] == "hadoop"

    api.data("GET", "user/logout")
    api.session.cookies.clear()
    assert api.call("GET", "user/heartbeat")[0] == 401
    api.session.close()


def test_submit_answers_numeric_task_id_and_exec_id_layout(api: Api, gateway: GatewayServer) -> None:
    data = api.submit("true")

    instance = f"127.0.0.1:{gateway.port}"
    assert isinstance(data["taskID"], int)
    assert re.fullmatch(
        rf"exec_id018{len(instance):03d}linkis-cg-entrance{re.escape(instance)}"
        r"nodeexecution_hadoop_shell_\d+",
        data["execID"],
    )


@pytest.mark.parametrize(
    ("body", "err_code"),
    [
        ({"executionContent": {"runType": "sh"}, "labels": {"engineType": "shell-1"}}, 20010),
        (
            {
                "executionContent": {"code": " ", "runType": "sh"},
                "labels": {"engineType": "shell-1"},
            },
            20007,
        ),
        ({"executionContent": {"code": "true", "runType": "sh"}, "labels": {}}, 20008),
        ({"executionContent": {"code": "true", "runType": "sh"}, "labels": {"x": "y"}}, 20009),
        ({"executionContent": {"code": "true"}, "labels": {"engineType": "shell-1"}}, 20009),
        (
            {
                "executionContent": {"code": "true", "runType": "sh"},
                "labels": {"engineType": "shell-1", "jobRunningTimeout": "ten"},
            },
            20009,
        ),
    ],
)
def test_submit_validation_errors(api: Api, body: dict, err_code: int) -> None:
    code, reply = api.call("POST", "entrance/submit", json=body)

    assert (code, reply["status"]) == (400, 1)
    assert reply["data"]["errorMsg"]["errCode"] == err_code


def test_50080_leaves_a_failed_history_row(api: Api) -> None:
    body = {
        "executionContent": {"code": "true", "runType": "sh"},
        "labels": {"engineType": "shell-1", "userCreator": "alice-nodeexecution"},
    }
    code, reply = api.call("POST", "entrance/submit", json=body)

    assert (code, reply["data"]["errorMsg"]["errCode"]) == (400, 50080)
    [row] = api.data("GET", "jobhistory/list", params={"status": "Failed"})["tasks"]
    assert row["errCode"] == 50080 and row["canRetry"] is True


def test_code_type_label_and_run_date_default(api: Api) -> None:
    body = {
        "executionContent": {"code": "echo ${run_date} '${unknown}'"},
        "labels": {"engineType": "shell-1", "codeType": "shell", "userCreator": "hadoop-IDE"},
    }
    task_id = api.data("POST", "entrance/submit", json=body)["taskID"]
    task = api.finish(task_id)

    yesterday = (datetime.now() - timedelta(days=1)).strftime("%Y%m%d")
    tree = api.data("GET", "filesystem/getDirFileTrees", params={"path": task["resultLocation"]})
    [leaf] = tree["dirFileTrees"]["children"]
    content = api.data("GET", "filesystem/openFile", params={"path": leaf["path"]})
    assert content["fileContent"] == [[f"{yesterday} ${{unknown}}"]]
    assert (content["type"], content["metadata"]) == ("1", "NULL")


def test_legacy_execute_runs_as_the_login_user(api: Api) -> None:
    body = {
        "executionCode": "print('legacy')",
        "runType": "python",
        "executeApplicationName": "python",
    }
    data = api.data("POST", "entrance/execute", json=body)

    task = api.finish(data["taskID"])
    assert (task["status"], task["executeUser"], task["requestApplicationName"]) == (
        "Succeed",
        "hadoop",
        "IDE",
    )
    assert "engineType:python-python2" in task["labels"]


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


def test_log_has_four_level_slots_and_a_cursor(api: Api) -> None:
    data = api.submit("echo bad >&2; echo worse >&2")
    api.finish(data["taskID"])
    path = f"entrance/{data['execID']}/log"

    first = api.data("GET", path, params={"fromLine": 0, "size": 2})
    assert first["fromLine"] == 3
    error, warn, info, everything = first["log"]
    assert (error, warn) == ("", "") and info == everything and len(everything.split("\n")) == 2
    rest = api.data("GET", path, params={"fromLine": 3, "size": -1})
    error, _, _, everything = rest["log"]
    assert error.endswith("ERROR bad\n" + error.split("\n")[1]) and error.split("\n")[1].endswith(
        "ERROR worse"
    )
    assert everything.endswith("Your job completed with status Success.")
    assert not everything.endswith("\n")

    task = api.task(data["taskID"])
    full = api.data("GET", "filesystem/openLog", params={"path": task["logPath"]})["log"]
    assert full[3].endswith("Success.\n") and full[0].count("\n") == 2


def test_status_progress_and_log_of_unknown_jobs_are_soft_errors(api: Api) -> None:
    data = api.submit("true")
    api.finish(data["taskID"])
    exec_id = data["execID"]

    code, body = api.call("GET", f"entrance/{exec_id}/status", params={"taskID": 999})
    assert (code, body["status"], body["data"]) == (400, 1, {})
    code, body = api.call("GET", "entrance/not-an-exec-id/status")
    assert (code, body["status"]) == (200, 1)
    encoded = exec_id.replace(":", "%3A")
    code, body = api.call("GET", f"entrance/{encoded}/status", params={"taskID": data["taskID"]})
    assert (code, body["status"]) == (200, 1)


def test_kill_jobs_in_a_batch(api: Api, tmp_path: Path) -> None:
    jobs = [api.submit("sleep 30") for _ in range(2)]
    wait_for(lambda: all(api.task(j["taskID"])["status"] == "Running" for j in jobs), what="Running")
    body = {"idList": [j["execID"] for j in jobs], "taskIDList": [j["taskID"] for j in jobs]}

    messages = api.data("POST", f"entrance/{jobs[0]['execID']}/killJobs", json=body)["messages"]

    assert [m["status"] for m in messages] == [0, 0]
    assert [api.task(j["taskID"])["status"] for j in jobs] == ["Cancelled", "Cancelled"]
    body["taskIDList"] = body["taskIDList"][:1]
    code, reply = api.call("POST", f"entrance/{jobs[0]['execID']}/killJobs", json=body)
    assert (code, reply["status"]) == (400, 1)


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


def test_running_timeout_label_fails_the_job(api: Api) -> None:
    labels = {
        "engineType": "shell-1",
        "userCreator": "hadoop-nodeexecution",
        "jobRunningTimeout": "1",
    }
    data = api.submit("sleep 30", labels=labels)

    task = api.finish(data["taskID"])

    assert task["status"] == "Failed" and "timeout" in task["errDesc"]


def test_open_file_pages_nulls_and_paths(api: Api) -> None:
    code = "select 1 as a, null as b union all select 2, 'x' union all select 3, 'y' order by 1;"
    body = {
        "executionContent": {"code": code, "runType": "sql"},
        "labels": {"engineType": "hive-3.1.3", "userCreator": "hadoop-nodeexecution"},
    }
    task = api.finish(api.data("POST", "entrance/submit", json=body)["taskID"])
    tree = api.data("GET", "filesystem/getDirFileTrees", params={"path": task["resultLocation"]})
    [leaf] = tree["dirFileTrees"]["children"]
    assert leaf["name"] == "_0.dolphin" and leaf["isLeaf"] is True

    def page(**params: Any) -> dict[str, Any]:
        data: dict[str, Any] = api.data("GET", "filesystem/openFile", params={"path": leaf["path"], **params})
        return data

    first = page(pageSize=2)
    assert first["fileContent"] == [["1", "NULL"], ["2", "x"]]
    assert (first["totalLine"], first["totalPage"]) == (2, 0)
    assert [m["columnName"] for m in first["metadata"]] == ["a", "b"]
    assert page(page=2, pageSize=2)["fileContent"] == [["3", "y"]]
    assert page(page=3, pageSize=2)["fileContent"] == []
    assert page(pageSize=1, nullValue="LINKIS_NULL")["fileContent"] == [["1", None]]
    missing = task["resultLocation"] + "-nothing"
    assert api.data("GET", "filesystem/getDirFileTrees", params={"path": missing}) == {"dirFileTrees": None}
    for path, err_code in (("", 80004), ("file:///etc", 80010)):
        _, reply = api.call("GET", "filesystem/getDirFileTrees", params={"path": path})
        assert reply["data"]["errorMsg"]["errCode"] == err_code


def test_sql_error_fails_the_job(api: Api) -> None:
    body = {
        "executionContent": {"code": "select * from no_such_table;", "runType": "sql"},
        "labels": {"engineType": "jdbc-4", "userCreator": "hadoop-nodeexecution"},
    }
    task = api.finish(api.data("POST", "entrance/submit", json=body)["taskID"])

    assert task["status"] == "Failed" and "no such table" in task["errDesc"]


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


def test_group_cap_keeps_excess_jobs_inited(tmp_path: Path) -> None:
    server = serve_gateway(create_gateway(tmp_path, max_running_per_group=1, max_queued_per_group=1))
    api = Api(server.url)
    try:
        first = api.submit("sleep 30")
        wait_for(lambda: api.task(first["taskID"])["status"] == "Running", what="Running")
        second = api.submit("true")
        code, body = api.call("POST", "entrance/submit", json=_shell_body("true"))
        assert (code, body["data"]["errorMsg"]["errCode"]) == (400, 12001)

        time.sleep(0.3)
        assert api.task(second["taskID"])["status"] == "Inited"
        api.data("GET", f"entrance/{first['execID']}/kill", params={"taskID": first["taskID"]})
        assert api.finish(second["taskID"])["status"] == "Succeed"
    finally:
        api.session.close()
        server.shutdown()


def _shell_body(code: str) -> dict[str, Any]:
    return {
        "executionContent": {"code": code, "runType": "shell"},
        "labels": {"engineType": "shell-1", "userCreator": "hadoop-nodeexecution"},
    }


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


def test_many_concurrent_jobs(api: Api) -> None:
    ids = [api.submit("echo $RANDOM")["taskID"] for _ in range(60)]

    assert {api.finish(task_id)["status"] for task_id in ids} == {"Succeed"}
