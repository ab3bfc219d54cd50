"""Fixtures of the API tests: the embedded stack (in-process worker, local gateway) on MariaDB."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES
from tests.conftest import TOKEN
from tests.conftest import truncate

ENTRANCE = "/api/rest_j/v1/dss/flow/entrance"
ADMIN = "root_admin"


def headers(user: str = "alice") -> dict[str, str]:
    return {"Token-Code": TOKEN, "Token-User": user}


@pytest.fixture(scope="module")
def stack(migrated_mysql: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """MariaDB, the memory broker with an in-process worker, and the local gateway."""
    from api.embedded import embedded_stack

    truncate(migrated_mysql)
    home = tmp_path_factory.mktemp("api")
    overrides = {
        "database_url": migrated_mysql,
        "broker_url": "memory://",
        "home": str(home),
        "token": TOKEN,
        "admins": frozenset({ADMIN}),
        "poll_first": 0.1,
        "poll_max": 0.3,
        "reconcile_every": 1.0,
    }
    with embedded_stack(overrides) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack: Any) -> Any:
    return stack.app.test_client()


def register(client: Any, example: str, flow_id: int, version: str = "v000001", user: str = "alice") -> None:
    from api.cli.run import read_flow

    doc, scripts = read_flow(str(EXAMPLES / example))
    reply = client.post(
        "/api/v1/flows",
        json={"flowId": flow_id, "version": version, "flow": doc, "scripts": scripts},
        headers=headers(user),
    )
    assert reply.status_code in (200, 201), reply.json


def dss_body(flow_id: int, version: str, **extra: Any) -> dict[str, Any]:
    """The body DSS's web sends (dss-api.md 1.2)."""
    return {
        "executeApplicationName": "flowexecution",
        "requestApplicationName": "flowexecution",
        "runType": "json",
        "executionCode": json.dumps({"flowId": flow_id, "version": version}),
        "params": {},
        "labels": {"route": "dev"},
        "source": {"projectName": "sales_dw", "flowName": "daily_load"},
        **extra,
    }


def execute(
    client: Any, flow_id: int, version: str = "v000001", user: str = "alice", **extra: Any
) -> tuple[str, int]:
    reply = client.post(
        f"{ENTRANCE}/execute", json=dss_body(flow_id, version, **extra), headers=headers(user)
    )
    assert reply.status_code == 200, reply.json
    return reply.json["data"]["execID"], reply.json["data"]["taskID"]


def wait_final(client: Any, exec_id: str, task_id: int, user: str = "alice", seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while True:
        reply = client.get(
            f"{ENTRANCE}/{exec_id}/status",
            query_string={"taskID": task_id, "labels": "dev"},
            headers=headers(user),
        )
        assert reply.status_code == 200, reply.json
        status = reply.json["data"]["status"]
        if status in ("Succeed", "Failed", "Cancelled", "Timeout"):
            return str(status)
        if time.monotonic() > deadline:
            raise AssertionError(f"{exec_id} still {status} after {seconds} s")
        time.sleep(0.1)


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


def register_doc(client: Any, doc: dict[str, Any], flow_id: int, version: str = "v000001") -> None:
    reply = client.post(
        "/api/v1/flows", json={"flowId": flow_id, "version": version, "flow": doc}, headers=headers()
    )
    assert reply.status_code in (200, 201), reply.json


def slow_flow(seconds: int = 30) -> dict[str, Any]:
    """first (quick) -> slow (sleeps) -> last."""

    def node(key: str, code: str) -> dict[str, Any]:
        return {
            "id": key,
            "key": key,
            "title": key,
            "jobType": "linkis.shell.sh",
            "jobContent": {"code": code},
        }

    return {
        "nodes": [
            node("first", "echo first"),
            node("slow", f"echo sleeping; sleep {seconds}"),
            node("last", "echo last"),
        ],
        "edges": [{"source": "first", "target": "slow"}, {"source": "slow", "target": "last"}],
        "props": [],
    }


def wait_node(client: Any, task_id: int, key: str, state: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        nodes = client.get(f"/api/v1/executions/{task_id}", headers=headers()).json["data"]["nodes"]
        if any(n["id"] == key and n["status"] == state for n in nodes):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"node {key} not {state} after {seconds} s: {nodes}")
        time.sleep(0.1)


def count_rows(url: str, table: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()
