"""Fault injection, only when enabled: per-request rules and the broken answers they give.

Per-job faults (``flowexec.fault`` in the runtime configuration) are read by the entrance and
acted on by the runner; their names are in ``JOB_FAULTS``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response
from flask import g
from flask import request

from gateway.envelope import reply
from gateway.envelope import unauthenticated_reply
from gateway.protocol import JSON_TYPE
from gateway.protocol import Refusal
from gateway.protocol import now_ms
from gateway.protocol import to_seconds

FAULT_ACTIONS = frozenset(
    {
        "http_500",
        "http_503",
        "spring_500",
        "status_1",
        "unauth",
        "slow",
        "drop",
        "drop_after",
        "not_json",
    }
)
JOB_FAULTS = frozenset({"fail", "delay", "hang", "ignore_kill", "evict"})


@dataclass
class FaultRule:
    """A per-request fault: ``times`` None means forever."""

    method: str | None
    path: re.Pattern[str]
    action: str
    times: int | None
    seconds: float


class Faults:
    """Per-request fault rules, consumed in order of registration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, spec: Mapping[str, Any]) -> FaultRule:
        action = str(spec.get("action", ""))
        if action not in FAULT_ACTIONS:
            raise Refusal(f"unknown fault action {action!r}; known: {sorted(FAULT_ACTIONS)}")
        times = spec.get("times", 1)
        rule = FaultRule(
            method=str(spec["method"]).upper() if spec.get("method") not in (None, "", "*") else None,
            path=re.compile(str(spec.get("path") or ".*")),
            action=action,
            times=None if times is None or int(times) < 0 else int(times),
            seconds=to_seconds(spec.get("seconds"), 2.0),
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """Return the first live rule matching this request, spending one of its ``times``."""
        with self._lock:
            for rule in self._rules:
                if rule.method not in (None, method) or not rule.path.search(path):
                    continue
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                return rule
        return None


def drop_response() -> Response:
    """A response that closes the connection before any byte is sent (werkzeug server)."""
    sock = request.environ.get("werkzeug.socket")

    def body() -> Iterator[bytes]:
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError("flowexec fault: connection dropped")
        yield b""  # pragma: no cover - makes this a generator

    return Response(body(), status=200, content_type=JSON_TYPE)


def fault_response(rule: FaultRule) -> Response | None:
    """Apply a per-request fault; None lets the request go on (``slow``, ``drop_after``)."""
    if rule.action == "slow":
        time.sleep(rule.seconds)
        return None
    if rule.action == "drop_after":
        g.drop_after = True
        return None
    if rule.action == "drop":
        return drop_response()
    if rule.action in ("http_500", "http_503"):
        code = 500 if rule.action == "http_500" else 503
        name = "Internal Server Error" if code == 500 else "Service Unavailable"
        return reply(code, f"{name}, with request path:{request.path}", [], code)
    if rule.action == "spring_500":
        body = {
            "timestamp": now_ms(),
            "status": 500,
            "error": "Internal Server Error",
            "path": request.path,
        }
        return Response(json.dumps(body), status=500, content_type=JSON_TYPE)
    if rule.action == "status_1":
        return reply(1, "flowexec fault: injected soft error", {})
    if rule.action == "unauth":
        return unauthenticated_reply()
    return Response(
        "<html><body><h1>502 Bad Gateway</h1></body></html>", status=200, content_type="text/html"
    )
