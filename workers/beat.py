"""The beat schedule lives in ``celery_app.celery_config``; this runs beat inside a process."""

from __future__ import annotations

import threading

from celery import Celery
from celery.beat import Scheduler
from celery.beat import Service


def start_embedded_beat(celery_app: Celery) -> tuple[Service, threading.Thread]:
    """Run beat on a daemon thread (the worker's ``-B`` forks and cannot see ``memory://``)."""
    service = Service(celery_app, max_interval=0.2, scheduler_cls=Scheduler)
    thread = threading.Thread(target=service.start, name="flowexec-beat", daemon=True)
    thread.start()
    return service, thread
