"""The gateway app factory: state in ``app.extensions``, request hooks, error answers, URL rules."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from flask import Response
from flask import g
from flask import request
from werkzeug.exceptions import HTTPException

from gateway.auth import DEFAULT_TOKENS
from gateway.auth import DEFAULT_USERS
from gateway.context import EXTENSION
from gateway.context import current
from gateway.envelope import http_error_reply
from gateway.envelope import refusal_reply
from gateway.envelope import too_deep_reply
from gateway.envelope import unauthenticated_reply
from gateway.envelope import unexpected_reply
from gateway.faults import drop_response
from gateway.faults import fault_response
from gateway.protocol import CONTROL
from gateway.protocol import PREFIX
from gateway.protocol import Refusal
from gateway.state import Gateway
from gateway.views import CONTROL_ROUTES
from gateway.views import ROUTES


def before_request() -> Response | None:
    """Apply faults, then token/cookie auth on every path but login."""
    gw = current()
    if request.path.startswith(CONTROL):
        return None
    rule = gw.faults.take(request.method, request.path) if gw.faults_enabled else None
    if rule is not None:
        answer = fault_response(rule)
        if answer is not None:
            return answer
    if request.path == PREFIX + "/user/login":
        return None
    user, admin = gw.sessions.authenticate(request.headers, lambda: request.cookies)
    if user is None:
        return unauthenticated_reply()
    g.user, g.admin = user, admin
    return None


def after_request(response: Response) -> Response:
    if g.get("drop_after"):
        return drop_response()
    return response


def create_gateway(
    state_dir: str | Path,
    *,
    users: Mapping[str, str] = DEFAULT_USERS,
    tokens: Mapping[str, str] = DEFAULT_TOKENS,
    faults_enabled: bool = False,
    max_running_per_group: int = 50,
    sqlite_path: str | None = None,
    max_queued_per_group: int = 1000,
    memory_retention: float = 600.0,
    kill_grace: float = 1.0,
    max_body: int = 16 * 1024 * 1024,
    simulate: frozenset[str] = frozenset(),
) -> Flask:
    """Build the gateway app; its state (jobs, history, BML) lives in ``app.extensions``.

    ``simulate``: engines (``spark``) or ``engine.runType`` (``appconn.datachecker``) whose jobs
    succeed without running, their log naming what they were given.
    """
    gw = Gateway(
        Path(state_dir), users=users, tokens=tokens, faults_enabled=faults_enabled,
        max_running_per_group=max_running_per_group, max_queued_per_group=max_queued_per_group,
        sqlite_path=sqlite_path, memory_retention=memory_retention, kill_grace=kill_grace,
        simulate=simulate,
    )  # fmt: skip
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body  # larger bodies answer 413
    app.extensions[EXTENSION] = gw
    app.before_request(before_request)
    app.after_request(after_request)
    app.register_error_handler(Refusal, refusal_reply)
    app.register_error_handler(HTTPException, http_error_reply)
    app.register_error_handler(RecursionError, too_deep_reply)
    app.register_error_handler(Exception, unexpected_reply)
    for rule, methods, view in ROUTES:
        app.add_url_rule(PREFIX + rule, view_func=view, methods=list(methods))
    if faults_enabled:
        for rule, methods, view in CONTROL_ROUTES:
            app.add_url_rule(CONTROL + rule, view_func=view, methods=list(methods))
    return app
