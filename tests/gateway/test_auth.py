"""Tokens, password logins and sessions (``gateway.auth``) over raw HTTP."""

from __future__ import annotations

import pytest

from gateway import GatewayServer
from gateway.auth import SESSION_COOKIE
from gateway.auth import parse_pairs
from tests.gateway.support import Api


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
