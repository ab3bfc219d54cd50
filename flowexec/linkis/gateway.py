"""A local Linkis-compatible gateway: the Linkis REST protocol over real HTTP, jobs in subprocesses.

It stands in for Linkis in development and in the client's contract tests (see
``linkis-protocol.md`` §9): token and cookie auth, ``entrance`` submit/status/progress/log/kill,
``jobhistory`` in a SQLite file (so history and force kill survive eviction and restart),
``filesystem`` results and logs, and, only when enabled, fault injection per job and per request.
Shell and Python jobs run as subprocesses; SQL runs on a SQLite file in a subprocess.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from flowexec.linkis.port import DEFAULT_ENGINE_VERSIONS
from flowexec.linkis.port import TERMINAL_STATES

logger = logging.getLogger(__name__)

PREFIX = "/api/rest_j/v1"
CONTROL = PREFIX + "/flowexec-test"
APP_NAME = "linkis-cg-entrance"
SESSION_COOKIE = "linkis_user_session_ticket_id_v1"
SESSION_TIMEOUT_MS = 3_600_000
EXTENSION = "flowexec_gateway"
DEFAULT_USERS: Mapping[str, str] = MappingProxyType({"hadoop": "hadoop"})
DEFAULT_TOKENS: Mapping[str, str] = MappingProxyType({"LINKIS-AUTH": "*"})
HTTP_OF_STATUS = {0: 200, -1: 401, 1: 400, 2: 412, 3: 403, 4: 206}
JSON_TYPE = "application/json;charset=UTF-8"
ERR_ENGINE = 10001
ERR_TIMEOUT = 10002
ERR_QUEUE_FULL = 12001
MAX_PAGE_SIZE = 100_000
MAX_LOG_BYTES = 30 * 1024 * 1024
FAULT_ACTIONS = frozenset(
    {
        "http_500",
        "http_503",
        "spring_500",
        "status_1",
        "unauth",
        "slow",
        "drop",
        "drop_after",
        "not_json",
    }
)
JOB_FAULTS = frozenset({"fail", "delay", "hang", "ignore_kill", "evict"})
FINAL_WORD = {
    "Succeed": "Success",
    "Failed": "Failed",
    "Cancelled": "Cancelled",
    "Timeout": "Timeout",
}
VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*\}")
EXEC_ID = re.compile(r"^exec_id(\d{3})(\d{3})")
WAIT_TICK = 0.25

HANG_CODE = "import time\nwhile True:\n    time.sleep(60)\n"

#: Runs SQL statements in order on a SQLite file; each row-returning one becomes ``_<n>.dolphin``.
SQL_RUNNER = r"""
import json, os, sqlite3, sys

def split(code):
    out, start = [], 0
    for i, ch in enumerate(code):
        if ch == ";" and sqlite3.complete_statement(code[start:i + 1]):
            out.append(code[start:i + 1])
            start = i + 1
    out.append(code[start:])
    return [s.strip() for s in out if s.strip().strip(";").strip()]

def kind(rows, i):
    for row in rows:
        v = row[i]
        if v is None:
            continue
        if isinstance(v, bool) or isinstance(v, int):
            return "bigint"
        if isinstance(v, float):
            return "double"
        if isinstance(v, bytes):
            return "binary"
        return "string"
    return "string"

def cell(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.hex()
    return str(v)

def main():
    db, out, code_file = sys.argv[1:4]
    with open(code_file, encoding="utf-8") as f:
        code = f.read()
    conn = sqlite3.connect(db, timeout=30)
    n = 0
    try:
        for stmt in split(code):
            cur = conn.execute(stmt)
            if cur.description is None:
                conn.commit()
                print("OK, %d row(s) affected" % max(cur.rowcount, 0))
                continue
            rows = cur.fetchall()
            conn.commit()
            meta = [{"columnName": d[0], "dataType": kind(rows, i), "comment": ""}
                    for i, d in enumerate(cur.description)]
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, "_%d.dolphin" % n), "w", encoding="utf-8") as f:
                json.dump({"type": "2", "metadata": meta,
                           "rows": [[cell(v) for v in row] for row in rows]}, f)
            print("Fetched %d row(s) into result set %d" % (len(rows), n))
            n += 1
    except sqlite3.Error as exc:
        sys.stderr.write("%s: %s\n" % (type(exc).__name__, exc))
        sys.exit(1)
    finally:
        conn.close()

main()
"""


class Refusal(Exception):
    """A Linkis error answer: ``status`` (default 1) with ``errorMsg`` when ``err_code`` is set."""

    def __init__(self, message: str, err_code: int | None = None, status: int = 1, http: int | None = None):
        super().__init__(message)
        self.message = message
        self.err_code = err_code
        self.status = status
        self.http = http


# -- small helpers ---------------------------------------------------------------------------


def parse_pairs(text: str | None, sep: str) -> dict[str, str]:
    """Parse ``"a:x,b:y"`` (users, ``sep=":"``) or ``"T=USER,..."`` (tokens, ``sep="="``)."""
    pairs: dict[str, str] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, found, value = item.partition(sep)
        if not found or not key.strip():
            raise ValueError(f"expected key{sep}value, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def now_ms() -> int:
    return int(time.time() * 1000)


def log_line(level: str, text: str) -> str:
    """Format one log line as Linkis does: ``yyyy-MM-dd HH:mm:ss.SSS LEVEL text``."""
    now = datetime.now()
    return f"{now:%Y-%m-%d %H:%M:%S}.{now.microsecond // 1000:03d} {level} {text}"


def _slot(line: str) -> int:
    """Return the log slot of a line: 0 ERROR, 1 WARN, 2 INFO and unclassified."""
    parts = line.split(" ", 3)
    level = parts[2] if len(parts) > 2 else ""
    if "ERROR" in level:
        return 0
    if "WARN" in level:
        return 1
    return 2


def four_slots(lines: list[str], line_endings: bool = False) -> list[str]:
    """Split lines into the ERROR, WARN, INFO, ALL slots of a Linkis log answer."""
    buckets: list[list[str]] = [[], [], [], []]
    for line in lines:
        if line.strip():
            buckets[_slot(line)].append(line)
            buckets[3].append(line)
    if line_endings:
        return ["".join(line + "\n" for line in b) for b in buckets]
    return ["\n".join(b) for b in buckets]


def substitute(code: str, variables: Mapping[str, Any]) -> str:
    """Replace ``${name}`` from variables; ``run_date`` defaults to yesterday (``yyyyMMdd``)."""
    values = {"run_date": (datetime.now() - timedelta(days=1)).strftime("%Y%m%d")}
    values.update({str(k): str(v) for k, v in variables.items()})
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), code)


def engine_kind(engine: str, run_type: str) -> str | None:
    """Pick the local engine for an engine name and runType; None means "no engine available"."""
    run_type = run_type.lower()
    if engine == "shell" and run_type in ("shell", "sh"):
        return "shell"
    if engine == "python" and run_type in ("python", "py", "py3"):
        return "python"
    if engine in ("jdbc", "hive", "spark", "sqlite") and run_type in ("sql", "hql", "jdbc"):
        return "sql"
    return None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a job's process group; a group that is already gone is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def file_uri(path: Path) -> str:
    return "file://" + str(path)


# -- history ---------------------------------------------------------------------------------

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


# -- requests and jobs -----------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitRequest:
    """A validated submit body (``/submit`` or legacy ``/execute``)."""

    code: str
    run_type: str
    labels: dict[str, str]
    variables: dict[str, Any]
    runtime: dict[str, Any]
    params: dict[str, Any]
    source: dict[str, Any]
    execute_user: str | None = None


def parse_submit(body: Any) -> SubmitRequest:
    """Validate an ``entrance/submit`` body as Linkis does (errors 20007-20010)."""
    if not isinstance(body, dict):
        raise Refusal("request body must be a JSON object")
    content = body.get("executionContent")
    if not isinstance(content, dict) or "code" not in content:
        raise Refusal("executionContent.code is required", 20010)
    code = content["code"]
    if not isinstance(code, str) or not code.strip():
        raise Refusal("code can not be empty(执行代码不能为空)", 20007)
    labels = _labels(body.get("labels"))
    run_type = content.get("runType") or labels.get("codeType")
    if not run_type or not isinstance(run_type, str):
        raise Refusal("runType or codeType is required", 20009)
    params = _dict(body.get("params"))
    configuration = _dict(params.get("configuration"))
    return SubmitRequest(
        code=code, run_type=run_type, labels=labels,
        variables=_dict(params.get("variable")), runtime=_dict(configuration.get("runtime")),
        params=params, source=_dict(body.get("source")),
        execute_user=body.get("executeUser") if isinstance(body.get("executeUser"), str) else None,
    )  # fmt: skip


def parse_execute(body: Any, user: str) -> SubmitRequest:
    """Translate a legacy 0.x ``entrance/execute`` body (runs as the login user) into a submit."""
    if not isinstance(body, dict):
        raise Refusal("request body must be a JSON object")
    if "executionCode" not in body:
        raise Refusal("executionCode is required", 20010)
    engine = str(body.get("executeApplicationName") or "spark")
    creator = str(body.get("requestApplicationName") or "IDE")
    labels = {"engineType": f"{engine}-{DEFAULT_ENGINE_VERSIONS.get(engine, '1')}"}
    labels.update({str(k): str(v) for k, v in _dict(body.get("labels")).items()})
    labels.setdefault("userCreator", f"{user}-{creator}")
    return parse_submit({
        "executionContent": {"code": body.get("executionCode"), "runType": body.get("runType") or "sql"},
        "params": _dict(body.get("params")), "labels": labels, "source": _dict(body.get("source")),
    })  # fmt: skip


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _labels(value: Any) -> dict[str, str]:
    """Check the labels map: non-empty (20008), ``engineType`` and numeric timeouts (20009)."""
    if not isinstance(value, dict) or not value:
        raise Refusal("labels can not be empty(标签不能为空)", 20008)
    labels = {str(k): str(v) for k, v in value.items()}
    if not labels.get("engineType"):
        raise Refusal("engineType label is required", 20009)
    for key in ("jobRunningTimeout", "jobQueuingTimeout"):
        if key in labels and not labels[key].isdigit():
            raise Refusal(f"{key} must be a number of seconds", 20009)
    return labels


def check_user_creator(labels: Mapping[str, str], user: str) -> str:
    """Return the creator of ``userCreator``; its user must be the execute user (50080)."""
    user_creator = labels.get("userCreator") or f"{user}-IDE"
    parts = user_creator.split("-")
    if len(parts) != 2 or not parts[1]:
        raise Refusal(f"userCreator label {user_creator} is invalid, need user-creator", 50079)
    if parts[0].lower() != user.lower():
        raise Refusal(
            f"SubmitUser : {parts[0]} must be the same as ExecuteUser : {user} , "
            "and userCreator's user", 50080,
        )  # fmt: skip
    return parts[1]


@dataclass(eq=False)
class Job:
    """A job in entrance memory (and, while its thread lives, in the live table)."""

    task_id: int
    exec_id: str
    group: str
    user: str
    engine: str
    run_type: str
    code: str
    runtime: dict[str, Any]
    workdir: Path
    log_path: Path
    result_dir: Path
    sqlite_path: str
    fault: str = ""
    fault_seconds: float = 0.0
    running_timeout: float | None = None
    queuing_timeout: float | None = None
    state: str = "Inited"
    progress: float = 0.0
    lines: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    kill_deadline: float | None = None
    finished_at: float | None = None
    created: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


def _seconds(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


# -- fault rules -----------------------------------------------------------------------------


@dataclass
class FaultRule:
    """A per-request fault: ``times`` None means forever."""

    method: str | None
    path: re.Pattern[str]
    action: str
    times: int | None
    seconds: float


class Faults:
    """Per-request fault rules, consumed in order of registration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, spec: Mapping[str, Any]) -> FaultRule:
        action = str(spec.get("action", ""))
        if action not in FAULT_ACTIONS:
            raise Refusal(f"unknown fault action {action!r}; known: {sorted(FAULT_ACTIONS)}")
        times = spec.get("times", 1)
        rule = FaultRule(
            method=str(spec["method"]).upper() if spec.get("method") not in (None, "", "*") else None,
            path=re.compile(str(spec.get("path") or ".*")),
            action=action,
            times=None if times is None or int(times) < 0 else int(times),
            seconds=_seconds(spec.get("seconds"), 2.0),
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        """Return the first live rule matching this request, spending one of its ``times``."""
        with self._lock:
            for rule in self._rules:
                if rule.method not in (None, method) or not rule.path.search(path):
                    continue
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                return rule
        return None


# -- the gateway state -----------------------------------------------------------------------


class Gateway:
    """Jobs in memory, their threads and processes, history, sessions and faults; one lock."""

    def __init__(
        self,
        state_dir: Path,
        *,
        users: Mapping[str, str],
        tokens: Mapping[str, str],
        faults_enabled: bool,
        max_running_per_group: int,
        max_queued_per_group: int,
        sqlite_path: str | None,
        memory_retention: float,
        kill_grace: float,
    ) -> None:
        self.root = state_dir.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.users = dict(users)
        self.tokens = dict(tokens)
        self.faults_enabled = faults_enabled
        self.faults = Faults()
        self.history = History(self.root / "history.db")
        self.warehouse = sqlite_path or str(self.root / "warehouse.db")
        self._max_running = max_running_per_group
        self._max_queued = max_queued_per_group
        self._retention = memory_retention
        self._kill_grace = kill_grace
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._jobs: dict[str, Job] = {}
        self._live: dict[int, Job] = {}
        self._running: Counter[str] = Counter()
        self._serial: Counter[str] = Counter()
        self._sessions: dict[str, tuple[str, float]] = {}
        self._closed = False
        self.submits = 0

    # -- auth --

    def authenticate(
        self, headers: Headers | Mapping[str, str], cookies: Mapping[str, str]
    ) -> tuple[str | None, bool]:
        """Return (user, is_admin_token) from token headers or cookies, or a session cookie."""
        code, user = headers.get("Token-Code"), headers.get("Token-User")
        if not (code and user):
            code, user = cookies.get("Token-Code"), cookies.get("Token-User")
        if code and user:
            allowed = self.tokens.get(code)
            ok = allowed is not None and (allowed == "*" or user in allowed.split("|"))
            return (user, "ADMIN-" in code) if ok else (None, False)
        return self.session_user(cookies.get(SESSION_COOKIE)), False

    def session_user(self, ticket: str | None) -> str | None:
        """Return a session's user and refresh its idle timeout."""
        with self._lock:
            session = self._sessions.get(ticket or "")
            if session is None or session[1] < time.monotonic():
                return None
            self._sessions[ticket or ""] = (
                session[0],
                time.monotonic() + SESSION_TIMEOUT_MS / 1000,
            )
            return session[0]

    def login(self, user: str, password: str) -> str:
        if not user or self.users.get(user) != password:
            raise Refusal("login failed: wrong user name or password(用户名或密码错误)")
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[ticket] = (user, time.monotonic() + SESSION_TIMEOUT_MS / 1000)
        return ticket

    def logout(self, ticket: str | None) -> None:
        with self._lock:
            self._sessions.pop(ticket or "", None)

    # -- submit --

    def submit(self, req: SubmitRequest, user: str, admin: bool, instance: str) -> dict[str, Any]:
        """Accept a job: history row first (as Linkis), then interceptors, then the job thread."""
        execute_user = req.execute_user if admin and req.execute_user else user
        task_id = self.history.insert(self._initial_row(req, user, execute_user, instance))
        try:
            creator = check_user_creator(req.labels, execute_user)
            job = self._enqueue(req, task_id, creator, execute_user, instance)
        except Refusal as exc:
            self.history.update(task_id, status="Failed", err_code=exc.err_code, err_desc=exc.message,
                                updated=now_ms(), can_retry=1)  # fmt: skip
            raise
        thread = threading.Thread(target=self._run, args=(job,), name=f"linkis-job-{task_id}", daemon=True)
        job.thread = thread
        thread.start()
        logger.info("gateway accepted task_id=%s exec_id=%s", task_id, job.exec_id)
        return {"execID": job.exec_id, "taskID": task_id}

    def _initial_row(self, req: SubmitRequest, user: str, execute_user: str, instance: str) -> dict[str, Any]:
        created = now_ms()
        source = dict(req.source, requestIP="127.0.0.1")
        return {
            "status": "Inited", "progress": "0.0", "instance": instance, "um_user": user,
            "execute_user": execute_user, "creator": req.labels.get("userCreator", "-IDE").split("-")[-1],
            "engine_type": req.labels["engineType"].split("-", 1)[0].lower(), "run_type": req.run_type,
            "code": req.code, "created": created, "updated": created,
            "labels": json.dumps([f"{k}:{v}" for k, v in req.labels.items()]),
            "params_json": json.dumps(req.params, default=str), "source_json": json.dumps(source, default=str),
        }  # fmt: skip

    def _enqueue(self, req: SubmitRequest, task_id: int, creator: str, user: str, instance: str) -> Job:
        engine = req.labels["engineType"].split("-", 1)[0].lower()
        group = f"{creator}_{user}_{engine}"
        with self._lock:
            self._sweep()
            queued = sum(1 for j in self._live.values() if j.group == group and j.state == "Inited")
            if queued >= self._max_queued:
                raise Refusal(f"queue of group {group} is full, please retry later", ERR_QUEUE_FULL)
            self._serial[group] += 1
            job = self._new_job(req, task_id, group, user, engine, instance)
            self._jobs[job.exec_id] = job
            self._live[task_id] = job
            self.submits += 1
            self._log(job, "INFO", f"Your job is accepted,  jobID is {job.exec_id} and taskID is {task_id} "
                                   f"in {instance}. Please wait it to be scheduled")  # fmt: skip
        return job

    def _new_job(
        self, req: SubmitRequest, task_id: int, group: str, user: str, engine: str, instance: str
    ) -> Job:
        short = f"{group}_{self._serial[group] - 1}"
        exec_id = f"exec_id018{len(instance):03d}{APP_NAME}{instance}{short}"
        creator = group.split("_", 1)[0]
        day = datetime.now().strftime("%Y-%m-%d")
        log_path = self.root / "log" / day / creator / user / f"{task_id}.log"
        result_dir = self.root / "result" / day / creator / user / str(task_id)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        fault = str(req.runtime.get("flowexec.fault", "")) if self.faults_enabled else ""
        timeouts = [
            float(req.labels[k]) if k in req.labels else None
            for k in ("jobRunningTimeout", "jobQueuingTimeout")
        ]
        self.history.update(task_id, exec_id=short, stronger_exec_id=exec_id, log_path=file_uri(log_path),
                            result_location=file_uri(result_dir))  # fmt: skip
        return Job(
            task_id=task_id, exec_id=exec_id, group=group, user=user, engine=engine, run_type=req.run_type,
            code=substitute(req.code, req.variables), runtime=req.runtime, workdir=self.root / "work" / str(task_id),
            log_path=log_path, result_dir=result_dir,
            sqlite_path=str(req.runtime.get("flowexec.sqlite.path") or self.warehouse),
            fault=fault if fault in JOB_FAULTS else "", fault_seconds=_seconds(req.runtime.get("flowexec.fault.seconds"), 1.0),
            running_timeout=timeouts[0], queuing_timeout=timeouts[1],
        )  # fmt: skip

    def _sweep(self) -> None:
        """Forget finished jobs older than the retention time (the entrance reusing slots)."""
        limit = time.monotonic() - self._retention
        for exec_id, job in list(self._jobs.items()):
            if job.finished_at is not None and job.finished_at < limit:
                del self._jobs[exec_id]

    # -- the job thread --

    def _run(self, job: Job) -> None:
        """Drive one job from Inited to a terminal state; never raise (it is a thread)."""
        try:
            if self._await_slot(job):
                try:
                    self._execute(job)
                finally:
                    with self._cond:
                        self._running[job.group] -= 1
                        self._cond.notify_all()
        except Exception:
            logger.exception("gateway job crashed task_id=%s", job.task_id)
            self._finish(job, "Failed", ERR_ENGINE, "gateway internal error")
        finally:
            self._retire(job)

    def _await_slot(self, job: Job) -> bool:
        """Wait in Inited for a running slot of the job's group; give up on kill or queue timeout."""
        with self._cond:
            while self._running[job.group] >= self._max_running and not job.cancel.is_set():
                waited = time.monotonic() - job.created
                if job.queuing_timeout is not None and waited >= job.queuing_timeout:
                    self._finish(job, "Failed", ERR_TIMEOUT, "job queuing timeout")
                    return False
                self._cond.wait(timeout=WAIT_TICK)
            if job.cancel.is_set():
                return False
            self._running[job.group] += 1
            self._set_state(job, "Scheduled", "Your job is Scheduled. Please wait it to run.")
            return True

    def _execute(self, job: Job) -> None:
        if job.fault == "delay":
            job.cancel.wait(job.fault_seconds)
        if job.cancel.is_set():
            return
        if job.fault == "fail":
            err_code = int(_seconds(job.runtime.get("flowexec.fault.errCode"), ERR_ENGINE))
            self._finish(
                job,
                "Failed",
                err_code,
                str(job.runtime.get("flowexec.fault.errDesc", "injected failure")),
            )
            return
        argv = self._argv(job)
        if argv is None:
            desc = f"no engine available for engineType {job.engine} and runType {job.run_type}"
            self._finish(job, "Failed", ERR_ENGINE, desc)
            return
        with self._lock:
            if job.cancel.is_set():
                return
            self._set_state(job, "Running", "Your job is Running now. Please wait it to complete.")
            job.progress = 0.5
        rc, timed_out = self._spawn_and_wait(job, argv)
        self._conclude(job, rc, timed_out)

    def _argv(self, job: Job) -> list[str] | None:
        """Build the command of a job; code goes to a file in its own working directory."""
        kind = engine_kind(job.engine, job.run_type)
        job.workdir.mkdir(parents=True, exist_ok=True)
        if job.fault == "hang":
            return [sys.executable, "-c", HANG_CODE]
        if kind == "shell":
            return ["bash", "-c", job.code]
        if kind == "python":
            script = job.workdir / "script.py"
            script.write_text(job.code, encoding="utf-8")
            return [sys.executable, str(script)]
        if kind == "sql":
            code_file = job.workdir / "code.sql"
            code_file.write_text(job.code, encoding="utf-8")
            return [
                sys.executable,
                "-c",
                SQL_RUNNER,
                job.sqlite_path,
                str(job.result_dir),
                str(code_file),
            ]
        return None

    def _spawn_and_wait(self, job: Job, argv: list[str]) -> tuple[int, bool]:
        """Run the job in its own session (so a kill reaches the whole process group)."""
        with (
            open(job.workdir / "stdout.txt", "wb") as out,
            open(job.workdir / "stderr.txt", "wb") as err,
        ):
            proc = subprocess.Popen(
                argv,
                cwd=job.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        with self._lock:
            job.proc = proc
            killed_meanwhile = job.cancel.is_set() and job.fault != "ignore_kill"
        if killed_meanwhile:
            self._terminate(job)
        return self._wait(job, proc)

    def _wait(self, job: Job, proc: subprocess.Popen[bytes]) -> tuple[int, bool]:
        """Wait for the process; escalate a kill to SIGKILL after the grace; enforce the timeout."""
        started = time.monotonic()
        while True:
            try:
                rc = proc.wait(timeout=WAIT_TICK)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if job.kill_deadline is not None and now >= job.kill_deadline:
                _signal_group(proc.pid, signal.SIGKILL)
                job.kill_deadline = None
            if job.running_timeout is not None and now - started >= job.running_timeout:
                _signal_group(proc.pid, signal.SIGKILL)
                return proc.wait(), True
        if job.cancel.is_set() and job.fault != "ignore_kill":
            _signal_group(proc.pid, signal.SIGKILL)  # orphans left in the group
        return rc, False

    def _conclude(self, job: Job, rc: int, timed_out: bool) -> None:
        """Turn the process outcome into results, log lines and the final state."""
        stderr = (job.workdir / "stderr.txt").read_text(encoding="utf-8", errors="replace")
        with self._lock:
            for line in stderr.splitlines():
                if line.strip():
                    self._log(job, "ERROR", line)
        if job.terminal:
            return
        if timed_out:
            self._finish(job, "Failed", ERR_TIMEOUT, f"job running timeout after {job.running_timeout}s")
        elif rc != 0:
            tail = stderr.strip()[-2000:]
            # stderr is in the log already; only a bare exit code needs a line of its own
            self._finish(job, "Failed", ERR_ENGINE, tail or f"exit code {rc}", log_desc=not tail)
        else:
            self._write_text_result(job)
            self._finish(job, "Succeed")

    def _write_text_result(self, job: Job) -> None:
        """Store shell/python stdout as the TEXT result set ``_0.dolphin``."""
        if engine_kind(job.engine, job.run_type) not in ("shell", "python"):
            return
        stdout = (job.workdir / "stdout.txt").read_text(encoding="utf-8", errors="replace")
        if not stdout:
            return
        job.result_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "type": "1",
            "metadata": "NULL",
            "rows": [[line] for line in stdout.splitlines()],
        }
        (job.result_dir / "_0.dolphin").write_text(json.dumps(payload), encoding="utf-8")

    def _retire(self, job: Job) -> None:
        with self._lock:
            self._live.pop(job.task_id, None)
            if job.fault == "evict":
                self._jobs.pop(job.exec_id, None)

    # -- state changes (callers may hold the lock; it is re-entrant) --

    def _log(self, job: Job, level: str, text: str) -> None:
        line = log_line(level, text)
        with self._lock:
            job.lines.append(line)
            with open(job.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def _set_state(self, job: Job, state: str, message: str) -> None:
        with self._lock:
            job.state = state
            self._log(job, "INFO", message)
            self.history.update(job.task_id, status=state, updated=now_ms())

    def _finish(
        self,
        job: Job,
        state: str,
        err_code: int | None = None,
        err_desc: str | None = None,
        log_desc: bool = True,
    ) -> bool:
        """Move a job to a terminal state once; later attempts (a kill racing the exit) lose."""
        with self._cond:
            if job.terminal:
                return False
            job.state, job.progress, job.finished_at = state, 1.0, time.monotonic()
            if err_desc and log_desc:
                self._log(job, "ERROR", err_desc)
            self._log(
                job,
                "INFO",
                f"Job {job.exec_id}: Your job completed with status {FINAL_WORD[state]}.",
            )
            self.history.update(job.task_id, status=state, progress="1.0", err_code=err_code,
                                err_desc=err_desc, updated=now_ms())  # fmt: skip
            self._cond.notify_all()
            return True

    # -- kill --

    def kill(self, exec_id: str, task_id: int | None, user: str) -> tuple[str, dict[str, Any]]:
        """Kill a job in memory, or force-kill its history row by taskID."""
        with self._lock:
            job = self.find(exec_id, task_id)
            if job is None:
                return self._force_kill(task_id, user)
            if job.user.lower() != user.lower():
                raise Refusal(f"{user} has no permission to kill job {exec_id}")
            if job.terminal:
                raise Refusal(f"job {exec_id} already finished with status {job.state}")
            self._cancel(job)
        return "Successfully killed the job(成功kill了job)", {"execID": exec_id}

    def _cancel(self, job: Job) -> None:
        """Mark Cancelled at once; the process gets SIGTERM now and SIGKILL after the grace."""
        self._log(job, "WARN", f"Job {job.exec_id} is killed by user {job.user}")
        self._finish(job, "Cancelled")
        job.cancel.set()
        if job.proc is not None and job.fault != "ignore_kill":
            self._terminate(job)

    def _terminate(self, job: Job) -> None:
        if job.proc is not None:
            _signal_group(job.proc.pid, signal.SIGTERM)
            job.kill_deadline = time.monotonic() + self._kill_grace

    def _force_kill(self, task_id: int | None, user: str) -> tuple[str, dict[str, Any]]:
        if task_id is None:
            raise Refusal("job is not in memory and no taskID was given to force kill it")
        row = self.history.get(task_id)
        if row is None or str(row["execute_user"]).lower() != user.lower():
            raise Refusal(f"task {task_id} not found")
        live = self._live.get(task_id)
        if live is not None and not live.terminal:
            self._cancel(live)
        elif row["status"] in TERMINAL_STATES:
            raise Refusal(f"task {task_id} already finished with status {row['status']}")
        else:
            self.history.update(task_id, status="Cancelled", progress="1.0", updated=now_ms())
        return "Forced Kill task (强制杀死任务)", {}

    # -- reads --

    def find(self, exec_id: str, task_id: int | None) -> Job | None:
        """Return the in-memory job; a taskID that does not match (a reused execID) is a miss."""
        with self._lock:
            job = self._jobs.get(exec_id)
        if job is None or (task_id is not None and job.task_id != task_id):
            return None
        return job

    def owned(self, exec_id: str, task_id: int | None, user: str, missing: str) -> Job:
        job = self.find(exec_id, task_id)
        if job is None:
            raise Refusal(missing.format(exec_id=exec_id))
        if job.user.lower() != user.lower():
            raise Refusal(f"{user} has no permission to read job {exec_id}")
        return job

    def log_page(self, job: Job, from_line: int, size: int) -> dict[str, Any]:
        """Return the 4-slot log from a cursor; next cursor = max(fromLine, 1) + lines returned."""
        start = max(from_line, 1)
        size = 10000 if size < 0 else size
        with self._lock:
            chunk = job.lines[start - 1 : start - 1 + size]
        return {"execID": job.exec_id, "fromLine": start + len(chunk), "log": four_slots(chunk)}

    def task(self, task_id: int, user: str) -> dict[str, Any]:
        row = self.history.get(task_id)
        if row is None or user.lower() not in (
            str(row["um_user"]).lower(),
            str(row["execute_user"]).lower(),
        ):
            raise Refusal(f"task {task_id} not found or not yours")
        return row

    # -- control --

    def evict(self, task_id: int) -> bool:
        with self._lock:
            for exec_id, job in list(self._jobs.items()):
                if job.task_id == task_id:
                    del self._jobs[exec_id]
                    return True
        return False

    def reset(self) -> None:
        """Forget jobs, history, faults and counters; running processes are killed."""
        with self._cond:
            for job in self._live.values():
                job.cancel.set()
                if job.proc is not None:
                    _signal_group(job.proc.pid, signal.SIGKILL)
            self._jobs.clear()
            self.submits = 0
            self._cond.notify_all()
        self.faults.clear()
        self.history.clear()

    def close(self) -> None:
        """Kill every process and wait for the job threads, then close the history file."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            live = list(self._live.values())
            for job in live:
                job.cancel.set()
                if job.proc is not None:
                    _signal_group(job.proc.pid, signal.SIGKILL)
            self._cond.notify_all()
        for job in live:
            if job.thread is not None:
                job.thread.join(timeout=10)
        self.history.close()


# -- filesystem ------------------------------------------------------------------------------


def resolve_path(gw: Gateway, path: str | None) -> Path:
    """Map a ``file://`` or plain path to a file under the state directory (else 80010)."""
    if not path:
        raise Refusal("path can not be empty(路径不能为空)", 80004)
    raw = path.removeprefix("file://")
    resolved = Path(raw).resolve()
    if not resolved.is_relative_to(gw.root):
        raise Refusal(f"no permission to access {path}", 80010)
    return resolved


def dir_tree(gw: Gateway, path: str | None) -> dict[str, Any]:
    directory = resolve_path(gw, path)
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
    gw: Gateway, path: str | None, page: int, page_size: int, null_value: str | None
) -> dict[str, Any]:
    """Serve one page of a result set: string cells, ``"NULL"`` unless ``nullValue=LINKIS_NULL``."""
    target = resolve_path(gw, path)
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


def open_log(gw: Gateway, path: str | None) -> dict[str, Any]:
    target = resolve_path(gw, path)
    if not target.is_file():
        raise Refusal(f"log {path} does not exist", 80012)
    if target.stat().st_size > MAX_LOG_BYTES:
        raise Refusal("log file is larger than 30MB", 80033)
    lines = target.read_text(encoding="utf-8", errors="replace").splitlines()
    return {"log": four_slots(lines, line_endings=True)}


# -- HTTP layer ------------------------------------------------------------------------------


def _gw() -> Gateway:
    gw: Gateway = current_app.extensions[EXTENSION]
    return gw


def _method_name() -> str:
    path = request.path
    return "/api" + path[len(PREFIX) :] if path.startswith(PREFIX) else path


def reply(status: int = 0, message: str = "OK", data: Any = None, http: int | None = None) -> Response:
    """Answer with the four-key envelope; the HTTP code follows the status as in Linkis."""
    body = {
        "method": _method_name(),
        "status": status,
        "message": message,
        "data": {} if data is None else data,
    }
    code = http or HTTP_OF_STATUS.get(status, status if status >= 100 else 400)
    return Response(json.dumps(body, ensure_ascii=False), status=code, content_type=JSON_TYPE)


def refusal_reply(exc: Refusal) -> Response:
    if exc.err_code is None:
        return reply(exc.status, exc.message, {}, exc.http)
    message = f"error code(错误码): {exc.err_code}, error message(错误信息): {exc.message}."
    error = {"level": 2, "errCode": exc.err_code, "desc": exc.message, "ip": "127.0.0.1",
             "port": int(request.environ.get("SERVER_PORT") or 0), "serviceKind": APP_NAME}  # fmt: skip
    return reply(exc.status, message, {"errorMsg": error}, exc.http)


def http_error_reply(exc: HTTPException) -> Response:
    """Gateway-framework failures carry the HTTP code in ``status`` and a list in ``data``."""
    code = exc.code or 500
    return reply(code, f"{exc.name}, with request path:{request.path}", [], code)


def unexpected_reply(exc: Exception) -> Response:
    logger.exception("gateway error path=%s", request.path)
    return reply(1, f"{type(exc).__name__}: {exc}", {})


def _drop_response() -> Response:
    """A response that closes the connection before any byte is sent (werkzeug server)."""
    sock = request.environ.get("werkzeug.socket")

    def body() -> Iterator[bytes]:
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError("flowexec fault: connection dropped")
        yield b""  # pragma: no cover - makes this a generator

    return Response(body(), status=200, content_type=JSON_TYPE)


def _fault_response(rule: FaultRule) -> Response | None:
    """Apply a per-request fault; None lets the request go on (``slow``, ``drop_after``)."""
    if rule.action == "slow":
        time.sleep(rule.seconds)
        return None
    if rule.action == "drop_after":
        g.drop_after = True
        return None
    if rule.action == "drop":
        return _drop_response()
    if rule.action in ("http_500", "http_503"):
        code = 500 if rule.action == "http_500" else 503
        name = "Internal Server Error" if code == 500 else "Service Unavailable"
        return reply(code, f"{name}, with request path:{request.path}", [], code)
    if rule.action == "spring_500":
        body = {
            "timestamp": now_ms(),
            "status": 500,
            "error": "Internal Server Error",
            "path": request.path,
        }
        return Response(json.dumps(body), status=500, content_type=JSON_TYPE)
    if rule.action == "status_1":
        return reply(1, "flowexec fault: injected soft error", {})
    if rule.action == "unauth":
        return reply(-1, "You are not logged in, please login first(您尚未登录，请先登录!)", {})
    return Response(
        "<html><body><h1>502 Bad Gateway</h1></body></html>", status=200, content_type="text/html"
    )


def before_request() -> Response | None:
    """Apply faults, then token/cookie auth on every path but login."""
    gw = _gw()
    if request.path.startswith(CONTROL):
        return None
    rule = gw.faults.take(request.method, request.path) if gw.faults_enabled else None
    if rule is not None:
        answer = _fault_response(rule)
        if answer is not None:
            return answer
    if request.path == PREFIX + "/user/login":
        return None
    user, admin = gw.authenticate(request.headers, request.cookies)
    if user is None:
        return reply(-1, "You are not logged in, please login first(您尚未登录，请先登录!)", {})
    g.user, g.admin = user, admin
    return None


def after_request(response: Response) -> Response:
    if g.get("drop_after"):
        return _drop_response()
    return response


def _int_arg(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise Refusal(f"parameter {name} must be an integer") from None


def _exec_id(exec_id: str) -> str:
    """Check the execID layout; a malformed one is a gateway routing error (HTTP 200).

    Like the real gateway, the instance is read from the raw path, so a percent-encoded ``:``
    does not route.
    """
    raw_path = str(request.environ.get("RAW_URI") or "").split("?", 1)[0]
    if "%3a" in raw_path.lower():
        raise Refusal(f"cannot route execID {exec_id}: encoded ':' in the path", http=200)
    match = EXEC_ID.match(exec_id)
    if match is None or len(exec_id) <= 13 + int(match.group(1)) + int(match.group(2)):
        raise Refusal(f"execID {exec_id} is not a valid execID", http=200)
    return exec_id


def _instance() -> str:
    return f"127.0.0.1:{request.environ.get('SERVER_PORT', '9001')}"


# views: user


def login_view() -> Response:
    body = request.get_json(silent=True) or {}
    user, password = str(body.get("userName") or ""), str(body.get("password") or "")
    gw = _gw()
    current = gw.session_user(request.cookies.get(SESSION_COOKIE))
    data = {
        "userName": user,
        "isAdmin": False,
        "sessionTimeOut": SESSION_TIMEOUT_MS,
        "enableWatermark": False,
    }
    if current is not None and current == user:
        return reply(0, "login successful(登录成功)！", data)
    ticket = gw.login(user, password)
    response = reply(0, "login successful(登录成功)！", data)
    response.set_cookie(SESSION_COOKIE, ticket, path="/", httponly=True)
    return response


def logout_view() -> Response:
    _gw().logout(request.cookies.get(SESSION_COOKIE))
    response = reply(0, "Logout successfully(退出登录成功)！")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def heartbeat_view() -> Response:
    return reply(0, "Maintain heartbeat success(维系心跳成功)！")


def user_info_view() -> Response:
    return reply(0, "OK", {"userName": g.user, "isAdmin": bool(g.admin)})


# views: entrance


def submit_view() -> Response:
    req = parse_submit(request.get_json(silent=True))
    return reply(0, "OK", _gw().submit(req, g.user, bool(g.admin), _instance()))


def execute_view() -> Response:
    req = parse_execute(request.get_json(silent=True), g.user)
    return reply(0, "OK", _gw().submit(req, g.user, bool(g.admin), _instance()))


def status_view(exec_id: str) -> Response:
    missing = "job {exec_id} is not in memory(任务不存在于内存中)"
    job = _gw().owned(_exec_id(exec_id), _int_arg("taskID"), g.user, missing)
    return reply(0, "OK", {"status": job.state, "execID": exec_id})


def progress_view(exec_id: str) -> Response:
    job = _gw().owned(_exec_id(exec_id), _int_arg("taskID"), g.user, "job {exec_id} is not in memory")
    if job.state in ("Inited", "Scheduled", "WaitForRetry"):
        raise Refusal(f"job {exec_id} has no progress yet")
    return reply(0, "OK", {"progress": job.progress, "execID": exec_id, "progressInfo": []})


def log_view(exec_id: str) -> Response:
    gw = _gw()
    job = gw.owned(
        _exec_id(exec_id), _int_arg("taskID"), g.user, "job {exec_id} has ended, read its log file"
    )
    from_line, size = _int_arg("fromLine", 1), _int_arg("size", 100)
    return reply(
        0,
        "OK",
        gw.log_page(job, 1 if from_line is None else from_line, 100 if size is None else size),
    )


def kill_view(exec_id: str) -> Response:
    message, data = _gw().kill(_exec_id(exec_id), _int_arg("taskID"), g.user)
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
        message, data = _gw().kill(exec_id, int(task_id), g.user)
        return {"method": method, "status": 0, "message": message, "data": data}
    except (Refusal, ValueError, TypeError) as exc:
        return {"method": method, "status": 1, "message": str(exc), "data": {}}


def pause_view(exec_id: str) -> Response:
    return reply(0, "OK", {"execID": exec_id})


# views: history and filesystem


def history_get_view(task_id: str) -> Response:
    if not task_id.isdigit():
        raise Refusal(f"taskID {task_id} is not a number")
    return reply(0, "OK", {"task": task_json(_gw().task(int(task_id), g.user))})


def history_list_view() -> Response:
    where, args = (
        ["(lower(execute_user) = lower(?) OR lower(um_user) = lower(?))"],
        [g.user, g.user],
    )
    filters = (
        ("startDate", "created >= ?"),
        ("endDate", "created <= ?"),
        ("taskID", "task_id = ?"),
    )
    for name, clause in filters:
        value = _int_arg(name)
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
    page, size = max(_int_arg("pageNow", 1) or 1, 1), max(_int_arg("pageSize", 20) or 20, 1)
    rows, total = _gw().history.query(where, args, page, size)
    return reply(0, "OK", {"tasks": [task_json(r) for r in rows], "totalPage": total})


def dir_tree_view() -> Response:
    return reply(0, "OK", dir_tree(_gw(), request.args.get("path")))


def open_file_view() -> Response:
    page, size = _int_arg("page", 1) or 1, _int_arg("pageSize", 5000) or 5000
    return reply(
        0,
        "OK",
        open_file(_gw(), request.args.get("path"), page, size, request.args.get("nullValue")),
    )


def open_log_view() -> Response:
    return reply(0, "OK", open_log(_gw(), request.args.get("path")))


# views: test control


def add_fault_view() -> Response:
    rule = _gw().faults.add(request.get_json(silent=True) or {})
    return reply(0, "OK", {"action": rule.action, "path": rule.path.pattern, "times": rule.times})


def clear_faults_view() -> Response:
    _gw().faults.clear()
    return reply(0, "OK")


def reset_view() -> Response:
    _gw().reset()
    return reply(0, "OK")


def evict_view(task_id: int) -> Response:
    if not _gw().evict(task_id):
        raise Refusal(f"task {task_id} is not in memory")
    return reply(0, "OK", {"taskID": task_id})


def submits_view() -> Response:
    return reply(0, "OK", {"submits": _gw().submits})


_ROUTES: tuple[tuple[str, tuple[str, ...], Any], ...] = (
    ("/user/login", ("POST",), login_view),
    ("/user/logout", ("GET", "POST"), logout_view),
    ("/user/heartbeat", ("GET", "POST"), heartbeat_view),
    ("/user/userInfo", ("GET",), user_info_view),
    ("/entrance/submit", ("POST",), submit_view),
    ("/entrance/execute", ("POST",), execute_view),
    ("/entrance/<exec_id>/status", ("GET",), status_view),
    ("/entrance/<exec_id>/progress", ("GET",), progress_view),
    ("/entrance/<exec_id>/log", ("GET",), log_view),
    ("/entrance/<exec_id>/kill", ("GET", "POST"), kill_view),
    ("/entrance/<exec_id>/killJobs", ("POST",), kill_jobs_view),
    ("/entrance/<exec_id>/pause", ("GET",), pause_view),
    ("/jobhistory/<task_id>/get", ("GET",), history_get_view),
    ("/jobhistory/list", ("GET",), history_list_view),
    ("/filesystem/getDirFileTrees", ("GET",), dir_tree_view),
    ("/filesystem/openFile", ("GET",), open_file_view),
    ("/filesystem/openLog", ("GET",), open_log_view),
)

_CONTROL_ROUTES: tuple[tuple[str, tuple[str, ...], Any], ...] = (
    ("/faults", ("POST",), add_fault_view),
    ("/faults", ("DELETE",), clear_faults_view),
    ("/reset", ("POST",), reset_view),
    ("/evict/<int:task_id>", ("POST",), evict_view),
    ("/submits", ("GET",), submits_view),
)


def create_gateway(
    state_dir: str | Path,
    *,
    users: Mapping[str, str] = DEFAULT_USERS,
    tokens: Mapping[str, str] = DEFAULT_TOKENS,
    faults_enabled: bool = False,
    max_running_per_group: int = 50,
    sqlite_path: str | None = None,
    max_queued_per_group: int = 1000,
    memory_retention: float = 600.0,
    kill_grace: float = 1.0,
) -> Flask:
    """Build the gateway app; its state (jobs, history) lives in ``app.extensions``."""
    gw = Gateway(
        Path(state_dir), users=users, tokens=tokens, faults_enabled=faults_enabled,
        max_running_per_group=max_running_per_group, max_queued_per_group=max_queued_per_group,
        sqlite_path=sqlite_path, memory_retention=memory_retention, kill_grace=kill_grace,
    )  # fmt: skip
    app = Flask(__name__)
    app.extensions[EXTENSION] = gw
    app.before_request(before_request)
    app.after_request(after_request)
    app.register_error_handler(Refusal, refusal_reply)
    app.register_error_handler(HTTPException, http_error_reply)
    app.register_error_handler(Exception, unexpected_reply)
    for rule, methods, view in _ROUTES:
        app.add_url_rule(PREFIX + rule, view_func=view, methods=list(methods))
    if faults_enabled:
        for rule, methods, view in _CONTROL_ROUTES:
            app.add_url_rule(CONTROL + rule, view_func=view, methods=list(methods))
    return app


def gateway_of(app: Flask) -> Gateway:
    """Return the gateway state behind an app made by ``create_gateway``."""
    gw: Gateway = app.extensions[EXTENSION]
    return gw


@dataclass
class GatewayServer:
    """A gateway served on a daemon thread (tests, embedded use)."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.port}"

    def shutdown(self) -> None:
        """Stop serving, kill job processes and close the history file."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        gateway_of(self.app).close()


class _QuietHandler(WSGIRequestHandler):
    """No access log: an embedded gateway must not write over the caller's output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def serve_gateway(app: Flask, host: str = "127.0.0.1", port: int = 0) -> GatewayServer:
    """Serve the app on a thread (port 0 picks a free port; see ``.url``)."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="linkis-gateway", daemon=True)  # fmt: skip
    thread.start()
    logger.info("gateway serving url=http://%s:%s", host, server.server_port)
    return GatewayServer(app=app, server=server, thread=thread)


def run_gateway(
    host: str,
    port: int,
    state_dir: str | Path,
    users: Mapping[str, str] = DEFAULT_USERS,
    tokens: Mapping[str, str] = DEFAULT_TOKENS,
    faults_enabled: bool = False,
) -> None:
    """Serve the gateway in the foreground until interrupted (``flowexec gateway``)."""
    app = create_gateway(state_dir, users=users, tokens=tokens, faults_enabled=faults_enabled)
    server = make_server(host, port, app, threaded=True)
    logger.info("gateway serving url=http://%s:%s state_dir=%s", host, server.server_port, state_dir)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("gateway interrupted")
    finally:
        server.server_close()
        gateway_of(app).close()
