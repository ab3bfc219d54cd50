"""The composition root: ``create_app`` builds the Flask app from settings, extensions, Celery, blueprints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from api import console
from api.extensions import db
from api.extensions import migrate
from flowexec.config import Settings
from flowexec.store import db as store
from flowexec.store import projections
from flowexec.store.db import configure_engine
from flowexec.store.db import engine_options
from workers.celery_app import celery_init_app
from workers.runtime import EXTENSION
from workers.runtime import Runtime


def create_app(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the app from ``FLOWEXEC_*`` variables, with test or CLI ``overrides`` on top."""
    settings = Settings.from_env(os.environ if environ is None else environ)
    if overrides:
        settings = settings.with_overrides(overrides)
    if settings.database_url is None:
        os.makedirs(settings.home, exist_ok=True)
    app = Flask("flowexec")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.sqlalchemy_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.sqlalchemy_url),
        MAX_CONTENT_LENGTH=settings.max_body,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DSS's web reads the lists in order
    db.init_app(app)
    store.bind(lambda: db.session)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=migrations_dir())
    projections.connect()
    app.extensions[EXTENSION] = Runtime(settings)
    celery_init_app(app, settings)
    _register(app)
    console.init_app(app, settings)
    return app


def migrations_dir() -> str:
    import migrations

    return os.path.dirname(os.path.abspath(migrations.__file__))


def _register(app: Flask) -> None:
    from api.http import entrance
    from api.http import envelope
    from api.http import executions
    from api.http import health
    from api.http import metrics
    from api.http import openapi

    app.register_blueprint(entrance.bp)
    app.register_blueprint(executions.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(openapi.bp)
    envelope.register_handlers(app)
