"""``filesystem``: result directories, result set pages and log files under the state directory."""

from __future__ import annotations

from flask import Response
from flask import g
from flask import request

from gateway.context import Route
from gateway.context import current
from gateway.context import int_arg
from gateway.envelope import reply
from gateway.files import dir_tree
from gateway.files import open_file
from gateway.files import open_log


def dir_tree_view() -> Response:
    return reply(0, "OK", dir_tree(current().root, request.args.get("path"), g.user, bool(g.admin)))


def open_file_view() -> Response:
    page, size = int_arg("page", 1) or 1, int_arg("pageSize", 5000) or 5000
    return reply(
        0,
        "OK",
        open_file(
            current().root,
            request.args.get("path"),
            page,
            size,
            request.args.get("nullValue"),
            g.user,
            bool(g.admin),
        ),
    )


def open_log_view() -> Response:
    return reply(0, "OK", open_log(current().root, request.args.get("path"), g.user, bool(g.admin)))


ROUTES: tuple[Route, ...] = (
    ("/filesystem/getDirFileTrees", ("GET",), dir_tree_view),
    ("/filesystem/openFile", ("GET",), open_file_view),
    ("/filesystem/openLog", ("GET",), open_log_view),
)
