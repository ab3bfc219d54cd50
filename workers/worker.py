"""``celery -A workers.worker worker``: logging, the Flask app, and its Celery app."""

from __future__ import annotations

import logging

from api import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
flask_app = create_app()
celery = app = flask_app.extensions["celery"]
