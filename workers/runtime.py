"""What a task needs besides its ids: settings and the process's Linkis client."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from dataclasses import field

from flask import current_app

from flowexec.config import Settings
from flowexec.linkis.port import Linkis

EXTENSION = "flowexec"


@dataclass
class Runtime:
    """Per-app state: pooled Linkis clients, one per Linkis user, made on first use.

    Linkis shows a job's status and history only to the user it runs as (``Token-User``),
    so each user's jobs are followed with that user's client.
    """

    settings: Settings
    _clients: dict[str, Linkis] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def linkis_for(self, user: str) -> Linkis:
        with self._lock:
            if user not in self._clients:
                from flowexec.linkis.client import LinkisClient

                settings = self.settings
                if not settings.linkis_url:
                    raise RuntimeError("FLOWEXEC_LINKIS_URL is not set and no local gateway runs")
                from workers.metrics import InstrumentedLinkis

                # A password logs in as FLOWEXEC_LINKIS_USER; everyone else uses token headers.
                password = settings.linkis_password if user == settings.linkis_user else None
                # retries=1: a transient error goes back to the task, which retries it with
                # Celery (self.retry / autoretry); no worker thread sleeps in the client.
                client = LinkisClient(
                    settings.linkis_url,
                    token=settings.linkis_token,
                    user=user,
                    retries=1,
                    password=password,
                    legacy_execute=settings.linkis_legacy_execute,
                )
                self._clients[user] = InstrumentedLinkis(client)
            return self._clients[user]


def runtime() -> Runtime:
    """Return the current app's runtime (inside an app context)."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
