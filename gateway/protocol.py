"""Names, codes and small values of the Linkis protocol the gateway speaks (linkis-protocol.md)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

PREFIX = "/api/rest_j/v1"
CONTROL = PREFIX + "/flowexec-test"
APP_NAME = "linkis-cg-entrance"
HTTP_OF_STATUS = {0: 200, -1: 401, 1: 400, 2: 412, 3: 403, 4: 206}
JSON_TYPE = "application/json;charset=UTF-8"
ERR_ENGINE = 10001
ERR_TIMEOUT = 10002
ERR_QUEUE_FULL = 12001
FINAL_WORD = {
    "Succeed": "Success",
    "Failed": "Failed",
    "Cancelled": "Cancelled",
    "Timeout": "Timeout",
}
EXEC_ID = re.compile(r"^exec_id(\d{3})(\d{3})")


class Refusal(Exception):
    """A Linkis error answer: ``status`` (default 1) with ``errorMsg`` when ``err_code`` is set."""

    def __init__(self, message: str, err_code: int | None = None, status: int = 1, http: int | None = None):
        super().__init__(message)
        self.message = message
        self.err_code = err_code
        self.status = status
        self.http = http


def now_ms() -> int:
    return int(time.time() * 1000)


def file_uri(path: Path) -> str:
    return "file://" + str(path)


def to_seconds(value: Any, default: float) -> float:
    """Read a number of seconds; anything that is not a number is the default."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
