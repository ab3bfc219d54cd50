"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app

from api.extensions import db
from api.http import replies
from api.http.envelope import reply
from api.http.openapi import operation

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@operation(
    "Readiness: the database (at the migration head) and the broker answer",
    tags=("meta",),
    data=replies.HealthData,
    errors=(),
    also={503: "unhealthy (status 1)"},
    public=True,
)
def healthz() -> Response:
    """Ready when the database answers at the migration head and the broker answers."""
    from api import preflight

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = preflight.checks(app)
    checks: dict[str, str] = {c.name: "ok" if c.ok else f"error: {c.line()}" for c in found}
    checks["revision"] = revision_of(app)
    checks["head"] = preflight.head_revision()
    healthy = all(c.ok for c in found)
    return reply(
        checks, "OK" if healthy else "unhealthy", status=0 if healthy else 1, http=200 if healthy else 503
    )


def revision_of(app: Flask) -> str:
    """The database's migration revision, or "" when it has none (or cannot be read)."""
    from alembic.runtime.migration import MigrationContext

    try:
        with app.app_context(), db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() or ""
    except Exception:  # the database check above already says why
        return ""
