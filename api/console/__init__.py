"""The web console under ``/``: server-rendered pages whose small vendored scripts call the REST API.

Sign-in checks (user, token) with :func:`api.http.auth.check_credentials` and keeps the user in
Flask's signed session cookie (HttpOnly, SameSite=Strict). The REST routes accept that session
too (:func:`api.http.auth.session_user`), a state-changing call only with the session's CSRF
token in ``X-CSRF-Token``: every kill and rerun the console makes goes through the same routes,
checks and service calls as any other client's.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask

from flowexec.config import Settings


def secret_key(settings: Settings) -> str:
    """``FLOWEXEC_SECRET_KEY``, else a key derived from the configured tokens (``FLOWEXEC_TOKEN``,
    or ``FLOWEXEC_TOKENS`` without it): every web worker of one deployment then signs sessions
    alike. With neither set the token is random per process, and so is this key."""
    if settings.secret_key:
        return settings.secret_key
    material = settings.token
    if settings.token_generated and settings.tokens:
        material = ",".join(sorted(settings.tokens))
    return hmac.new(material.encode(), b"flowexec console session", hashlib.sha256).hexdigest()


def init_app(app: Flask, settings: Settings) -> None:
    """Configure the session cookie and register the console's pages."""
    from api.console import pages  # noqa: F401  (its routes join the blueprint)
    from api.console import signin  # noqa: F401
    from api.console.web import bp

    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="flowexec_session",
    )
    app.register_blueprint(bp)
