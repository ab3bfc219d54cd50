"""The ``entrance`` service over raw HTTP: what linkis-protocol.md §9 promises."""

from __future__ import annotations

import re
import time
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway import GatewayServer
from gateway import create_gateway
from gateway import serve_gateway
from tests.gateway.support import Api
from tests.gateway.support import wait_for


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


def test_running_timeout_label_fails_the_job(api: Api) -> None:
    labels = {
        "engineType": "shell-1",
        "userCreator": "hadoop-nodeexecution",
        "jobRunningTimeout": "1",
    }
    data = api.submit("sleep 30", labels=labels)

    task = api.finish(data["taskID"])

    assert task["status"] == "Failed" and "timeout" in task["errDesc"]


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


def test_many_concurrent_jobs(api: Api) -> None:
    ids = [api.submit("echo $RANDOM")["taskID"] for _ in range(60)]

    assert {api.finish(task_id)["status"] for task_id in ids} == {"Succeed"}
