"""Who is asking: Linkis token headers, a trusted proxy's user header, or the console's session."""

from __future__ import annotations

import hmac

from flask import request
from flask import session

from api.http.envelope import Forbidden
from api.http.envelope import Unauthorized
from workers.runtime import runtime

#: The header the console's scripts send on state-changing calls (the session's CSRF token).
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_credentials(user: str, token: str) -> str:
    """The one check of a (user, token) pair, for the token headers and the console's sign-in.

    Returns the user name, or raises ``Unauthorized``.
    """
    settings = runtime().settings
    if not token or not hmac.compare_digest(token.encode(), settings.token.encode()):
        raise Unauthorized("please log in: send Token-Code and Token-User headers")
    if not user.strip():
        raise Unauthorized("please log in: Token-User is missing")
    return user.strip()


def current_user() -> str:
    """Return the caller's user name, or raise ``Unauthorized`` (status -1, HTTP 401)."""
    settings = runtime().settings
    if settings.proxy_user_header:
        proxied = request.headers.get(settings.proxy_user_header, "").strip()
        if proxied:
            return proxied
    token = request.headers.get("Token-Code") or request.cookies.get("Token-Code") or ""
    user = (request.headers.get("Token-User") or request.cookies.get("Token-User") or "").strip()
    if not token and session.get("user"):
        return session_user()
    return check_credentials(user, token)


def session_user() -> str:
    """The console's signed-in user; a state-changing request must echo the session's CSRF token."""
    user = str(session.get("user") or "")
    if not user:
        raise Unauthorized("please sign in")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token") or ""
        expected = str(session.get("csrf") or "")
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Forbidden(f"missing or wrong {CSRF_HEADER}: reload the page and try again")
    return user


def is_admin(user: str) -> bool:
    return user in runtime().settings.admins


def check_owner(user: str, owner: str | None) -> None:
    """Only the submitter (or an admin) may see or kill an execution."""
    if owner != user and not is_admin(user):
        raise Forbidden(f"user {user} may not access this execution")
