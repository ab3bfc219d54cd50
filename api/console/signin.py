"""Sign in with a user name and the token the REST API accepts for that user; sign out."""

from __future__ import annotations

import secrets

from flask import Response
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

from api.console.web import bp
from api.console.web import check_form_csrf
from api.http import auth
from api.http.envelope import Unauthorized
from flowexec.errors import InvalidRequest


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.executions")


@bp.get("/login")
def sign_in() -> str:
    return render_template("console/login.html", next=_safe_next(request.args.get("next")), error=None)


@bp.post("/login")
def sign_in_post() -> Response | tuple[str, int]:
    check_form_csrf()
    user = request.form.get("user", "").strip()
    target = _safe_next(request.form.get("next"))
    try:
        user = auth.check_credentials(user, request.form.get("token", ""))
    except (Unauthorized, InvalidRequest):
        error = "Unknown user name or token."
        return render_template("console/login.html", next=target, error=error, user=user), 401
    session.clear()
    session["user"] = user
    session["csrf"] = secrets.token_urlsafe(32)  # a new token with the new identity
    return redirect(target)  # type: ignore[return-value]


@bp.post("/logout")
def sign_out() -> Response:
    check_form_csrf()
    session.clear()
    return redirect(url_for("console.sign_in"))  # type: ignore[return-value]
