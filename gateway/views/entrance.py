"""``entrance``: submit (and legacy execute), status, progress, log, kill, killJobs, pause."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import g
from flask import request

from gateway.context import Route
from gateway.context import checked_exec_id
from gateway.context import current
from gateway.context import instance
from gateway.context import int_arg
from gateway.envelope import reply
from gateway.protocol import Refusal
from gateway.submit import parse_execute
from gateway.submit import parse_submit


def submit_view() -> Response:
    req = parse_submit(request.get_json(silent=True))
    return reply(0, "OK", current().entrance.submit(req, g.user, bool(g.admin), instance()))


def execute_view() -> Response:
    req = parse_execute(request.get_json(silent=True), g.user)
    return reply(0, "OK", current().entrance.submit(req, g.user, bool(g.admin), instance()))


def status_view(exec_id: str) -> Response:
    missing = "job {exec_id} is not in memory(任务不存在于内存中)"
    job = current().entrance.owned(checked_exec_id(exec_id), int_arg("taskID"), g.user, missing)
    return reply(0, "OK", {"status": job.state, "execID": exec_id})


def progress_view(exec_id: str) -> Response:
    job = current().entrance.owned(
        checked_exec_id(exec_id), int_arg("taskID"), g.user, "job {exec_id} is not in memory"
    )
    if job.state in ("Inited", "Scheduled", "WaitForRetry"):
        raise Refusal(f"job {exec_id} has no progress yet")
    return reply(0, "OK", {"progress": job.progress, "execID": exec_id, "progressInfo": []})


def log_view(exec_id: str) -> Response:
    entrance = current().entrance
    job = entrance.owned(
        checked_exec_id(exec_id), int_arg("taskID"), g.user, "job {exec_id} has ended, read its log file"
    )
    from_line, size = int_arg("fromLine", 1), int_arg("size", 100)
    return reply(
        0,
        "OK",
        entrance.log_page(job, 1 if from_line is None else from_line, 100 if size is None else size),
    )


def kill_view(exec_id: str) -> Response:
    message, data = current().entrance.kill(checked_exec_id(exec_id), int_arg("taskID"), g.user)
    return reply(0, message, data)


def kill_jobs_view(exec_id: str) -> Response:
    body = request.get_json(silent=True) or {}
    ids, task_ids = body.get("idList") or [], body.get("taskIDList") or []
    if not isinstance(ids, list) or not isinstance(task_ids, list) or len(ids) != len(task_ids):
        raise Refusal("idList and taskIDList must be lists of the same length")
    messages = [_kill_one(str(e), t) for e, t in zip(ids, task_ids, strict=True)]
    return reply(0, "OK", {"messages": messages})


def _kill_one(exec_id: str, task_id: Any) -> dict[str, Any]:
    method = f"/api/entrance/{exec_id}/kill"
    try:
        message, data = current().entrance.kill(exec_id, int(task_id), g.user)
        return {"method": method, "status": 0, "message": message, "data": data}
    except (Refusal, ValueError, TypeError) as exc:
        return {"method": method, "status": 1, "message": str(exc), "data": {}}


def pause_view(exec_id: str) -> Response:
    return reply(0, "OK", {"execID": exec_id})


ROUTES: tuple[Route, ...] = (
    ("/entrance/submit", ("POST",), submit_view),
    ("/entrance/execute", ("POST",), execute_view),
    ("/entrance/<exec_id>/status", ("GET",), status_view),
    ("/entrance/<exec_id>/progress", ("GET",), progress_view),
    ("/entrance/<exec_id>/log", ("GET",), log_view),
    ("/entrance/<exec_id>/kill", ("GET", "POST"), kill_view),
    ("/entrance/<exec_id>/killJobs", ("POST",), kill_jobs_view),
    ("/entrance/<exec_id>/pause", ("GET",), pause_view),
)
