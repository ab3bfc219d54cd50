"""The ``filesystem`` reads: paths under the state directory, result directories, result sets, logs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gateway.logs import four_slots
from gateway.protocol import Refusal
from gateway.protocol import file_uri

MAX_PAGE_SIZE = 100_000
MAX_LOG_BYTES = 30 * 1024 * 1024


#: The folders a user may read: ``<kind>/<day>/<creator>/<user>/...`` (their own jobs only).
READABLE = ("log", "result")


def resolve_path(root: Path, path: str | None, user: str | None = None, admin: bool = False) -> Path:
    """Map a ``file://`` or plain path to a file of the caller's jobs (else 80010).

    Only ``log/`` and ``result/`` folders under the state directory are served, and only the
    caller's own (``<kind>/<day>/<creator>/<user>/``; an admin token reads everyone's). The
    history database and the job working folders never are.
    """
    if not path:
        raise Refusal("path can not be empty(路径不能为空)", 80004)
    raw = path.removeprefix("file://")
    resolved = Path(raw).resolve()
    if not resolved.is_relative_to(root):
        raise Refusal("no permission to access this path", 80010)
    parts = resolved.relative_to(root).parts
    if len(parts) < 4 or parts[0] not in READABLE or not (admin or parts[3] == user):
        raise Refusal("no permission to access this path", 80010)
    return resolved


def dir_tree(root: Path, path: str | None, user: str, admin: bool) -> dict[str, Any]:
    directory = resolve_path(root, path, user, admin)
    if not directory.is_dir():
        return {"dirFileTrees": None}
    children = [_leaf(p, directory) for p in sorted(directory.iterdir()) if p.is_file()]
    tree = {"name": directory.name, "path": file_uri(directory), "isLeaf": False, "properties": None,
            "parentPath": None, "children": children}  # fmt: skip
    return {"dirFileTrees": tree}


def _leaf(path: Path, parent: Path) -> dict[str, Any]:
    stat = path.stat()
    properties = {"size": str(stat.st_size), "modifytime": str(int(stat.st_mtime * 1000))}
    return {"name": path.name, "path": file_uri(path), "isLeaf": True, "children": None,
            "parentPath": file_uri(parent), "properties": properties}  # fmt: skip


def write_result(path: Path, kind: str, metadata: Any, rows: Iterable[list[Any]]) -> None:
    """Write a result set as JSON lines: a header ``{type, metadata}``, then one row a line."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"type": kind, "metadata": metadata}) + "\n")
        for row in rows:
            f.write(json.dumps(row) + "\n")


def read_result(path: Path, first: int = 0, count: int | None = None) -> dict[str, Any]:
    """Read a result set's header and rows ``first`` to ``first + count``, without parsing the rest."""
    with open(path, encoding="utf-8") as f:
        header = json.loads(f.readline())
        rows = [
            json.loads(line) for line in itertools.islice(f, first, None if count is None else first + count)
        ]
    return {"type": header["type"], "metadata": header["metadata"], "rows": rows}


def open_file(
    root: Path, path: str | None, page: int, page_size: int, null_value: str | None, user: str, admin: bool
) -> dict[str, Any]:
    """Serve one page of a result set: string cells, ``"NULL"`` unless ``nullValue=LINKIS_NULL``.

    Only the page's lines are parsed; the lines before it are skipped unread as JSON.
    """
    target = resolve_path(root, path, user, admin)
    if page_size > MAX_PAGE_SIZE:
        raise Refusal(f"pageSize must not exceed {MAX_PAGE_SIZE}", 80034)
    if not target.is_file():
        raise Refusal("file does not exist", 80012)
    page, page_size = max(page, 1), max(page_size, 1)
    content = read_result(target, (page - 1) * page_size, page_size)
    null = None if null_value == "LINKIS_NULL" else "NULL"
    cells = [[null if c is None else c for c in row] for row in content["rows"]]
    return {"type": content["type"], "metadata": content["metadata"], "fileContent": cells,
            "totalLine": len(cells), "page": page, "totalPage": 0}  # fmt: skip


def open_log(root: Path, path: str | None, user: str, admin: bool) -> dict[str, Any]:
    target = resolve_path(root, path, user, admin)
    if not target.is_file():
        raise Refusal("log does not exist", 80012)
    if target.stat().st_size > MAX_LOG_BYTES:
        raise Refusal("log file is larger than 30MB", 80033)
    lines = target.read_text(encoding="utf-8", errors="replace").splitlines()
    return {"log": four_slots(lines, line_endings=True)}
