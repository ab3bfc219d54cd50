"""``gunicorn api.wsgi:app``: logging, then the app."""

import logging

from api import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
app = create_app()
