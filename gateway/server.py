"""Serving the gateway: on a daemon thread (tests, embedded use) or in the foreground (CLI)."""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import cast

from flask import Flask
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import ThreadedWSGIServer
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

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
        if isinstance(self.server, KeepAliveServer):
            self.server.end_connections()
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


class _Drained:
    """What werkzeug's after-reply drain reads on a kept-alive connection: nothing (it would
    otherwise read on into the next request, which is not there to be thrown away)."""

    def read(self, _size: int = -1) -> bytes:
        return b""


class KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's handler, keeping HTTP/1.1 connections open between requests.

    werkzeug's server ends each connection after one reply, so every Linkis call cost a new
    TCP connection and a new thread to serve it. Here a connection serves request after
    request; the part of a body the view did not read is read after the reply, so the next
    request starts where it should. A chunked body, a large unread one, or a client or
    server that says so ends the connection as before.
    """

    server: KeepAliveServer
    #: An idle connection is closed after this many seconds, and its thread ends.
    timeout = 60
    #: A reply is written in pieces (status and headers, then body): without this, the
    #: second waits for the client's delayed ACK, 40 ms, on a connection that stays open.
    disable_nagle_algorithm = True
    #: An unread rest of a body larger than this ends the connection instead of being read.
    MAX_UNREAD = 1 << 20
    _body: LimitedStream | None = None
    _keep = False
    _length = 0

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        length = environ.get("CONTENT_LENGTH") or "0"
        self._keep = (
            not environ.get("wsgi.input_terminated")
            and length.isdigit()
            and self.request_version == "HTTP/1.1"
            and self.headers.get("Connection", "").lower() != "close"
            and not self.server.ending.is_set()
        )
        if self._keep:
            self._length = int(length)
            self._body = LimitedStream(environ["wsgi.input"], self._length)
            environ["wsgi.input"] = self._body
            self._rfile, self.rfile = self.rfile, cast(Any, _Drained())
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if self._keep and keyword.lower() == "connection" and value == "close":
            return  # werkzeug's fixed "close": http.server keeps an HTTP/1.1 connection open
        super().send_header(keyword, value)

    def run_wsgi(self) -> None:
        try:
            super().run_wsgi()
        finally:
            if self._keep:
                self.rfile = self._rfile
                self._keep = False
                self._finish_body()

    def _finish_body(self) -> None:
        """Read what the view left of the body, or end the connection."""
        body, self._body = self._body, None
        if self.close_connection or body is None:
            return
        try:
            if self._length - body.tell() > self.MAX_UNREAD:
                self.close_connection = True
            else:
                body.exhaust()
        except Exception:  # the client went away mid-body: this connection is done
            self.close_connection = True


class _QuietHandler(KeepAliveHandler):
    """No access log: an embedded gateway must not write over the caller's output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class KeepAliveServer(ThreadedWSGIServer):
    """A thread per connection, as werkzeug's threaded server, its open connections known so
    that a shutdown ends them (a kept-alive connection would otherwise outlive the server)."""

    def __init__(self, host: str, port: int, app: Flask, handler: type[KeepAliveHandler]) -> None:
        super().__init__(host, port, app, handler=handler)
        self.ending = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def end_connections(self) -> None:
        """No more requests on open connections: each ends after the reply under way."""
        self.ending.set()
        with self._lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RD)  # a thread waiting for a request reads EOF
                except OSError:
                    pass


def serve_gateway(app: Flask, host: str = "127.0.0.1", port: int = 0) -> GatewayServer:
    """Serve the app on a thread (port 0 picks a free port; see ``.url``)."""
    server = KeepAliveServer(host, port, app, _QuietHandler)
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
    server = KeepAliveServer(host, port, app, KeepAliveHandler)
    logger.info("gateway serving url=http://%s:%s state_dir=%s", host, server.server_port, state_dir)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("gateway interrupted")
    finally:
        server.end_connections()
        server.server_close()
        gateway_of(app).close()
