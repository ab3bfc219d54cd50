"""The request side of the views: the gateway behind the app, and the request's arguments."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask import Response
from flask import current_app
from flask import request

from gateway.protocol import EXEC_ID
from gateway.protocol import Refusal
from gateway.state import Gateway

EXTENSION = "flowexec_gateway"

#: One URL rule: path under the prefix, HTTP methods, view.
Route = tuple[str, tuple[str, ...], Callable[..., Response]]


def gateway_of(app: Flask) -> Gateway:
    """Return the gateway state behind an app made by ``create_gateway``."""
    gw: Gateway = app.extensions[EXTENSION]
    return gw


def current() -> Gateway:
    """The gateway of the app serving this request."""
    gw: Gateway = current_app.extensions[EXTENSION]
    return gw


def int_arg(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise Refusal(f"parameter {name} must be an integer") from None


def checked_exec_id(exec_id: str) -> str:
    """Check the execID layout; a malformed one is a gateway routing error (HTTP 200).

    Like the real gateway, the instance is read from the raw path, so a percent-encoded ``:``
    does not route.
    """
    raw_path = str(request.environ.get("RAW_URI") or "").split("?", 1)[0]
    if "%3a" in raw_path.lower():
        raise Refusal(f"cannot route execID {exec_id}: encoded ':' in the path", http=200)
    match = EXEC_ID.match(exec_id)
    if match is None or len(exec_id) <= 13 + int(match.group(1)) + int(match.group(2)):
        raise Refusal(f"execID {exec_id} is not a valid execID", http=200)
    return exec_id


def instance() -> str:
    return f"127.0.0.1:{request.environ.get('SERVER_PORT', '9001')}"
