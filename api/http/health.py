"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app
from sqlalchemy import text

from api.extensions import db
from api.http import replies
from api.http.envelope import reply
from api.http.openapi import operation

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@operation(
    "Readiness: the database and the broker answer",
    tags=("meta",),
    data=replies.HealthData,
    errors=(),
    also={503: "unhealthy (status 1)"},
    public=True,
)
def healthz() -> Response:
    """Ready when the database and the broker answer."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this is the health check
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        with current_app.extensions["celery"].connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return reply(
        checks, "OK" if healthy else "unhealthy", status=0 if healthy else 1, http=200 if healthy else 503
    )
