"""Who is asking: Linkis token headers, or a trusted proxy's user header."""

from __future__ import annotations

import hmac

from flask import request

from api.http import ticket
from api.http.envelope import Forbidden
from api.http.envelope import Unauthorized
from workers.runtime import runtime


def current_user() -> str:
    """Return the caller's user name, or raise ``Unauthorized`` (status -1, HTTP 401)."""
    settings = runtime().settings
    if settings.trust_linkis_ticket:  # only the Linkis gateway reaches this port (README "Drop into DSS")
        from_ticket = ticket.gateway_user(request.cookies, settings.linkis_crypt_key)
        if from_ticket:
            return from_ticket
    if settings.proxy_user_header:
        proxied = request.headers.get(settings.proxy_user_header, "").strip()
        if proxied:
            return proxied
    token = request.headers.get("Token-Code") or request.cookies.get("Token-Code") or ""
    user = (request.headers.get("Token-User") or request.cookies.get("Token-User") or "").strip()
    if not token or not hmac.compare_digest(token.encode(), settings.token.encode()):
        raise Unauthorized("please log in: send Token-Code and Token-User headers")
    if not user:
        raise Unauthorized("please log in: Token-User is missing")
    return user


def is_admin(user: str) -> bool:
    return user in runtime().settings.admins


def check_owner(user: str, owner: str | None) -> None:
    """Only the submitter (or an admin) may see or kill an execution."""
    if owner != user and not is_admin(user):
        raise Forbidden(f"user {user} may not access this execution")
