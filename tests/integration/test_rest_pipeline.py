"""A flow through DSS's REST API, run by a real ``celery worker`` process on MariaDB, with Redis
and with RabbitMQ as the broker (the same tests on each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.api.conftest import dss_body
from tests.conftest import TOKEN
from tests.conftest import truncate

pytestmark = pytest.mark.integration

HEADERS = {"Token-Code": TOKEN, "Token-User": "alice"}
ENTRANCE = "/api/rest_j/v1/dss/flow/entrance"


def _env(mysql: str, redis_url: str, linkis: str, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FLOWEXEC_DATABASE_URL": mysql,
        "FLOWEXEC_BROKER_URL": redis_url,
        "FLOWEXEC_LINKIS_URL": linkis,
        "FLOWEXEC_POLL_FIRST": "0.1",
        "FLOWEXEC_POLL_MAX": "0.5",
        "FLOWEXEC_TOKEN": TOKEN,
        "FLOWEXEC_HOME": str(home),
    }


@pytest.fixture(scope="module", params=["redis", "amqp"])
def stack(
    request: pytest.FixtureRequest, migrated_mysql: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A gateway on a thread, a real worker process, and an API app on the same services."""
    import redis

    from api.app import create_app
    from gateway import create_gateway
    from gateway import serve_gateway

    truncate(migrated_mysql)
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(redis_url).flushdb()
    else:
        redis_url = request.getfixturevalue("amqp_url")
    home = tmp_path_factory.mktemp("stack")
    server = serve_gateway(create_gateway(home / "gateway"), "127.0.0.1", 0)
    env = _env(migrated_mysql, redis_url, server.url, home)
    log_path = home / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "api.worker",
                "worker",
                "-P",
                "threads",
                "-c",
                "4",
                "-Q",
                "flowexec.control,flowexec.nodes,flowexec.poll",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"it-{uuid.uuid4().hex[:8]}@localhost",
                "--loglevel",
                "INFO",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(lambda: b"ready." in log_path.read_bytes(), 60, lambda: log_path.read_text())
        app = create_app(
            {
                "database_url": migrated_mysql,
                "broker_url": redis_url,
                "linkis_url": server.url,
                "token": TOKEN,
            }
        )
        yield {"app": app, "client": app.test_client(), "url": migrated_mysql, "log": log_path}
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.shutdown()


def _wait_for(check: Any, seconds: float, explain: Any = lambda: "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s\n{explain()}")
        time.sleep(0.1)


def _register(client: Any, examples: Path, name: str, flow_id: int) -> str:
    from api.cli.run import read_flow

    doc, scripts = read_flow(str(examples / name))
    reply = client.post(
        "/api/v1/flows",
        json={"flowId": flow_id, "version": "v000001", "flow": doc, "scripts": scripts},
        headers=HEADERS,
    )
    assert reply.status_code == 201, reply.json
    assert reply.json["status"] == 0
    return "v000001"


def _execute(client: Any, flow_id: int, version: str, **extra: Any) -> tuple[str, int]:
    body = dss_body(flow_id, version, **extra)
    reply = client.post(f"{ENTRANCE}/execute", json=body, headers=HEADERS)
    assert reply.status_code == 200, reply.json
    assert reply.json["method"] == "/api/entrance/execute"
    data = reply.json["data"]
    assert isinstance(data["taskID"], int) and data["execID"].startswith("exec_id")
    return data["execID"], data["taskID"]


def _finish(stack: dict[str, Any], exec_id: str, task_id: int, seconds: float = 60) -> str:
    client = stack["client"]
    seen: dict[str, str] = {}

    def done() -> bool:
        reply = client.get(f"{ENTRANCE}/{exec_id}/status", query_string={"taskID": task_id}, headers=HEADERS)
        assert reply.status_code == 200, reply.json
        seen["status"] = reply.json["data"]["status"]
        return seen["status"] in {"Succeed", "Failed", "Cancelled", "Timeout"}

    _wait_for(done, seconds, lambda: stack["log"].read_text()[-4000:])
    return seen["status"]


def _rows(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def _assert_parents_first(url: str, task_id: int, edges: list[tuple[str, str]]) -> None:
    nodes = {
        r["node_key"]: r for r in _rows(url, "SELECT * FROM flowexec_node_run WHERE task_id=:t", t=task_id)
    }
    for parent, child in edges:
        if nodes[child]["started_at"] is None:
            continue
        assert nodes[parent]["finished_at"] is not None, (parent, child)
        assert nodes[child]["started_at"] >= nodes[parent]["finished_at"], (parent, child)


def test_diamond_through_rest_updates_both_seed_tables(stack: dict[str, Any], examples: Path) -> None:
    client, url = stack["client"], stack["url"]
    version = _register(client, examples, "diamond.json", 301)
    exec_id, task_id = _execute(client, 301, version)
    assert _finish(stack, exec_id, task_id) == "Succeed"

    task = _rows(url, "SELECT * FROM dss_workflow_task WHERE id=:t", t=task_id)[0]
    assert task["status"] == "Succeed" and task["progress"] == 1.0
    assert task["um_user"] == "alice" and task["submit_user"] == "alice"
    assert json.loads(task["execution_code"]) == {"flowId": 301, "version": "v000001"}
    assert json.loads(task["params"])["executeStrategy"] == "execute"
    assert task["err_desc"] is None and task["exec_id"].endswith(f"_{task_id}")

    info = _rows(url, "SELECT * FROM dss_workflow_execute_info WHERE flow_id=301")
    assert len(info) == 1 and info[0]["task_id"] == task_id and info[0]["status"] == 1
    assert info[0]["version"] == "v000001"
    assert set(info[0]["succeed_jobs"].split(",")) == {"extract_sh", "agg_sh", "report_sh", "join_end"}
    for column in ("failed_jobs", "running_jobs", "Pending_jobs", "skipped_jobs"):
        assert info[0][column] == "", column

    nodes = _rows(url, "SELECT * FROM flowexec_node_run WHERE task_id=:t", t=task_id)
    linkis_nodes = [n for n in nodes if n["kind"] == "linkis"]
    assert all(n["linkis_task_id"] and n["linkis_exec_id"] for n in linkis_nodes)
    _assert_parents_first(
        url,
        task_id,
        [
            ("extract_sh", "agg_sh"),
            ("extract_sh", "report_sh"),
            ("agg_sh", "join_end"),
            ("report_sh", "join_end"),
        ],
    )

    view = client.get(f"{ENTRANCE}/{exec_id}/execution", query_string={"labels": "dev"}, headers=HEADERS).json
    assert view["status"] == 0
    assert list(view["data"]) == ["succeedJobs", "runningJobs", "failedJobs", "pendingJobs", "skippedJobs"]
    assert {j["nodeID"] for j in view["data"]["succeedJobs"]} == {
        "extract_sh",
        "agg_sh",
        "report_sh",
        "join_end",
    }
    assert all(j["info"] == "node execute success" for j in view["data"]["succeedJobs"])


def test_n_shape_never_starts_a_node_before_its_parents(stack: dict[str, Any], examples: Path) -> None:
    client, url = stack["client"], stack["url"]
    version = _register(client, examples, "n_shape.json", 302)
    exec_id, task_id = _execute(client, 302, version)
    assert _finish(stack, exec_id, task_id) == "Succeed"
    _assert_parents_first(url, task_id, [("a", "c"), ("b", "c"), ("b", "d")])


def test_failing_middle_node_fails_the_flow_and_records_it(stack: dict[str, Any], examples: Path) -> None:
    client, url = stack["client"], stack["url"]
    version = _register(client, examples, "failing.json", 303)
    exec_id, task_id = _execute(client, 303, version)
    assert _finish(stack, exec_id, task_id) == "Failed"
    task = _rows(url, "SELECT * FROM dss_workflow_task WHERE id=:t", t=task_id)[0]
    assert task["progress"] == 1.0 and "broken" in task["err_desc"]
    info = _rows(url, "SELECT * FROM dss_workflow_execute_info WHERE flow_id=303")[0]
    assert info["status"] == 0 and info["task_id"] == task_id
    assert info["succeed_jobs"] == "start"
    # "never" never started: DSS lists it pending, not failed (the node row says Cancelled).
    assert info["failed_jobs"] == "broken" and info["Pending_jobs"] == "never"
    states = {
        r["node_key"]: r["state"]
        for r in _rows(url, "SELECT * FROM flowexec_node_run WHERE task_id=:t", t=task_id)
    }
    assert states == {"start": "Succeed", "broken": "Failed", "never": "Cancelled"}
