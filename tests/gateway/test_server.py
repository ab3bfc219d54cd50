"""The gateway's HTTP server: one connection serves request after request (HTTP/1.1 keep-alive),
a body the view never read does not spill into the next request, and a shutdown ends
connections that were kept open."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

from gateway import GatewayServer
from gateway import create_gateway
from gateway import serve_gateway
from gateway.protocol import PREFIX
from tests.gateway.support import TOKENS

SUBMIT = {
    "executionContent": {"code": "true", "runType": "shell"},
    "labels": {"engineType": "shell-1", "userCreator": "hadoop-nodeexecution"},
}


def _connect(gateway: GatewayServer) -> http.client.HTTPConnection:
    url = urlsplit(gateway.url)
    return http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=5)


def _call(
    conn: http.client.HTTPConnection, method: str, path: str, body: object = None, **headers: str
) -> tuple[int, dict[str, object], bool]:
    payload = None if body is None else json.dumps(body)
    if payload is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, PREFIX + path, body=payload, headers=headers)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read()), resp.will_close


def test_one_connection_serves_many_requests_even_after_an_unread_body(gateway: GatewayServer) -> None:
    conn = _connect(gateway)
    try:
        # no credentials: refused before the view reads the body, which must not become the
        # start of the next request on this connection
        code, body, closes = _call(conn, "POST", "/entrance/submit", SUBMIT)
        assert (code, body["status"], closes) == (401, -1, False)
        sock = conn.sock
        code, body, closes = _call(conn, "POST", "/entrance/submit", SUBMIT, **TOKENS)
        assert (code, body["status"], closes) == (200, 0, False)
        task_id = body["data"]["taskID"]  # type: ignore[index]
        code, body, closes = _call(conn, "GET", f"/jobhistory/{task_id}/get", **TOKENS)
        assert (code, body["status"], closes) == (200, 0, False)
        assert conn.sock is sock  # the same connection all along
    finally:
        conn.close()


def test_a_client_that_asks_to_close_gets_its_connection_closed(gateway: GatewayServer) -> None:
    conn = _connect(gateway)
    try:
        code, _body, closes = _call(conn, "GET", "/jobhistory/1/get", Connection="close", **TOKENS)
        assert code == 400 and closes
    finally:
        conn.close()


def test_a_shutdown_ends_connections_kept_open(tmp_path: Path) -> None:
    server = serve_gateway(create_gateway(tmp_path))
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 0), timeout=5)
    try:
        request = f"GET {PREFIX}/jobhistory/1/get HTTP/1.1\r\nHost: x\r\n"
        request += "".join(f"{k}: {v}\r\n" for k, v in TOKENS.items()) + "\r\n"
        sock.sendall(request.encode())
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
            reply += sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 400") and b"Connection: close" not in reply
        server.shutdown()
        assert sock.recv(65536) == b""  # the server ended the connection
    finally:
        sock.close()
