"""BML, as Linkis keeps it (linkis-protocol.md §12): versioned files per owner, and scripts read
back with their header metadata (``openScriptFromBML``).

Files live under ``<state dir>/bml/<owner>/<resourceId>/<version>``. The owner is whoever
uploaded; only ``download`` checks it (75569), as in Linkis. Upload may name the
``resourceId``/``version`` (a local extension: seeding the ids an exported flow already names).
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.protocol import Refusal

RESOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
VERSION = re.compile(r"^v\d{6}$")
ERR_PARAM = 78361
ERR_QUERY = 70068
ERR_NOT_OWNER = 75569
ERR_REQUEST_FAILED = 10905
ERR_FILE_TYPE = 54001

SQL_LIKE = ("sql", "hql", "jdbc", "psql", "fql", "tsql", "ngql", "aisql")
HASH_LIKE = ("py", "python", "py3", "sh")
PLAIN = ("txt", "text", "out", "log")
#: Comment prefix of the header lines, by file extension.
PREFIX = {**dict.fromkeys(SQL_LIKE, "--"), **dict.fromkeys(HASH_LIKE, "#"), "scala": "//"}


class DownloadError(Exception):
    """A ``download`` failure: answered as Spring's error body, not the envelope."""

    def __init__(self, message: str, err_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.err_code = err_code


@dataclass(frozen=True)
class Stored:
    owner: str
    resource_id: str
    version: str
    path: Path


class Bml:
    """The resource store of one gateway."""

    def __init__(self, root: Path) -> None:
        self.root = root / "bml"
        self._lock = threading.Lock()
        self._tasks = 0

    def _dir(self, resource_id: str) -> Path | None:
        if not RESOURCE_ID.match(resource_id or ""):
            return None
        found = sorted(self.root.glob(f"*/{resource_id}"))
        return found[0] if found and found[0].is_dir() else None

    def versions(self, resource_id: str) -> list[Stored]:
        """Every version, newest first (empty when the resource is unknown)."""
        directory = self._dir(resource_id)
        if directory is None:
            return []
        names = sorted((p for p in directory.iterdir() if VERSION.match(p.name)), reverse=True)
        return [Stored(directory.parent.name, resource_id, p.name, p) for p in names]

    def upload(
        self, owner: str, content: bytes, resource_id: str | None = None, version: str | None = None
    ) -> dict[str, Any]:
        """Store a new resource (or, with a known ``resource_id``, the named or next version)."""
        if resource_id is not None and not RESOURCE_ID.match(resource_id):
            raise Refusal(f"resourceId: {resource_id} is Null, illegal, or deleted!", ERR_PARAM)
        if not RESOURCE_ID.match(owner):
            raise Refusal(f"user {owner} cannot own BML resources here", ERR_PARAM)
        if version is not None and not VERSION.match(version):
            raise Refusal(f"version: {version} is illegal: expected v and 6 digits (v000001)", ERR_PARAM)
        with self._lock:
            rid = resource_id or str(uuid.uuid4())
            existing = self.versions(rid)
            if existing and existing[0].owner != owner:
                raise Refusal(f"resourceId: {rid} belongs to another user", ERR_NOT_OWNER)
            return self._write(owner, rid, version or _next(existing), content)

    def update_version(self, owner: str, resource_id: str, content: bytes) -> dict[str, Any]:
        """Store the next version of a known resource (no ownership check, as Linkis)."""
        with self._lock:
            existing = self.versions(resource_id)
            if not existing:
                raise Refusal(f"resourceId: {resource_id} is Null, illegal, or deleted!", ERR_PARAM)
            return self._write(existing[0].owner, resource_id, _next(existing), content)

    def _write(self, owner: str, resource_id: str, version: str, content: bytes) -> dict[str, Any]:
        target = self.root / owner / resource_id / version
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{version}.partial")
        partial.write_bytes(content)
        partial.replace(target)
        self._tasks += 1
        return {"resourceId": resource_id, "version": version, "taskId": self._tasks}

    def find(self, resource_id: str, version: str | None) -> Stored | None:
        """One version (the newest when ``version`` is None), or None."""
        for stored in self.versions(resource_id):
            if version is None or stored.version == version:
                return stored
        return None

    def download(self, user: str, resource_id: str, version: str | None) -> bytes:
        """The stored bytes; the checks in Linkis's order (id, owner, version)."""
        existing = self.versions(resource_id)
        if not existing:
            raise DownloadError(
                f"ResourceID :{resource_id} is empty, illegal or has been deleted "
                f"(resourceId:{resource_id}为空,非法或者已被删除!)",
                ERR_QUERY,
            )
        if existing[0].owner != user:
            raise DownloadError(
                "You do not have permission to download this resource (您没有权限下载此资源)", ERR_NOT_OWNER
            )
        stored = self.find(resource_id, version or None)
        if stored is None:
            raise DownloadError(
                f"version:{version} is empty, illegal or has been deleted (version:{version} 为空,非法或者已被删除!)",
                ERR_QUERY,
            )
        return stored.path.read_bytes()

    def open_script(self, resource_id: str, version: str | None, file_name: str) -> dict[str, Any]:
        """``openScriptFromBML``: read as the BML proxy user (no owner check), parse the header."""
        extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        if extension not in PREFIX and extension not in PLAIN:
            raise Refusal(f"Unsupported open file type: {file_name}", ERR_FILE_TYPE)
        stored = self.find(resource_id, version) if version else None
        if stored is None:
            body = (
                '{"method":"/api/bml/downloadShareResource","status":1,'
                f'"message":"resource {resource_id} version {version} does not exist"}}'
            )
            raise Refusal(
                f"URL /api/rest_j/v1/bml/downloadShareResource request failed! ResponseBody is {body}.",
                ERR_REQUEST_FAILED,
            )
        text = stored.path.read_bytes().decode("utf-8", errors="replace")
        return parse_script(text, PREFIX.get(extension))


def _next(existing: list[Stored]) -> str:
    top = max((int(s.version[1:]) for s in existing), default=0)
    return f"v{top + 1:06d}"


def parse_script(text: str, prefix: str | None) -> dict[str, Any]:
    """Split the leading ``@set`` / ``conf@set`` lines off a script (§12.3)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    metadata: dict[str, Any] = {}
    start = 0
    while prefix is not None and start < len(lines) and _header(lines[start], prefix, metadata):
        start += 1
    body = lines[start:]
    return {"scriptContent": "".join(line + "\n" for line in body), "metadata": metadata}


def _header(line: str, prefix: str, metadata: dict[str, Any]) -> bool:
    """Read one metadata line into ``metadata``; False when the line is content."""
    stripped = line.strip()
    if stripped.startswith(prefix + "@set"):
        name, found, value = stripped[len(prefix) + 4 :].partition("=")
        if not found or not name.strip():
            return False
        if value.strip():
            metadata.setdefault("variable", {})[name.strip()] = value.strip()
        return True
    if stripped.startswith(prefix + "conf@set"):
        before, found, value = stripped.partition("=")
        tokens = before.split()
        if not found or "=" in value or len(tokens) != 4:
            return False
        _, group, sub, key = tokens
        if value.strip():
            metadata.setdefault(group, {}).setdefault(sub, {})[key] = value.strip()
        return True
    return False
