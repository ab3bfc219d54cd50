"""``celery -A benchmarks.worker worker``: flowexec's worker plus the two probes ``flowexec bench`` times.

The probes measure what Celery and MariaDB allow on this machine, through the same app, broker,
pool and app-context task base as ``run_node``: ``hop`` re-sends itself (one Celery hop each),
``touch`` runs one database transaction (one fan-out unit).
"""

from __future__ import annotations

from api.worker import celery
from api.worker import flask_app
from benchmarks.probes import register_probes

register_probes(celery)
app = celery

__all__ = ["app", "celery", "flask_app"]
