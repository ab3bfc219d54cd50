"""Celery bound to the Flask app: an app-context Task base, configuration, signal wiring."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery import Task
from flask import Flask
from kombu.entity import Queue

from flowexec import logcontext
from flowexec.config import Settings
from workers import transport
from workers.queues import CONTROL
from workers.queues import QUEUES
from workers.queues import ROUTES


def celery_config(settings: Settings) -> dict[str, Any]:
    """Derive Celery's settings from flowexec's."""
    embedded = settings.embedded
    transport_options: dict[str, Any] = (
        {"polling_interval": settings.memory_broker_poll}
        if embedded
        else {"visibility_timeout": settings.visibility_timeout}
    )
    return {
        "broker_url": settings.broker_url or "memory://localhost/",
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "result_backend": None,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "accept_content": ["json"],
        "task_serializer": "json",
        "task_default_queue": CONTROL,
        "task_queues": [Queue(name) for name in QUEUES],  # type: ignore[no-untyped-call]
        "task_routes": ROUTES,
        "worker_hijack_root_logger": False,
        # Workers send task events only while a monitor asks for them: Flower switches them on
        # when it starts and every few seconds after (its --enable_events), and with nobody
        # listening they cost a third of a control node's step. Senders always announce the
        # task (task-sent), so Flower lists queued tasks too.
        "worker_send_task_events": False,
        "task_send_sent_event": True,
        "beat_schedule": {
            "flowexec-reconcile": {
                "task": "flowexec.reconcile",
                "schedule": settings.reconcile_every,
                "options": {"queue": CONTROL, "expires": settings.reconcile_every * 2},
            }
        },
    }


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    """Build the Celery app whose tasks each run inside a fresh Flask app context."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            logcontext.clear()
            with app.app_context():
                return self.run(*args, **kwargs)

    transport.install()
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(settings))
    celery_app.set_default()
    app.extensions["celery"] = celery_app

    from workers import lifecycle
    from workers import tasks  # noqa: F401  (registers the shared tasks)

    lifecycle.connect(app, celery_app)
    if settings.metrics_port:
        lifecycle.serve_metrics_when_ready(celery_app, settings.metrics_port, settings.metrics_host)
    return celery_app
