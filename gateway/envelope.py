"""The four-key reply envelope, and the error answers in the shapes Linkis gives them."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response
from flask import request
from werkzeug.exceptions import HTTPException

from gateway.protocol import APP_NAME
from gateway.protocol import HTTP_OF_STATUS
from gateway.protocol import JSON_TYPE
from gateway.protocol import PREFIX
from gateway.protocol import Refusal

logger = logging.getLogger(__name__)


def _method_name() -> str:
    path = request.path
    return "/api" + path[len(PREFIX) :] if path.startswith(PREFIX) else path


def reply(status: int = 0, message: str = "OK", data: Any = None, http: int | None = None) -> Response:
    """Answer with the four-key envelope; the HTTP code follows the status as in Linkis."""
    body = {
        "method": _method_name(),
        "status": status,
        "message": message,
        "data": {} if data is None else data,
    }
    code = http or HTTP_OF_STATUS.get(status, status if status >= 100 else 400)
    return Response(json.dumps(body, ensure_ascii=False), status=code, content_type=JSON_TYPE)


def refusal_reply(exc: Refusal) -> Response:
    if exc.err_code is None:
        return reply(exc.status, exc.message, {}, exc.http)
    message = f"error code(错误码): {exc.err_code}, error message(错误信息): {exc.message}."
    error = {"level": 2, "errCode": exc.err_code, "desc": exc.message, "ip": "127.0.0.1",
             "port": int(request.environ.get("SERVER_PORT") or 0), "serviceKind": APP_NAME}  # fmt: skip
    return reply(exc.status, message, {"errorMsg": error}, exc.http)


def http_error_reply(exc: HTTPException) -> Response:
    """Gateway-framework failures carry the HTTP code in ``status`` and a list in ``data``."""
    code = exc.code or 500
    return reply(code, f"{exc.name}, with request path:{request.path}", [], code)


def unexpected_reply(exc: Exception) -> Response:
    """The details go to the log; the client gets generic text (no paths, no exception text)."""
    logger.exception("gateway error path=%s", request.path)
    return reply(1, "internal error; see the gateway log", {})


def unauthenticated_reply() -> Response:
    return reply(-1, "You are not logged in, please login first(您尚未登录，请先登录!)", {})


def too_deep_reply(exc: RecursionError) -> Response:
    return reply(1, "request body nests too deeply", {}, 400)
