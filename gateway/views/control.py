"""``flowexec-test``: the test controls (fault rules, reset, evict, submit count); faults only."""

from __future__ import annotations

from flask import Response
from flask import request

from gateway.context import Route
from gateway.context import current
from gateway.envelope import reply
from gateway.protocol import Refusal


def add_fault_view() -> Response:
    rule = current().faults.add(request.get_json(silent=True) or {})
    return reply(0, "OK", {"action": rule.action, "path": rule.path.pattern, "times": rule.times})


def clear_faults_view() -> Response:
    current().faults.clear()
    return reply(0, "OK")


def reset_view() -> Response:
    current().reset()
    return reply(0, "OK")


def evict_view(task_id: int) -> Response:
    if not current().entrance.evict(task_id):
        raise Refusal(f"task {task_id} is not in memory")
    return reply(0, "OK", {"taskID": task_id})


def submits_view() -> Response:
    return reply(0, "OK", {"submits": current().entrance.submits})


ROUTES: tuple[Route, ...] = (
    ("/faults", ("POST",), add_fault_view),
    ("/faults", ("DELETE",), clear_faults_view),
    ("/reset", ("POST",), reset_view),
    ("/evict/<int:task_id>", ("POST",), evict_view),
    ("/submits", ("GET",), submits_view),
)
