"""Serving the gateway: on a daemon thread (tests, embedded use) or in the foreground (CLI)."""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from gateway.app import create_gateway
from gateway.auth import DEFAULT_TOKENS
from gateway.auth import DEFAULT_USERS
from gateway.context import gateway_of

logger = logging.getLogger(__name__)


@dataclass
class GatewayServer:
    """A gateway served on a daemon thread (tests, embedded use)."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread
    stopping: threading.Event
    waker: tuple[socket.socket, socket.socket]

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.port}"

    def shutdown(self) -> None:
        """Stop serving (at once: the serving thread is woken), kill job processes and close
        the history file."""
        self.stopping.set()
        self.waker[1].send(b"\0")
        self.thread.join(timeout=10)
        self.server.server_close()
        for end in self.waker:
            end.close()
        gateway_of(self.app).close()


def _serve(server: BaseWSGIServer, stopping: threading.Event, wake: socket.socket) -> None:
    """Handle requests until ``stopping`` is set. ``serve_forever`` would notice a shutdown only
    at its next poll (every ``poll_interval``), which every ``flowexec run`` waited out at its
    end; here a byte on ``wake`` ends the wait at once."""
    with selectors.DefaultSelector() as selector:
        selector.register(server.socket, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        while not stopping.is_set():
            for key, _ in selector.select():
                if key.fileobj is server.socket and not stopping.is_set():
                    server.handle_request()  # the socket is readable: it accepts at once


class _QuietHandler(WSGIRequestHandler):
    """No access log: an embedded gateway must not write over the caller's output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def serve_gateway(app: Flask, host: str = "127.0.0.1", port: int = 0) -> GatewayServer:
    """Serve the app on a thread (port 0 picks a free port; see ``.url``)."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    stopping, waker = threading.Event(), socket.socketpair()
    thread = threading.Thread(
        target=_serve, args=(server, stopping, waker[0]), name="linkis-gateway", daemon=True
    )
    thread.start()
    logger.info("gateway serving url=http://%s:%s", host, server.server_port)
    return GatewayServer(app=app, server=server, thread=thread, stopping=stopping, waker=waker)


def run_gateway(
    host: str,
    port: int,
    state_dir: str | Path,
    users: Mapping[str, str] = DEFAULT_USERS,
    tokens: Mapping[str, str] = DEFAULT_TOKENS,
    faults_enabled: bool = False,
    max_running: int = 50,
    simulate: frozenset[str] = frozenset(),
) -> None:
    """Serve the gateway in the foreground until interrupted (``flowexec gateway``)."""
    app = create_gateway(
        state_dir,
        users=users,
        tokens=tokens,
        faults_enabled=faults_enabled,
        max_running_per_group=max_running,
        max_queued_per_group=max(1000, 2 * max_running),
        simulate=simulate,
    )
    server = make_server(host, port, app, threaded=True)
    logger.info("gateway serving url=http://%s:%s state_dir=%s", host, server.server_port, state_dir)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("gateway interrupted")
    finally:
        server.server_close()
        gateway_of(app).close()
