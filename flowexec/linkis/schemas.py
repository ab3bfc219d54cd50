"""Marshmallow schemas that validate Linkis replies into flowexec values.

Linkis versions disagree on types (``taskID`` and ``progress`` as numbers or strings, ``log`` as a
list or a string, optional history keys), so every schema excludes unknown keys and the custom
fields below accept each documented spelling.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load

from flowexec.linkis.port import JobInfo
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobStatus
from flowexec.linkis.port import LogPage

_RESULT_NAME = re.compile(r"_(\d+)\.dolphin$")


@dataclass(frozen=True)
class Envelope:
    """The four-key Linkis ``Message`` every endpoint answers with."""

    status: int
    message: str
    data: Any
    method: str | None = None


@dataclass(frozen=True)
class ResultPage:
    """One page of a result set file (``filesystem/openFile``); every cell is a string or None."""

    type: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]


class LooseInt(fields.Field[int | None]):
    """An integer sent as a JSON number or a numeric string (``taskID``, ``errCode``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if isinstance(value, bool):
            raise ValidationError("Not an integer.")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        if isinstance(value, str) and not value.strip():
            return None
        raise ValidationError("Not an integer.")


class LooseFloat(fields.Field[float | None]):
    """A fraction sent as a number, a numeric string or a percentage (``progress``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float | None:
        if isinstance(value, bool):
            raise ValidationError("Not a number.")
        if isinstance(value, int | float):
            return _finite(float(value))
        if isinstance(value, str):
            return _parse_fraction(value)
        raise ValidationError("Not a number.")


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValidationError("Not a finite number.")
    return value


def _parse_fraction(text: str) -> float | None:
    """Read ``"0.5"`` or ``"50%"`` (the documented but unused spelling) as 0.5."""
    text = text.strip()
    if not text:
        return None
    try:
        if text.endswith("%"):
            return _finite(float(text[:-1]) / 100)
        return _finite(float(text))
    except ValueError as exc:
        raise ValidationError("Not a number.") from exc


class LogText(fields.Field[str]):
    """A log sent as the four level slots (``[3]`` is ALL) or as one string; yields the ALL text."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str | None) for v in value):
            return _all_slot([v or "" for v in value])
        raise ValidationError("Not a log.")


def _all_slot(slots: list[str]) -> str:
    """Pick the ALL slot; a list of another length is a ``distinctLevel=false`` style answer."""
    if len(slots) == 4:
        return slots[3]
    return "\n".join(s for s in slots if s)


class _Reply(Schema):
    class Meta:
        unknown = EXCLUDE


class EnvelopeSchema(_Reply):
    """The Linkis ``Message``: success is ``status == 0`` whatever the HTTP code."""

    method = fields.Raw(allow_none=True, load_default=None)
    status = LooseInt(required=True)
    message = fields.Raw(allow_none=True, load_default="")
    data = fields.Raw(allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Envelope:
        if data["status"] is None:
            raise ValidationError("Missing status.", "status")
        method = data["method"] if isinstance(data["method"], str) else None
        return Envelope(data["status"], str(data["message"] or ""), data["data"], method)


class ErrorMsgSchema(_Reply):
    """``data.errorMsg`` of a Linkis exception."""

    errCode = LooseInt(allow_none=True, load_default=None)
    desc = fields.Raw(allow_none=True, load_default=None)


class ErrorDataSchema(_Reply):
    """The ``data`` of an error envelope; only ``errorMsg`` matters."""

    errorMsg = fields.Nested(ErrorMsgSchema, allow_none=True, load_default=None)


class SubmitSchema(_Reply):
    """``entrance/submit`` data: the execID and the history taskID."""

    execID = fields.String(required=True)
    taskID = LooseInt(required=True)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> JobRef:
        if data["taskID"] is None or not data["execID"]:
            raise ValidationError("Empty execID or taskID.")
        return JobRef(exec_id=data["execID"], task_id=data["taskID"])


class StatusSchema(_Reply):
    """``entrance/{execID}/status`` data."""

    status = fields.String(required=True)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> JobStatus:
        return JobStatus(state=data["status"])


class ProgressSchema(_Reply):
    """``entrance/{execID}/progress`` data; ``progressInfo`` is not needed."""

    progress = LooseFloat(allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> float | None:
        progress: float | None = data["progress"]
        return progress


class LogSchema(_Reply):
    """``entrance/{execID}/log`` data; ``from_line`` is the cursor the caller sent."""

    log = LogText(allow_none=True, load_default="")
    fromLine = LooseInt(allow_none=True, load_default=None)

    def __init__(self, from_line: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.from_line = from_line

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> LogPage:
        lines = tuple(line for line in data["log"].split("\n") if line)
        start = max(self.from_line, 1)
        next_line = data["fromLine"] if data["fromLine"] is not None else start + len(lines)
        return LogPage(lines=lines, next_line=max(next_line, start))


class TaskSchema(_Reply):
    """One ``jobhistory`` row (1.1.x keys; everything else optional)."""

    taskID = LooseInt(required=True)
    status = fields.String(required=True)
    progress = LooseFloat(allow_none=True, load_default=None)
    errCode = LooseInt(allow_none=True, load_default=None)
    errDesc = fields.String(allow_none=True, load_default=None)
    execId = fields.String(allow_none=True, load_default=None)
    strongerExecId = fields.String(allow_none=True, load_default=None)
    logPath = fields.String(allow_none=True, load_default=None)
    resultLocation = fields.String(allow_none=True, load_default=None)
    createdTime = LooseInt(allow_none=True, load_default=None)
    updatedTime = LooseInt(allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> JobInfo:
        if data["taskID"] is None:
            raise ValidationError("Missing taskID.", "taskID")
        return JobInfo(
            task_id=data["taskID"],
            status=data["status"],
            progress=data["progress"],
            # A few versions write 0 / "" for "no error".
            err_code=data["errCode"] or None,
            err_desc=data["errDesc"] or None,
            exec_id=data["strongerExecId"] or data["execId"],
            log_path=data["logPath"] or None,
            result_location=data["resultLocation"] or None,
            created_ms=data["createdTime"],
            updated_ms=data["updatedTime"],
        )


class HistoryGetSchema(_Reply):
    """``jobhistory/{taskID}/get`` data."""

    task = fields.Nested(TaskSchema, required=True)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> JobInfo:
        task: JobInfo = data["task"]
        return task


class TaskSourceSchema(_Reply):
    """The provenance part of a history row: its id and ``sourceJson`` (a JSON string)."""

    taskID = LooseInt(required=True)
    sourceJson = fields.String(allow_none=True, load_default=None)


class HistoryListSchema(_Reply):
    """``jobhistory/list`` data: rows as raw dicts (parsed per purpose by the caller)."""

    tasks = fields.List(fields.Dict(), allow_none=True, load_default=list)
    totalPage = LooseInt(allow_none=True, load_default=None)


class TreeNodeSchema(_Reply):
    """One node of ``dirFileTrees``."""

    name = fields.String(required=True)
    path = fields.String(required=True)
    isLeaf = fields.Boolean(load_default=False)
    children = fields.List(fields.Nested(lambda: TreeNodeSchema()), allow_none=True, load_default=None)


class DirFileTreesSchema(_Reply):
    """``filesystem/getDirFileTrees`` data, reduced to result files sorted by set number."""

    dirFileTrees = fields.Nested(TreeNodeSchema, allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> list[str]:
        tree = data["dirFileTrees"]
        if not tree:
            return []
        leaves = [c for c in tree.get("children") or [] if c.get("isLeaf")]
        return [c["path"] for c in sorted(leaves, key=_result_order)]


def _result_order(node: Mapping[str, Any]) -> tuple[int, str]:
    """Order result files by the ``n`` of ``_<n>.dolphin`` numerically (the server does not)."""
    match = _RESULT_NAME.search(node["name"])
    return (int(match.group(1)) if match else 1 << 30, node["name"])


class OpenFileSchema(_Reply):
    """``filesystem/openFile`` data: TABLE metadata is a list, TEXT metadata a string."""

    type = fields.Raw(required=True)
    metadata = fields.Raw(allow_none=True, load_default=None)
    fileContent = fields.Raw(allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> ResultPage:
        content = data["fileContent"] or []
        if not isinstance(content, list):
            raise ValidationError("fileContent is not a list.", "fileContent")
        rows = tuple(_row(r) for r in content)
        return ResultPage(type=str(data["type"]), columns=_columns(data["metadata"]), rows=rows)


def _columns(metadata: Any) -> tuple[str, ...]:
    if not isinstance(metadata, list):
        return ()
    return tuple(str(m.get("columnName", "")) if isinstance(m, dict) else str(m) for m in metadata)


def _row(row: Any) -> tuple[str | None, ...]:
    if isinstance(row, list):
        return tuple(None if cell is None else str(cell) for cell in row)
    return (None if row is None else str(row),)


class OpenLogSchema(_Reply):
    """``filesystem/openLog`` data, reduced to the ALL text."""

    log = LogText(allow_none=True, load_default="")

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> str:
        text: str = data["log"]
        return text
