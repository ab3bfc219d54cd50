"""Preflight: is the database reachable and at the migration head, does the broker answer?

The entry points (``api.wsgi``, ``api.worker``, the ``flowexec`` command) run these checks at
start and refuse with one line naming the URL they tried (password masked) and the fix;
``/healthz`` and ``flowexec doctor`` report the same checklist. ``create_app`` runs none of it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from flask import Flask

#: The exit status of a process that refuses to start: a dependency is missing or misconfigured.
EXIT_NOT_READY = 3
UPGRADE_HINT = "run `flowexec db upgrade` with the same FLOWEXEC_DATABASE_URL"


@dataclass(frozen=True)
class Check:
    """One line of the checklist: ``ok`` or what is wrong, and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.name}: {self.detail}"
        return f"{text}; {self.fix}" if self.fix and not self.ok else text


class NotReady(Exception):
    """A dependency failed its check: the message is the one line to show."""


def mask(url: str) -> str:
    """A URL fit to print: its password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL: a broker URL
        from kombu.utils.url import maybe_sanitize_url

        return str(maybe_sanitize_url(url, mask="***"))


def _reason(exc: BaseException) -> str:
    """The first line of a driver error, without SQLAlchemy's background link."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    return text[:200]


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from api.app import migrations_dir

    heads = ScriptDirectory(migrations_dir()).get_heads()
    return ",".join(sorted(heads))


def database_checks(app: Flask) -> list[Check]:
    """The database answers, and its schema is at the migration head."""
    from alembic.runtime.migration import MigrationContext

    from api.extensions import db

    url = mask(app.config["SQLALCHEMY_DATABASE_URI"])
    head = head_revision()
    try:
        with app.app_context(), db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:  # a report, not a crash: any driver error means "not reachable"
        return [
            Check("database", False, f"{url} not reachable: {_reason(exc)}", "check FLOWEXEC_DATABASE_URL"),
            Check("schema", False, "unknown (no database)"),
        ]
    database = Check("database", True, f"{url} reachable")
    if current == head:
        return [database, Check("schema", True, f"at the migration head {head}")]
    found = f"at revision {current}" if current else "empty (no migrations applied)"
    return [database, Check("schema", False, f"{found}, the head is {head}", UPGRADE_HINT)]


def broker_check(app: Flask) -> Check:
    """The broker accepts a connection (the embedded memory broker always does)."""
    celery_app: Any = app.extensions["celery"]
    url = mask(str(celery_app.conf.broker_url))
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0.2, interval_step=0.2, timeout=3)
    except Exception as exc:  # any transport error means "not reachable"
        return Check("broker", False, f"{url} not reachable: {_reason(exc)}", "check FLOWEXEC_BROKER_URL")
    return Check("broker", True, f"{url} reachable")


def linkis_check(url: str | None) -> Check:
    """Linkis (or the local gateway) answers HTTP at all: a wrong URL shows at once."""
    import requests

    if not url:
        return Check("linkis", True, "the embedded local gateway (FLOWEXEC_LINKIS_URL not set)")
    try:
        requests.get(url.rstrip("/") + "/api/rest_j/v1/", timeout=5)
    except requests.RequestException as exc:
        from flowexec.linkis.client import short_reason

        return Check(
            "linkis", False, f"{url} not reachable: {short_reason(exc)}", "check FLOWEXEC_LINKIS_URL"
        )
    return Check("linkis", True, f"{url} answers")


def checks(app: Flask, broker: bool = True, linkis: bool = False) -> list[Check]:
    """The checklist: database, schema, then the broker and Linkis if asked."""
    found = database_checks(app)
    if broker:
        found.append(broker_check(app))
    if linkis:
        found.append(linkis_check(app.extensions["flowexec"].settings.linkis_url))
    return found


def require(app: Flask, broker: bool = True, linkis: bool = False) -> None:
    """Raise ``NotReady`` with the first failed check's line."""
    for check in checks(app, broker=broker, linkis=linkis):
        if not check.ok:
            raise NotReady(f"{check.line()} (see `flowexec doctor`)")


def start_or_exit(what: str, broker: bool = True) -> Flask:
    """Build the app of a long-running process and check it, or exit with one line on stderr."""
    from api.app import create_app
    from flowexec.config import ConfigError

    try:
        app = create_app()
        require(app, broker=broker)
    except (NotReady, ConfigError) as exc:
        print(f"flowexec {what}: refusing to start: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_NOT_READY) from None
    return app
