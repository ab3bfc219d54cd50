"""``gunicorn api.wsgi:app``: logging, then the app, once the database and the broker check out;
no service token, no start.

Each gunicorn worker would otherwise make up a token of its own, and none would be known.
"""

import os
import sys

from api import preflight
from flowexec import logcontext

if not (os.environ.get("FLOWEXEC_TOKEN") or os.environ.get("FLOWEXEC_TOKENS")):
    print(
        "flowexec web: refusing to start: set FLOWEXEC_TOKEN (or FLOWEXEC_TOKENS) before serving with gunicorn",
        file=sys.stderr,
        flush=True,
    )
    raise SystemExit(preflight.EXIT_NOT_READY)

logcontext.configure()
app = preflight.start_or_exit("web")
