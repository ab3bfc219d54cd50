"""The console's session as an identity of the REST API (no browser): sign-in, CSRF, the key."""

from __future__ import annotations

import re
from typing import Any

from api.console import secret_key
from flowexec.config import Settings
from tests.api.conftest import execute
from tests.api.conftest import register
from tests.conftest import TOKEN


def _csrf(client: Any, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def _signed_in(stack: Any, user: str = "alice") -> Any:
    client = stack.app.test_client()
    reply = client.post(
        "/login", data={"user": user, "token": TOKEN, "csrf_token": _csrf(client), "next": "//evil"}
    )
    assert reply.status_code == 302 and reply.headers["Location"] == "/executions"  # never off-site
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return client


def test_sign_in_needs_the_token_and_the_form_token(stack: Any) -> None:
    client = stack.app.test_client()
    assert client.post("/login", data={"user": "alice", "token": TOKEN}).status_code == 400  # no CSRF
    wrong = client.post("/login", data={"user": "alice", "token": "nope", "csrf_token": _csrf(client)})
    assert wrong.status_code == 401 and b"Unknown user name or token" in wrong.data
    assert client.get("/api/v1/executions").status_code == 401


def test_session_calls_the_rest_api_and_changes_need_the_csrf_header(stack: Any) -> None:
    client = _signed_in(stack)
    register(stack.app.test_client(), "failing.json", 701)
    _, task_id = execute(stack.app.test_client(), 701)
    assert client.get(f"/api/v1/executions/{task_id}").status_code == 200
    forged = client.post(f"/api/v1/executions/{task_id}/kill")
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.json["message"]
    token = _csrf(client, "/executions")
    killed = client.post(f"/api/v1/executions/{task_id}/kill", headers={"X-CSRF-Token": token})
    assert killed.status_code == 200, killed.json
    bob = _signed_in(stack, "bob")
    assert bob.get(f"/api/v1/executions/{task_id}").status_code == 403
    assert bob.get(f"/executions/{task_id}").status_code == 403
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and client.get("/api/v1/executions").status_code == 401


def test_bad_filters_are_a_clear_400(stack: Any) -> None:
    client = _signed_in(stack)
    reply = client.get("/executions?status=Nope")
    assert reply.status_code == 400 and b"status must be one of" in reply.data
    assert client.get("/executions?flow=x").status_code == 400
    assert client.get("/executions/99999999").status_code == 404


def test_secret_key_is_set_or_derived_from_the_token() -> None:
    assert secret_key(Settings(token="a", secret_key="k")) == "k"
    assert (
        secret_key(Settings(token="a")) == secret_key(Settings(token="a")) != secret_key(Settings(token="b"))
    )
    assert len(secret_key(Settings(token="a"))) == 64  # an HMAC of the token, not the token
    per_user = {"t1": frozenset({"alice"})}
    assert secret_key(Settings(token="x", tokens=per_user)) == secret_key(
        Settings(token="y", tokens=per_user)
    )
