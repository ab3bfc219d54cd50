"""``user``: password login and logout, heartbeat, user info."""

from __future__ import annotations

from flask import Response
from flask import g
from flask import request

from gateway.auth import SESSION_COOKIE
from gateway.auth import SESSION_TIMEOUT_MS
from gateway.context import Route
from gateway.context import current
from gateway.envelope import reply


def login_view() -> Response:
    body = request.get_json(silent=True) or {}
    user, password = str(body.get("userName") or ""), str(body.get("password") or "")
    sessions = current().sessions
    signed_in = sessions.session_user(request.cookies.get(SESSION_COOKIE))
    data = {
        "userName": user,
        "isAdmin": False,
        "sessionTimeOut": SESSION_TIMEOUT_MS,
        "enableWatermark": False,
    }
    if signed_in is not None and signed_in == user:
        return reply(0, "login successful(登录成功)！", data)
    ticket = sessions.login(user, password)
    response = reply(0, "login successful(登录成功)！", data)
    response.set_cookie(SESSION_COOKIE, ticket, path="/", httponly=True)
    return response


def logout_view() -> Response:
    current().sessions.logout(request.cookies.get(SESSION_COOKIE))
    response = reply(0, "Logout successfully(退出登录成功)！")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def heartbeat_view() -> Response:
    return reply(0, "Maintain heartbeat success(维系心跳成功)！")


def user_info_view() -> Response:
    return reply(0, "OK", {"userName": g.user, "isAdmin": bool(g.admin)})


ROUTES: tuple[Route, ...] = (
    ("/user/login", ("POST",), login_view),
    ("/user/logout", ("GET", "POST"), logout_view),
    ("/user/heartbeat", ("GET", "POST"), heartbeat_view),
    ("/user/userInfo", ("GET",), user_info_view),
)
