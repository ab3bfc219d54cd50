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
    """Per-app state: one pooled Linkis client per process, made on first use."""

    settings: Settings
    _linkis: Linkis | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def linkis(self) -> Linkis:
        with self._lock:
            if self._linkis is None:
                from flowexec.linkis.client import LinkisClient

                if not self.settings.linkis_url:
                    raise RuntimeError("FLOWEXEC_LINKIS_URL is not set and no local gateway runs")
                self._linkis = LinkisClient(
                    self.settings.linkis_url, token=self.settings.linkis_token,
                    user=self.settings.linkis_user or "hadoop",
                )
            return self._linkis


def runtime() -> Runtime:
    """Return the current app's runtime (inside an app context)."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
