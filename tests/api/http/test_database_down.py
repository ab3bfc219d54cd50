"""While the database is down the API answers 503 in DSS's envelope, never a 500."""

from __future__ import annotations

from api.app import create_app

HEADERS = {"Token-Code": "t", "Token-User": "alice"}


def test_requests_get_503_while_the_database_is_unreachable() -> None:
    # Nothing listens on port 1: every connection attempt is refused, as during a restart.
    app = create_app(
        {"database_url": "mysql+pymysql://root@127.0.0.1:1/test", "broker_url": "memory://", "token": "t"}
    )
    client = app.test_client()
    for path in (
        "/api/v1/executions",
        "/api/rest_j/v1/dss/flow/entrance/exec_id013002flowexecutionvm_1/status",
    ):
        reply = client.get(path, headers=HEADERS, query_string={"taskID": 1})
        assert reply.status_code == 503, (path, reply.json)
        assert reply.json["status"] == 1 and "database unavailable" in reply.json["message"]
        assert set(reply.json) == {"method", "status", "message", "data"}
