"""``celery -A api.worker worker``: logging, the Flask app, and its Celery app."""

from __future__ import annotations

from api.app import create_app
from flowexec import logcontext

logcontext.configure()
flask_app = create_app()
celery = app = flask_app.extensions["celery"]
