"""Malformed input is a 4xx naming the field, never a 500, and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import ENTRANCE
from tests.api.conftest import count_rows
from tests.api.conftest import dss_body
from tests.api.conftest import headers
from tests.api.conftest import register

TABLES = ("dss_workflow_task", "flowexec_execution", "flowexec_node_run", "flowexec_flow_version")


@pytest.fixture(scope="module")
def flow(client: Any) -> int:
    register(client, "diamond.json", 501)
    return 501


def _counts(url: str) -> dict[str, int]:
    return {t: count_rows(url, t) for t in TABLES}


BAD_EXECUTE = [
    ({"executionCode": None}, 400, "executionCode"),
    ({"executionCode": "not json"}, 400, "executionCode"),
    ({"executionCode": json.dumps({"flowId": "x", "version": "v000001"})}, 400, "flowId"),
    ({"executionCode": json.dumps({"flowId": -1})}, 400, "flowId"),
    ({"executionCode": json.dumps({"flowId": 2**64})}, 400, "flowId"),
    ({"params": []}, 400, "params"),
    ({"params": {"variable": "x"}}, 400, "params.variable"),
    ({"params": {"variable": {"a": {"b": 1}}}}, 400, "params.variable.a"),
    ({"params": {"executeStrategy": "sideways"}}, 400, "params.executeStrategy"),
    ({"params": {"executeStrategy": "fromNode"}}, 400, "params.nodeID"),
    ({"isSelectedExecute": True}, 400, "nodeID"),
    ({"labels": "dev"}, 400, "labels"),
    ({"failurePolicy": "never"}, 400, "failurePolicy"),
    ({"executionCode": json.dumps({"flowId": 9999, "version": "v000001"})}, 404, "flow 9999"),
    ({"executionCode": json.dumps({"flowId": 501, "version": "v999"})}, 404, "version v999"),
]


@pytest.mark.parametrize(("change", "http", "named"), BAD_EXECUTE)
def test_bad_execute_bodies(
    client: Any, migrated_mysql: str, flow: int, change: dict[str, Any], http: int, named: str
) -> None:
    before = _counts(migrated_mysql)
    body = {**dss_body(flow, "v000001"), **change}
    reply = client.post(f"{ENTRANCE}/execute", json=body, headers=headers())
    assert reply.status_code == http, reply.json
    assert reply.json["status"] == 1 and reply.json["method"] == "/api/entrance/execute"
    assert named in reply.json["message"], reply.json
    assert _counts(migrated_mysql) == before


def test_missing_body_field_is_named(client: Any) -> None:
    body = dss_body(1, "v1")
    del body["executionCode"]
    reply = client.post(f"{ENTRANCE}/execute", json=body, headers=headers())
    assert reply.status_code == 400
    assert reply.json["data"]["errors"] == {"executionCode": ["Missing data for required field."]}


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b"", b'{"a": NaN'])
def test_non_json_bodies(client: Any, migrated_mysql: str, raw: bytes) -> None:
    before = _counts(migrated_mysql)
    for path in (f"{ENTRANCE}/execute", "/api/v1/flows"):
        reply = client.post(path, data=raw, headers={**headers(), "Content-Type": "application/json"})
        assert reply.status_code == 400, (path, raw, reply.json)
        assert reply.json["status"] == 1 and reply.json["message"].startswith("invalid request")
    assert _counts(migrated_mysql) == before


def test_oversized_body_is_413(client: Any, stack: Any) -> None:
    limit = stack.app.config["MAX_CONTENT_LENGTH"]
    body = dss_body(1, "v1", source={"pad": "x" * limit})
    reply = client.post(f"{ENTRANCE}/execute", json=body, headers=headers())
    assert reply.status_code == 413
    assert reply.json["status"] == 1 and list(reply.json) == ["method", "status", "message", "data"]


def test_max_body_is_configurable(migrated_mysql: str) -> None:
    from api.app import create_app

    app = create_app({"database_url": migrated_mysql, "broker_url": "memory://", "max_body": 100})
    assert app.config["MAX_CONTENT_LENGTH"] == 100


BAD_FLOWS = [
    ({"flow": "x"}, "flow"),
    ({"flow": {"nodes": "x"}}, "nodes"),
    ({"flow": {"nodes": [{"id": "a"}]}}, "jobType"),
    (
        {
            "flow": {
                "nodes": [
                    {"id": "a", "title": "a", "jobType": "linkis.shell.sh", "jobContent": {"code": "x"}}
                ],
                "edges": [{"source": "a", "target": "zz"}],
            }
        },
        "zz",
    ),
    ({"flowId": "1", "flow": {}}, "flowId"),
    ({"scripts": {"a": 1}, "flow": {}}, "scripts"),
]


@pytest.mark.parametrize(("body", "named"), BAD_FLOWS)
def test_bad_flow_registrations(client: Any, migrated_mysql: str, body: dict[str, Any], named: str) -> None:
    before = _counts(migrated_mysql)
    reply = client.post("/api/v1/flows", json=body, headers=headers())
    assert reply.status_code == 400, reply.json
    assert reply.json["status"] == 1 and named in reply.json["message"], reply.json
    assert _counts(migrated_mysql) == before


@pytest.mark.parametrize("query", ["taskID=abc", "taskID=1.5", f"taskID={2**64}", "taskID=-1"])
def test_bad_query_strings(client: Any, query: str) -> None:
    reply = client.get(f"{ENTRANCE}/exec_id_1/status?{query}", headers=headers())
    assert reply.status_code == 400 and "taskID" in reply.json["message"]


@pytest.mark.parametrize(
    "query", ["status=Bogus", "pageSize=0", "pageSize=1000", "page=x", "since=yesterday", "flowId=-3"]
)
def test_bad_history_filters(client: Any, query: str) -> None:
    reply = client.get(f"/api/v1/executions?{query}", headers=headers())
    assert reply.status_code == 400
    assert query.split("=")[0] in reply.json["message"]


def test_unknown_routes_and_methods_stay_in_the_envelope(client: Any) -> None:
    missing = client.get("/api/v1/nothing", headers=headers())
    assert missing.status_code == 404 and missing.json["status"] == 1
    wrong = client.get(f"{ENTRANCE}/execute", headers=headers())
    assert wrong.status_code == 405 and wrong.json["status"] == 1
    huge = client.get(f"/api/v1/executions/{2**70}", headers=headers())
    assert huge.status_code == 404 and huge.json["status"] == 1
