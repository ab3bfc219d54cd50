"""Registration in DSS's Eureka, so that the Linkis gateway routes the flow-entrance routes here.

The wire calls are py-eureka-client's (``POST apps/{APP}``, ``PUT apps/{APP}/{id}`` heartbeats,
``DELETE`` on the way out); the heartbeat loop is ours, so that stopping it really stops it (the
library's own loop re-registers after a cancel). Linkis's timing: a heartbeat every 4 s, the
lease expires after 12 s. ``hostName`` equals ``ipAddr``: the gateway's Ribbon client routes a
Linkis >= 1.4 execID to the instance whose ``host:port`` it names.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit

from py_eureka_client import eureka_basic

from flowexec.config import ConfigError
from flowexec.config import Settings

log = logging.getLogger(__name__)

RENEWAL_SECONDS = 4
DURATION_SECONDS = 12


def reachable_ip(eureka_url: str) -> str:
    """The local address that routes to Eureka (a UDP ``connect`` sends nothing)."""
    parts = urlsplit(eureka_url.split(",")[0].strip())
    target = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((socket.gethostbyname(target), port))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def advertised(settings: Settings, serving_port: int | None) -> dict[str, Any]:
    """Overrides naming this instance (host, port) once Eureka is configured; else nothing."""
    if not settings.eureka_url:
        return {}
    port = settings.eureka_port or serving_port
    if not port:
        raise ConfigError("FLOWEXEC_EUREKA_URL is set: give a fixed port (--port or FLOWEXEC_EUREKA_PORT)")
    return {"eureka_host": settings.eureka_host or reachable_ip(settings.eureka_url), "eureka_port": port}


class Registration:
    """One instance in Eureka: registered on ``start``, renewed every 4 s, cancelled on ``stop``."""

    def __init__(self, url: str, app: str, host: str, port: int, interval: float = RENEWAL_SECONDS) -> None:
        self.url = url.rstrip("/") + "/"
        self.app = app.upper()
        self.host, self.port, self.interval = host, port, interval
        self.instance_id = f"{host}:{app.lower()}:{port}"
        self.dirty = int(time.time() * 1000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="eureka-heartbeat", daemon=True)

    def _instance(self, status: str) -> eureka_basic.Instance:
        return eureka_basic.Instance(
            instanceId=self.instance_id,
            app=self.app,
            ipAddr=self.host,
            hostName=self.host,
            port=eureka_basic.PortWrapper(port=self.port, enabled=True),
            securePort=eureka_basic.PortWrapper(port=443, enabled=False),
            vipAddress=self.app.lower(),
            secureVipAddress=self.app.lower(),
            dataCenterInfo=eureka_basic.DataCenterInfo(name="MyOwn", className=_MY_OWN),
            leaseInfo=eureka_basic.LeaseInfo(
                renewalIntervalInSecs=int(self.interval), durationInSecs=DURATION_SECONDS
            ),
            status=status,
            overriddenstatus="UNKNOWN",
            homePageUrl=f"http://{self.host}:{self.port}/",
            healthCheckUrl=f"http://{self.host}:{self.port}/health/ready",
            statusPageUrl=f"http://{self.host}:{self.port}/health/live",
            metadata={"linkis.app.version": "flowexec"},
            lastUpdatedTimestamp=self.dirty,
            lastDirtyTimestamp=self.dirty,
        )

    def register(self, status: str = "UP") -> None:
        asyncio.run(eureka_basic.register(self.url, self._instance(status)))

    def heartbeat(self) -> None:
        """Renew the lease; an instance Eureka forgot (404) registers again."""
        try:
            asyncio.run(eureka_basic.send_heartbeat(self.url, self.app, self.instance_id, self.dirty))
        except HTTPError as exc:
            if exc.code != 404:
                raise
            self.register()

    def start(self) -> None:
        try:
            self.register()
            log.info("registered in Eureka app=%s instance=%s", self.app, self.instance_id)
        except Exception as exc:  # Eureka may come up later: the heartbeat loop keeps trying
            log.warning("Eureka registration failed, retrying every %s s: %s", self.interval, exc)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.heartbeat()
            except Exception as exc:
                log.warning("Eureka heartbeat failed: %s", exc)

    def stop(self) -> None:
        """Stop renewing, then leave Eureka (DOWN, then cancel) so the gateway stops routing here."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.interval + 5)
        try:
            self.register("DOWN")
            asyncio.run(eureka_basic.cancel(self.url, self.app, self.instance_id))
            log.info("left Eureka app=%s instance=%s", self.app, self.instance_id)
        except Exception as exc:
            log.warning("Eureka deregistration failed (the lease expires in %s s): %s", DURATION_SECONDS, exc)


_MY_OWN = "com.netflix.appinfo.MyDataCenterInfo"


def registration(settings: Settings) -> Registration | None:
    """The registration these settings ask for (they must name the host and port), or None."""
    route = settings.route
    if route is None or settings.eureka_url is None or settings.eureka_port is None:
        return None
    host = route.instance.rsplit(":", 1)[0]
    return Registration(settings.eureka_url, settings.eureka_app, host, settings.eureka_port)


@contextmanager
def registered(settings: Settings) -> Iterator[Registration | None]:
    """Registered for the duration of the block (nothing when Eureka is not configured)."""
    reg = registration(settings)
    if reg is not None:
        reg.start()
    try:
        yield reg
    finally:
        if reg is not None:
            reg.stop()
