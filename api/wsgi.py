"""``gunicorn api.wsgi:app``: logging, then the app."""

from api.app import create_app
from flowexec import logcontext

logcontext.configure()
app = create_app()
