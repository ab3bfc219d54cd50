"""``celery -A api.worker worker`` (and ``beat``): logging, the Flask app once the database and
the broker check out, and its Celery app."""

from __future__ import annotations

from api import preflight
from flowexec import logcontext

logcontext.configure()
flask_app = preflight.start_or_exit("worker")
celery = app = flask_app.extensions["celery"]
