"""The ``filesystem`` reads: paths under the state directory, result directories, result sets, logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.logs import four_slots
from gateway.protocol import Refusal
from gateway.protocol import file_uri

MAX_PAGE_SIZE = 100_000
MAX_LOG_BYTES = 30 * 1024 * 1024


def resolve_path(root: Path, path: str | None) -> Path:
    """Map a ``file://`` or plain path to a file under the state directory (else 80010)."""
    if not path:
        raise Refusal("path can not be empty(路径不能为空)", 80004)
    raw = path.removeprefix("file://")
    resolved = Path(raw).resolve()
    if not resolved.is_relative_to(root):
        raise Refusal(f"no permission to access {path}", 80010)
    return resolved


def dir_tree(root: Path, path: str | None) -> dict[str, Any]:
    directory = resolve_path(root, path)
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


def open_file(
    root: Path, path: str | None, page: int, page_size: int, null_value: str | None
) -> dict[str, Any]:
    """Serve one page of a result set: string cells, ``"NULL"`` unless ``nullValue=LINKIS_NULL``."""
    target = resolve_path(root, path)
    if page_size > MAX_PAGE_SIZE:
        raise Refusal(f"pageSize must not exceed {MAX_PAGE_SIZE}", 80034)
    if not target.is_file():
        raise Refusal(f"file {path} does not exist", 80012)
    content = json.loads(target.read_text(encoding="utf-8"))
    page, page_size = max(page, 1), max(page_size, 1)
    rows = content["rows"][(page - 1) * page_size : page * page_size]
    null = None if null_value == "LINKIS_NULL" else "NULL"
    cells = [[null if c is None else c for c in row] for row in rows]
    return {"type": content["type"], "metadata": content["metadata"], "fileContent": cells,
            "totalLine": len(cells), "page": page, "totalPage": 0}  # fmt: skip


def open_log(root: Path, path: str | None) -> dict[str, Any]:
    target = resolve_path(root, path)
    if not target.is_file():
        raise Refusal(f"log {path} does not exist", 80012)
    if target.stat().st_size > MAX_LOG_BYTES:
        raise Refusal("log file is larger than 30MB", 80033)
    lines = target.read_text(encoding="utf-8", errors="replace").splitlines()
    return {"log": four_slots(lines, line_endings=True)}
