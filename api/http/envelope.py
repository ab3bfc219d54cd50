"""The one reply shape, Linkis's ``Message``: ``{method, status, message, data}``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask import Response
from flask import jsonify
from flask import request
from marshmallow import ValidationError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from flowexec.errors import FlowexecError
from flowexec.errors import LinkisError
from flowexec.errors import LinkisUnavailable
from flowexec.errors import NotAllowed
from flowexec.errors import NotFound

log = logging.getLogger(__name__)

HTTP_OF_STATUS = {0: 200, -1: 401, 1: 400, 2: 412, 3: 403, 4: 206}
DSS_PREFIX = "/api/rest_j/v1/dss/flow"


class Unauthorized(FlowexecError):
    """No valid token or user: status -1."""

    code = 10401


class Forbidden(FlowexecError):
    """Not yours to see or kill: status 3."""

    code = 10403


def method_name() -> str:
    """Linkis-style ``method``: the path without the DSS prefix, under ``/api``."""
    path = request.path
    if path.startswith(DSS_PREFIX):
        return "/api" + path[len(DSS_PREFIX) :]
    return path


def reply(data: Any = None, message: str = "OK", status: int = 0, http: int | None = None) -> Response:
    response = jsonify(
        {"method": method_name(), "status": status, "message": message, "data": {} if data is None else data}
    )
    response.status_code = http or HTTP_OF_STATUS.get(status, 400)
    return response


def _validation(exc: ValidationError) -> Response:
    messages = exc.messages
    text = "; ".join(
        f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in (messages.items() if isinstance(messages, dict) else [("body", messages)])
    )
    return reply({"errors": messages}, f"invalid request: {text}", status=1)


def _flowexec(exc: FlowexecError) -> Response:
    if isinstance(exc, Unauthorized):
        return reply({}, exc.message, status=-1)
    if isinstance(exc, (Forbidden, NotAllowed)):
        return reply({}, exc.message, status=3)
    http = 404 if isinstance(exc, NotFound) else None
    if isinstance(exc, LinkisError):  # Linkis, not the caller, failed: a gateway error
        http = 503 if isinstance(exc, LinkisUnavailable) else 502
    return reply(
        {"errorMsg": {"errCode": exc.code, "desc": exc.message}},
        f"error code(错误码): {exc.code}, error message(错误信息): {exc.message}.",
        status=1,
        http=http,
    )


def _http(exc: HTTPException) -> Response:
    code = exc.code or 500
    status = -1 if code == 401 else (3 if code == 403 else 1)
    return reply({}, exc.description or exc.name, status=status, http=code)


def _database_down(exc: Exception) -> Response:
    log.warning("database unavailable method=%s error=%s", request.path, exc)
    return reply({}, "database unavailable, try again shortly", status=1, http=503)


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error method=%s", request.path)
    return reply({}, "internal error; see the server log", status=1, http=500)


def register_handlers(app: Flask) -> None:
    app.register_error_handler(ValidationError, _validation)
    app.register_error_handler(FlowexecError, _flowexec)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(InterfaceError, _database_down)
    app.register_error_handler(Exception, _unexpected)
