"""gunicorn settings hooks: ``gunicorn -c python:api.gunicorn_conf api.wsgi:app``.

Eureka (``FLOWEXEC_EUREKA_URL``): one registration per gunicorn instance, however many workers.
The master registers once it listens (``when_ready``, before it forks the workers), heartbeats
from a thread of its own, and leaves Eureka on shutdown (``on_exit``). It also exports the
advertised host and port (``FLOWEXEC_EUREKA_HOST``/``FLOWEXEC_EUREKA_PORT``) so the workers,
which build the app after the fork, put this instance's ``host:port`` in their execIDs. So do not
``--preload`` the app unless both variables are set.
"""

from __future__ import annotations

import os
from typing import Any

from api.dss import eureka
from flowexec.config import Settings

_registration: list[eureka.Registration] = []


def _listening_port(server: Any) -> int | None:
    for listener in getattr(server, "LISTENERS", []):
        name = listener.sock.getsockname()
        if isinstance(name, tuple) and len(name) >= 2:
            return int(name[1])
    return None


def when_ready(server: Any) -> None:
    settings = Settings.from_env(os.environ)
    advertised = eureka.advertised(settings, _listening_port(server))
    if not advertised:
        return
    os.environ["FLOWEXEC_EUREKA_HOST"] = str(advertised["eureka_host"])
    os.environ["FLOWEXEC_EUREKA_PORT"] = str(advertised["eureka_port"])
    registration = eureka.registration(settings.with_overrides(advertised))
    if registration is not None:
        registration.start()
        _registration.append(registration)


def on_exit(server: Any) -> None:
    while _registration:
        _registration.pop().stop()
