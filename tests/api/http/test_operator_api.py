"""Execute is all or nothing; a retried execute with the same Idempotency-Key runs once; a user
kill says who; /healthz answers 503 on an empty schema; Linkis that does not answer fails a
node within FLOWEXEC_LINKIS_DEADLINE with one line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from tests.api.conftest import ENTRANCE
from tests.api.conftest import dss_body
from tests.api.conftest import execute
from tests.api.conftest import headers
from tests.api.conftest import register
from tests.api.conftest import register_doc
from tests.api.conftest import slow_flow
from tests.api.conftest import wait_final
from tests.conftest import TOKEN


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _count(stack: Any, sql: str) -> int:
    from api.extensions import db

    with stack.app.app_context():
        return int(db.session.execute(sa.text(sql)).scalar_one())


def test_the_same_idempotency_key_twice_is_one_execution(stack: Any, client: Any) -> None:
    register(client, "diamond.json", 1501)
    before = _count(stack, "SELECT COUNT(*) FROM dss_workflow_task")
    replies = [
        client.post(
            f"{ENTRANCE}/execute",
            json=dss_body(1501, "v000001"),
            headers={**headers(), "Idempotency-Key": "order-42"},
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in replies] == [200, 200]
    assert replies[0].json["data"] == replies[1].json["data"]
    assert _count(stack, "SELECT COUNT(*) FROM dss_workflow_task") == before + 1
    data = replies[0].json["data"]
    assert wait_final(client, data["execID"], data["taskID"]) == "Succeed"
    register(client, "diamond.json", 1599, user="bob")
    other = client.post(
        f"{ENTRANCE}/execute",
        json=dss_body(1599, "v000001"),
        headers={**headers("bob"), "Idempotency-Key": "order-42"},
    )
    assert other.json["data"]["taskID"] != data["taskID"]  # keys are per user
    bad = client.post(
        f"{ENTRANCE}/execute",
        json=dss_body(1501, "v000001"),
        headers={**headers(), "Idempotency-Key": "x" * 129},
    )
    assert bad.status_code == 400


def test_broker_down_still_answers_the_execid_and_the_flow_runs_once(stack: Any, client: Any) -> None:
    from flowexec import service
    from workers import dispatch

    register(client, "diamond.json", 1502)
    settings = stack.app.extensions["flowexec"].settings
    # Another process (apps in one process share Celery's default app): its broker is down.
    code = (
        "import json, sys\n"
        "from api.app import create_app\n"
        "from tests.api.conftest import dss_body, headers, ENTRANCE\n"
        "app = create_app({'database_url': sys.argv[1], 'broker_url': sys.argv[2], 'token': sys.argv[3]})\n"
        "r = app.test_client().post(f'{ENTRANCE}/execute', json=dss_body(1502, 'v000001'), headers=headers())\n"
        "print(json.dumps({'http': r.status_code, 'data': r.json['data']}))\n"
    )
    broker = f"redis://127.0.0.1:{_closed_port()}/0"
    done = subprocess.run(
        [sys.executable, "-c", code, settings.database_url, broker, TOKEN],
        capture_output=True,
        text=True,
        timeout=120,
    )
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    assert reply["http"] == 200, done.stdout + done.stderr
    task_id = reply["data"]["taskID"]
    assert _count(stack, f"SELECT COUNT(*) FROM dss_workflow_task WHERE id = {task_id}") == 1
    # The reconciler of the running deployment sends what the broker could not take.
    with stack.app.app_context():
        dispatch.send(service.reconcile(replace(settings, queued_grace=0.001)))
    assert wait_final(client, reply["data"]["execID"], task_id) == "Succeed"
    runs = _count(stack, f"SELECT MAX(attempt) FROM flowexec_node_run WHERE task_id = {task_id}")
    assert runs == 1


def test_a_user_kill_reads_killed_by_the_user(stack: Any, client: Any) -> None:
    register_doc(client, slow_flow(30), 1503)
    exec_id, task_id = execute(client, 1503)
    time.sleep(1.0)
    assert client.get(f"{ENTRANCE}/{exec_id}/kill", headers=headers()).status_code == 200
    assert wait_final(client, exec_id, task_id) == "Cancelled"
    detail = client.get(f"/api/v1/executions/{task_id}", headers=headers()).json["data"]
    errors = {n["id"]: n["error"] for n in detail["nodes"] if n["status"] == "Cancelled"}
    assert errors and set(errors.values()) == {"killed by alice"}


def test_healthz_is_503_on_an_empty_schema(mysql_url: str) -> None:
    from api.app import create_app

    base, parent = mysql_url.rsplit("/", 1)
    name = f"{parent}_nohealth"
    engine = sa.create_engine(mysql_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    app = create_app({"database_url": f"{base}/{name}", "broker_url": "memory://"})
    reply = app.test_client().get("/healthz")
    assert reply.status_code == 503
    data = reply.json["data"]
    assert data["database"] == "ok" and data["broker"] == "ok"
    assert "flowexec db upgrade" in data["schema"] and data["revision"] == ""


def test_web_metrics_show_no_worker_counters(migrated_mysql: str) -> None:
    from api.app import create_app

    app = create_app({"database_url": migrated_mysql, "broker_url": "redis://127.0.0.1:6379/9"})
    body = app.test_client().get("/metrics").get_data(as_text=True)
    assert "flowexec_executions" in body and "flowexec_linkis_request_seconds" not in body


def test_closed_linkis_port_fails_the_node_within_the_deadline(migrated_mysql: str, tmp_path: Any) -> None:
    from api.embedded import embedded_stack
    from flowexec import service
    from workers import dispatch

    url = f"http://127.0.0.1:{_closed_port()}"
    overrides = {
        "database_url": migrated_mysql,
        "broker_url": "memory://",
        "home": str(tmp_path),
        "linkis_url": url,
        "linkis_deadline": 2.0,
        "poll_max": 0.5,
    }
    with embedded_stack(overrides, beat=False) as running, running.app.app_context():
        ref = service.register_flow(
            {
                "nodes": [
                    {"id": "a", "title": "a", "jobType": "linkis.shell.sh", "jobContent": {"code": "echo"}}
                ],
                "edges": [],
                "props": [],
            },
            {},
            name="closed",
            user="alice",
        )
        settings = running.app.extensions["flowexec"].settings
        submitted, actions = service.submit_execution(
            service.ExecutionRequest(flow_id=ref.flow_id, version=ref.version, user="alice"), settings
        )
        dispatch.send(actions)
        started = time.monotonic()
        while time.monotonic() - started < 30:
            task, _, nodes = service.execution_nodes(submitted.task_id)
            if task.status == "Failed":
                break
            time.sleep(0.2)
        assert task.status == "Failed"
        assert time.monotonic() - started < 15
        error = nodes[0].error or ""
        assert url in error and "\n" not in error and "FLOWEXEC_LINKIS_DEADLINE" in error
