"""``gunicorn api.wsgi:app``: logging, then the app, once the database and the broker check out."""

from api import preflight
from flowexec import logcontext

logcontext.configure()
app = preflight.start_or_exit("web")
