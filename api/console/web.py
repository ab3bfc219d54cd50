"""The console's blueprint and what every page shares: the signed-in viewer, CSRF, errors."""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from typing import TypeVar
from typing import cast

from flask import Blueprint
from flask import Response
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug.exceptions import HTTPException

from api.http import auth
from api.http.envelope import Forbidden
from api.http.envelope import Unauthorized
from flowexec.errors import FlowexecError
from flowexec.errors import NotAllowed
from flowexec.errors import NotFound

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)
F = TypeVar("F", bound=Callable[..., Any])


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_form_csrf() -> None:
    """A console form post must carry the session's token (sign-in included: no login CSRF)."""
    sent = request.form.get("csrf_token", "")
    if not sent or not secrets.compare_digest(sent, str(session.get("csrf") or "")):
        abort(400, "the form is stale or forged: reload the page and try again")


def viewer() -> str | None:
    user = session.get("user")
    return str(user) if user else None


def signed_in(view: F) -> F:
    """Send a visitor without a session to the sign-in page, then back."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if viewer() is None:
            return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def epoch_ms(value: datetime | None) -> int | None:
    """Server-local naive times (as stored) to epoch ms; the browser formats them in its zone."""
    return int(value.timestamp() * 1000) if value is not None else None


def server_offset_minutes() -> int:
    """This server's UTC offset now: the browser reads the API's naive ISO times with it."""
    return int(-time.timezone / 60 if not time.localtime().tm_isdst else -time.altzone / 60)


@bp.context_processor
def _shared() -> dict[str, Any]:
    user = viewer()
    return {
        "viewer": user,
        "viewer_is_admin": bool(user) and auth.is_admin(user or ""),
        "csrf_token": csrf_token,
        "epoch_ms": epoch_ms,
        "server_offset": server_offset_minutes(),
    }


@bp.errorhandler(FlowexecError)
def _error(exc: FlowexecError) -> Response | tuple[str, int]:
    if isinstance(exc, Unauthorized):
        return cast(Response, redirect(url_for("console.sign_in")))
    status = 403 if isinstance(exc, Forbidden | NotAllowed) else 404 if isinstance(exc, NotFound) else 400
    return render_template("console/error.html", status=status, message=exc.message), status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    return render_template("console/error.html", status=status, message=exc.description or exc.name), status
