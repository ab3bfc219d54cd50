"""Job history rows in a SQLite file, and their ``jobhistory`` JSON."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowexec.linkis.port import TERMINAL_STATES
from gateway.protocol import now_ms

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS task (
    task_id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL, progress TEXT NOT NULL, err_code INTEGER, err_desc TEXT,
    exec_id TEXT, stronger_exec_id TEXT, instance TEXT, um_user TEXT, execute_user TEXT,
    creator TEXT, engine_type TEXT, run_type TEXT, code TEXT, log_path TEXT, result_location TEXT,
    created INTEGER NOT NULL, updated INTEGER NOT NULL, labels TEXT, params_json TEXT,
    source_json TEXT, can_retry INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS task_user_created ON task (execute_user, created);
"""


class History:
    """Job history rows in SQLite: authoritative, and it survives eviction and restart."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # Every job writes its row four times or more (submitted, scheduled, running, ended):
            # in WAL mode NORMAL syncs at checkpoints, not at each write (an fsync each, ~1 ms
            # here, serialized on this lock, capped the gateway near 250 jobs/s). A crashed
            # process loses nothing; a crashed machine may lose the last writes, as Linkis's
            # own history database would lose its unflushed ones.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)

    def insert(self, row: Mapping[str, Any]) -> int:
        """Insert a row and return its new taskID (ids are never reused, even after reset)."""
        keys = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._lock:
            cur = self._conn.execute(f"INSERT INTO task ({keys}) VALUES ({marks})", tuple(row.values()))
            return int(cur.lastrowid or 0)

    def update(self, task_id: int, **values: Any) -> None:
        """Update a row; after ``close`` (a job thread outliving shutdown) this does nothing."""
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._lock:
            if self._closed:
                logger.warning("gateway history closed, dropping update task_id=%s", task_id)
                return
            self._conn.execute(f"UPDATE task SET {sets} WHERE task_id = ?", (*values.values(), task_id))

    def get(self, task_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM task WHERE task_id = ?", (task_id,)).fetchone()
        return dict(row) if row else None

    def query(
        self, where: list[str], args: list[Any], page: int, size: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Return one page of matching rows, newest first, and the count of all matching rows."""
        clause = " AND ".join(where) or "1 = 1"
        with self._lock:
            total = self._conn.execute(f"SELECT COUNT(*) FROM task WHERE {clause}", args).fetchone()[0]
            rows = self._conn.execute(
                f"SELECT * FROM task WHERE {clause} ORDER BY task_id DESC LIMIT ? OFFSET ?",
                (*args, size, (page - 1) * size),
            ).fetchall()
        return [dict(r) for r in rows], int(total)

    def clear(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM task")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()


def task_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """Render a history row with the Linkis 1.1.x keys plus ``executeUser``."""
    terminal = row["status"] in TERMINAL_STATES
    end = row["updated"] if terminal else now_ms()
    return {
        "taskID": row["task_id"], "instance": row["instance"], "execId": row["exec_id"],
        "umUser": row["um_user"], "executeUser": row["execute_user"], "engineInstance": None,
        "executionCode": row["code"], "progress": row["progress"], "logPath": row["log_path"],
        "resultLocation": row["result_location"], "status": row["status"],
        "createdTime": row["created"], "updatedTime": row["updated"], "engineType": row["engine_type"],
        "errCode": row["err_code"], "errDesc": row["err_desc"],
        "executeApplicationName": row["engine_type"], "requestApplicationName": row["creator"],
        "runType": row["run_type"], "paramsJson": row["params_json"], "costTime": end - row["created"],
        "strongerExecId": row["stronger_exec_id"], "sourceJson": row["source_json"],
        "labels": json.loads(row["labels"] or "[]"), "canRetry": bool(row["can_retry"]),
        "engineStartTime": None, "sourceTailor": "", "observeInfo": None,
    }  # fmt: skip
