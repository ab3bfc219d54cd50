"""Who is asking: the Linkis gateway's ticket, Linkis token headers, a trusted proxy's user header,
or the console's session.

``identify`` is the one rule (headers, cookies and the peer address in, a user name out, or 401);
``current_user`` applies it to the Flask request, and takes the console's signed session (with a
CSRF token on changes) when the request sends no token; ``check_credentials`` is the sign-in's.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Protocol

from flask import request
from flask import session

from api.http import ticket
from api.http.envelope import Forbidden
from api.http.envelope import Unauthorized
from flowexec.config import Settings
from flowexec.names import check_user
from workers.runtime import runtime

#: The header the console's scripts send on state-changing calls (the session's CSRF token).
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_credentials(user: str, token: str) -> str:
    """The one check of a (user, token) pair, for the token headers and the console's sign-in.

    Returns the user name, or raises ``Unauthorized``.
    """
    return identify(runtime().settings, {"Token-Code": token, "Token-User": user}, {}, None)


class _Lookup(Protocol):
    def get(self, key: str, /) -> str | None: ...


def identify(
    settings: Settings,
    headers: _Lookup,
    cookies: _Lookup,
    remote_addr: str | None,
) -> str:
    """Return the caller's user name; raise ``Unauthorized`` (401) or ``InvalidRequest`` (400).

    The proxy header counts only from a ``FLOWEXEC_TRUSTED_PROXIES`` address (never when none is
    configured); a token acts for the users ``FLOWEXEC_TOKENS`` gives it, the shared
    ``FLOWEXEC_TOKEN`` for anyone.
    """
    if settings.trust_linkis_ticket and (
        not settings.trusted_proxies or trusted_proxy(settings, remote_addr)
    ):
        # Only the Linkis gateway reaches this port (README "Drop into DSS").
        from_ticket = ticket.gateway_user(cookies, settings.linkis_crypt_key)
        if from_ticket:
            return check_user(from_ticket)
    if settings.proxy_user_header and trusted_proxy(settings, remote_addr):
        proxied = (headers.get(settings.proxy_user_header) or "").strip()
        if proxied:
            return check_user(proxied)
    token = headers.get("Token-Code") or cookies.get("Token-Code") or ""
    user = (headers.get("Token-User") or cookies.get("Token-User") or "").strip()
    if not token:
        raise Unauthorized("please log in: send Token-Code and Token-User headers")
    if not user:
        raise Unauthorized("please log in: Token-User is missing")
    allowed = _users_of(settings, token)
    if allowed is None or not ("*" in allowed or user in allowed):
        raise Unauthorized("please log in: the token is not valid for this user")
    return check_user(user)


def _users_of(settings: Settings, token: str) -> frozenset[str] | None:
    """The users a token may act as (``*`` for any), or None for an unknown token."""
    found: frozenset[str] | None = None
    for known, users in settings.tokens.items():
        if hmac.compare_digest(token.encode(), known.encode()):
            found = users
    if found is not None:
        return found
    shared_on = not (settings.token_generated and settings.tokens)
    if shared_on and hmac.compare_digest(token.encode(), settings.token.encode()):
        return frozenset({"*"})
    return None


def trusted_proxy(settings: Settings, remote_addr: str | None) -> bool:
    """True when the peer is one of ``FLOWEXEC_TRUSTED_PROXIES`` (addresses or networks)."""
    if not remote_addr or not settings.trusted_proxies:
        return False
    try:
        peer = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    for entry in settings.trusted_proxies:
        try:
            if peer in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def current_user() -> str:
    """Return the caller's user name, or raise ``Unauthorized`` (status -1, HTTP 401)."""
    settings = runtime().settings
    token_sent = request.headers.get("Token-Code") or request.cookies.get("Token-Code")
    if not token_sent and session.get("user"):
        proxied = settings.proxy_user_header and trusted_proxy(settings, request.remote_addr)
        if not (proxied and request.headers.get(settings.proxy_user_header or "")):
            return session_user()
    return identify(settings, request.headers, request.cookies, request.remote_addr)


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
