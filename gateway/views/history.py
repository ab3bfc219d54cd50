"""``jobhistory``: one task by taskID, and the filtered, paged task list of the caller."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import g
from flask import request

from gateway.context import Route
from gateway.context import current
from gateway.context import int_arg
from gateway.envelope import reply
from gateway.history import task_json
from gateway.protocol import Refusal


def history_get_view(task_id: str) -> Response:
    if not task_id.isdigit():
        raise Refusal(f"taskID {task_id} is not a number")
    return reply(0, "OK", {"task": task_json(current().entrance.task(int(task_id), g.user))})


def history_list_view() -> Response:
    where, args = _filters(g.user)
    page, size = max(int_arg("pageNow", 1) or 1, 1), max(int_arg("pageSize", 20) or 20, 1)
    rows, total = current().history.query(where, args, page, size)
    return reply(0, "OK", {"tasks": [task_json(r) for r in rows], "totalPage": total})


def _filters(user: str) -> tuple[list[str], list[Any]]:
    """The WHERE clauses and arguments of the list's query parameters (the caller's rows only)."""
    where: list[str] = ["(execute_user = ? OR um_user = ?)"]
    args: list[Any] = [user, user]
    filters = (
        ("startDate", "created >= ?"),
        ("endDate", "created <= ?"),
        ("taskID", "task_id = ?"),
    )
    for name, clause in filters:
        value = int_arg(name)
        if value is not None:
            where.append(clause)
            args.append(value)
    for name, column in (("creator", "creator"), ("executeApplicationName", "engine_type")):
        if request.args.get(name):
            where.append(f"{column} = ?")
            args.append(request.args[name])
    statuses = [s for s in (request.args.get("status") or "").split(",") if s.strip()]
    if statuses:
        where.append(f"status IN ({', '.join('?' for _ in statuses)})")
        args.extend(s.strip() for s in statuses)
    return where, args


ROUTES: tuple[Route, ...] = (
    ("/jobhistory/<task_id>/get", ("GET",), history_get_view),
    ("/jobhistory/list", ("GET",), history_list_view),
)
