"""Who is calling: token headers or cookies, password logins and their session tickets."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from types import MappingProxyType

from werkzeug.datastructures import Headers

from flowexec.names import valid_user
from gateway.protocol import Refusal

SESSION_COOKIE = "linkis_user_session_ticket_id_v1"
SESSION_TIMEOUT_MS = 3_600_000
DEFAULT_USERS: Mapping[str, str] = MappingProxyType({"hadoop": "hadoop"})
DEFAULT_TOKENS: Mapping[str, str] = MappingProxyType({"LINKIS-AUTH": "*"})


def parse_pairs(text: str | None, sep: str) -> dict[str, str]:
    """Parse ``"a:x,b:y"`` (users, ``sep=":"``) or ``"T=USER,..."`` (tokens, ``sep="="``)."""
    pairs: dict[str, str] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, found, value = item.partition(sep)
        if not found or not key.strip():
            raise ValueError(f"expected key{sep}value, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


class Sessions:
    """Users with passwords, tokens with the users they may act as, and live login sessions."""

    def __init__(self, users: Mapping[str, str], tokens: Mapping[str, str]) -> None:
        self.users = dict(users)
        self.tokens = dict(tokens)
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[str, float]] = {}

    def authenticate(
        self, headers: Headers | Mapping[str, str], cookies: Callable[[], Mapping[str, str]]
    ) -> tuple[str | None, bool]:
        """Return (user, is_admin_token) from token headers or cookies, or a session cookie.

        ``cookies`` is called only when the token headers are not both there: parsing the
        Cookie header was a twentieth of a token call's work.
        """
        code, user = headers.get("Token-Code"), headers.get("Token-User")
        if code and user:
            return self._token_user(code, user)
        jar = cookies()
        code, user = jar.get("Token-Code"), jar.get("Token-User")
        if code and user:
            return self._token_user(code, user)
        return self.session_user(jar.get(SESSION_COOKIE)), False

    def _token_user(self, code: str, user: str) -> tuple[str | None, bool]:
        if not valid_user(user):  # it names folders: no '/', no '..', at most 50 characters
            return None, False
        allowed = self.tokens.get(code)
        ok = allowed is not None and (allowed == "*" or user in allowed.split("|"))
        return (user, "ADMIN-" in code) if ok else (None, False)

    def session_user(self, ticket: str | None) -> str | None:
        """Return a session's user and refresh its idle timeout."""
        with self._lock:
            session = self._sessions.get(ticket or "")
            if session is None or session[1] < time.monotonic():
                return None
            self._sessions[ticket or ""] = (
                session[0],
                time.monotonic() + SESSION_TIMEOUT_MS / 1000,
            )
            return session[0]

    def login(self, user: str, password: str) -> str:
        if not user or not valid_user(user) or self.users.get(user) != password:
            raise Refusal("login failed: wrong user name or password(用户名或密码错误)")
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[ticket] = (user, time.monotonic() + SESSION_TIMEOUT_MS / 1000)
        return ticket

    def logout(self, ticket: str | None) -> None:
        with self._lock:
            self._sessions.pop(ticket or "", None)
