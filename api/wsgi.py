"""``gunicorn api.wsgi:app``: logging, then the app; no service token, no start.

Each gunicorn worker would otherwise make up a token of its own, and none would be known.
"""

import os

from api.app import create_app
from flowexec import logcontext

if not (os.environ.get("FLOWEXEC_TOKEN") or os.environ.get("FLOWEXEC_TOKENS")):
    raise SystemExit("flowexec: error: set FLOWEXEC_TOKEN (or FLOWEXEC_TOKENS) before serving with gunicorn")

logcontext.configure()
app = create_app()
