"""HTTP client of the Linkis REST protocol (``/api/rest_j/v1``), implementing the ``Linkis`` port.

Every reply is validated into a frozen value, and only ``flowexec.errors`` types escape: transient
trouble (network, 5xx, gateway-framework status, non-JSON, queue full) is ``LinkisUnavailable``,
refused credentials ``LinkisAuthError``, anything else Linkis refuses ``LinkisError``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from collections.abc import Sequence
from types import TracebackType
from typing import Any
from typing import Self

import requests

from flowexec.backoff import jittered
from flowexec.errors import LinkisAuthError
from flowexec.errors import LinkisError
from flowexec.errors import LinkisJobNotFound
from flowexec.errors import LinkisOutcomeUnknown
from flowexec.errors import LinkisUnavailable
from flowexec.linkis import bml
from flowexec.linkis.port import TERMINAL_STATES
from flowexec.linkis.port import JobInfo
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import JobStatus
from flowexec.linkis.port import LogPage
from flowexec.linkis.port import Script
from flowexec.linkis.schemas import DirFileTreesSchema
from flowexec.linkis.schemas import Envelope
from flowexec.linkis.schemas import HistoryGetSchema
from flowexec.linkis.schemas import HistoryListSchema
from flowexec.linkis.schemas import LogSchema
from flowexec.linkis.schemas import OpenFileSchema
from flowexec.linkis.schemas import OpenLogSchema
from flowexec.linkis.schemas import ProgressSchema
from flowexec.linkis.schemas import ResultPage
from flowexec.linkis.schemas import StatusSchema
from flowexec.linkis.schemas import SubmitSchema
from flowexec.linkis.wire import API_PREFIX
from flowexec.linkis.wire import QUEUE_FULL
from flowexec.linkis.wire import SOFT_ERROR
from flowexec.linkis.wire import AuthRejected
from flowexec.linkis.wire import Transient
from flowexec.linkis.wire import classify
from flowexec.linkis.wire import classify_login
from flowexec.linkis.wire import entrance_instance
from flowexec.linkis.wire import envelope_data
from flowexec.linkis.wire import environment_once
from flowexec.linkis.wire import err_code
from flowexec.linkis.wire import execute_body
from flowexec.linkis.wire import load
from flowexec.linkis.wire import match_source
from flowexec.linkis.wire import maybe_sent
from flowexec.linkis.wire import submit_body

logger = logging.getLogger(__name__)

BACKOFF_CAP = 5.0
LOG_SIZE_UNBOUNDED = 10000


def short_reason(exc: requests.RequestException) -> str:
    """One line for a network error: "connection refused", not urllib3's nested reprs."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno:
        return f"{type(exc).__name__}: {errno.group(1).strip()}"
    if isinstance(exc, requests.Timeout):
        return f"{type(exc).__name__}: no reply in time"
    return f"{type(exc).__name__}: {text[:200]}"


#: The replies read at every node step: one instance each (building a schema costs more than a
#: load; a schema's ``load`` keeps no state between calls, so threads share them).
SUBMIT = SubmitSchema()
STATUS = StatusSchema()
HISTORY_GET = HistoryGetSchema()

#: Connections kept per Linkis host: at least the calls a worker makes at once (its greenlets).
POOL_SIZE = 64


class LinkisClient:
    """One pooled ``requests.Session`` speaking to a Linkis gateway.

    ``retries`` is how many times a call is tried on a transient error, sleeping between
    tries: for callers outside tasks (the CLI). Inside Celery tasks the client is built with
    ``retries=1`` and the task retries (``self.retry``), so no worker thread ever sleeps here.

    Authentication is by token headers (``Token-Code``/``Token-User``), or, when ``password``
    is given, by ``user/login`` and the session cookie, logging in again when the session
    expires (HTTP 401 / ``status: -1``). ``legacy_execute`` submits through the 0.x
    ``entrance/execute`` form for gateways without ``entrance/submit``.
    """

    def __init__(
        self,
        base_url: str,
        token: str = "LINKIS-AUTH",
        user: str = "hadoop",
        connect_timeout: float = 5,
        read_timeout: float = 30,
        submit_timeout: float = 60,
        retries: int = 4,
        backoff: float = 0.2,
        password: str | None = None,
        legacy_execute: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user = user
        self._api = self.base_url + API_PREFIX
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._submit_timeout = submit_timeout
        self._retries = max(retries, 1)
        self._backoff = backoff
        self._password = password
        self._legacy_execute = legacy_execute
        self._logged_in = False
        self._session = requests.Session()
        # one connection per concurrent call: a gevent worker runs dozens of calls at once
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({"Accept": "application/json"})
        environment_once(self._session, self._api)
        if password is None:
            self._session.headers.update({"Token-Code": token, "Token-User": user})

    def login(self) -> None:
        """Log in with the password; the gateway's session cookie is kept in the session."""
        if self._password is None:
            raise LinkisAuthError("no password configured: this client authenticates by token")
        body = {"userName": self.user, "password": self._password}
        env = classify_login(self._attempt_raw("POST", "user/login", None, body, None))
        if env.status != 0:
            raise LinkisAuthError(f"Linkis login of {self.user} refused: {env.message}")
        self._logged_in = True

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the port ---------------------------------------------------------------------------

    def submit(self, spec: JobSpec) -> JobRef:
        """Submit a job as ``spec.user``; never resent once the server may have seen it."""
        legacy = self._legacy_execute
        env = self._send(
            "POST",
            "entrance/execute" if legacy else "entrance/submit",
            body=execute_body(spec) if legacy else submit_body(spec),
            user=spec.user,
            read_timeout=self._submit_timeout,
            idempotent=False,
        )
        ref: JobRef = load(SUBMIT, envelope_data(env, "submit"), "submit")
        logger.info("linkis submit exec_id=%s task_id=%s", ref.exec_id, ref.task_id)
        return ref

    def status(self, ref: JobRef) -> JobStatus:
        """Return the job's state; a job no longer in entrance memory is read from history."""
        env = self._send("GET", f"entrance/{ref.exec_id}/status", params={"taskID": ref.task_id})
        if env.status == SOFT_ERROR and err_code(env) != QUEUE_FULL:
            logger.info("linkis status not in memory task_id=%s: reading history", ref.task_id)
            info = self.history(ref.task_id)
            return JobStatus(state=info.status, progress=info.progress)
        status: JobStatus = load(STATUS, envelope_data(env, "status"), "status")
        return status

    def progress(self, ref: JobRef) -> float | None:
        """Return progress 0.0-1.0, or None when Linkis has none (yet, or any more)."""
        return self.progress_info(ref)[0]

    def progress_info(self, ref: JobRef) -> tuple[float | None, list[dict[str, Any]]]:
        """Return progress and its per-stage ``progressInfo`` (``id``, succeed/failed/running/total tasks)."""
        env = self._send("GET", f"entrance/{ref.exec_id}/progress", params={"taskID": ref.task_id})
        if env.status == SOFT_ERROR:
            return None, []
        data = envelope_data(env, "progress")
        progress: float | None = load(ProgressSchema(), data, "progress")
        stages = data.get("progressInfo")
        return progress, [dict(s) for s in stages if isinstance(s, dict)] if isinstance(stages, list) else []

    def kill_jobs(self, refs: Sequence[JobRef]) -> list[str]:
        """Kill many jobs with ``killJobs``, one call per entrance instance; return refusals.

        The path's execID only picks the entrance, so ids are grouped by the instance
        their execID names. A refusal for a job that already ended is not returned.
        """
        refused: list[str] = []
        by_instance: dict[str, list[JobRef]] = {}
        for ref in refs:
            by_instance.setdefault(entrance_instance(ref.exec_id), []).append(ref)
        for group in by_instance.values():
            body = {"idList": [r.exec_id for r in group], "taskIDList": [r.task_id for r in group]}
            env = self._send("POST", f"entrance/{group[0].exec_id}/killJobs", body=body)
            messages = envelope_data(env, "killJobs").get("messages") or []
            for ref, message in zip(group, messages, strict=False):
                if isinstance(message, dict) and message.get("status") not in (0, None):
                    if self.history(ref.task_id).status not in TERMINAL_STATES:
                        refused.append(f"{ref.task_id}: {message.get('message')}")
        return refused

    def history(self, task_id: int) -> JobInfo:
        """Return the authoritative history row of a task."""
        env = self._send("GET", f"jobhistory/{task_id}/get")
        if env.status == SOFT_ERROR:
            raise LinkisJobNotFound(f"Linkis task {task_id}: {env.message}", err_code(env))
        info: JobInfo = load(HISTORY_GET, envelope_data(env, "history"), "history")
        return info

    def kill(self, ref: JobRef) -> None:
        """Kill a job (safe to repeat); a refusal for a job that already ended is success."""
        env = self._send("GET", f"entrance/{ref.exec_id}/kill", params={"taskID": ref.task_id})
        if env.status != SOFT_ERROR:
            envelope_data(env, "kill")
            return
        info = self.history(ref.task_id)
        if info.status not in TERMINAL_STATES:
            raise LinkisError(f"Linkis refused to kill task {ref.task_id}: {env.message}", err_code(env))

    def log(self, ref: JobRef, from_line: int = 1, size: int = 100) -> LogPage:
        """Return log lines from a cursor; after the job leaves memory, from the full log file."""
        params = {"fromLine": from_line, "size": size, "taskID": ref.task_id}
        env = self._send("GET", f"entrance/{ref.exec_id}/log", params=params)
        if env.status == SOFT_ERROR:
            return self._log_from_file(ref.task_id, from_line, size)
        page: LogPage = load(LogSchema(from_line=from_line), envelope_data(env, "log"), "log")
        return page

    def _log_from_file(self, task_id: int, from_line: int, size: int) -> LogPage:
        """Serve the same cursor from the full log once the job has left entrance memory."""
        info = self.history(task_id)
        start = max(from_line, 1)
        if not info.log_path:
            return LogPage(lines=(), next_line=start)
        lines = [line for line in self.open_log(info.log_path).split("\n") if line.strip()]
        chunk = lines[start - 1 : start - 1 + (LOG_SIZE_UNBOUNDED if size < 0 else size)]
        return LogPage(lines=tuple(chunk), next_line=start + len(chunk))

    def open_script(self, resource_id: str, version: str | None, file_name: str, user: str) -> Script:
        """Read a node's script from BML, as DSS does (``filesystem/openScriptFromBML``)."""
        return bml.open_script(self, resource_id, version, file_name, user)

    # -- results and files -----------------------------------------------------------------

    def open_log(self, path: str) -> str:
        """Return the full log (ALL lines) of a finished job from its history ``logPath``."""
        env = self._send("GET", "filesystem/openLog", params={"path": path})
        text: str = load(OpenLogSchema(), envelope_data(env, "openLog"), "openLog")
        return text

    def result_files(self, result_location: str) -> list[str]:
        """Return the result set files of a job, ordered by set number (empty if no output)."""
        env = self._send("GET", "filesystem/getDirFileTrees", params={"path": result_location})
        files: list[str] = load(DirFileTreesSchema(), envelope_data(env, "getDirFileTrees"), "tree")
        return files

    def open_file(self, path: str, page: int = 1, page_size: int = 5000) -> ResultPage:
        """Return one page of a result set file."""
        params = {"path": path, "page": page, "pageSize": page_size}
        env = self._send("GET", "filesystem/openFile", params=params)
        result: ResultPage = load(OpenFileSchema(), envelope_data(env, "openFile"), "openFile")
        return result

    def read_result(self, path: str, page_size: int = 5000) -> ResultPage:
        """Return a whole result set, paging until a short page (the only end signal)."""
        first = self.open_file(path, 1, page_size)
        rows = list(first.rows)
        page_no, last = 1, first
        while len(last.rows) >= page_size:
            page_no += 1
            last = self.open_file(path, page_no, page_size)
            rows.extend(last.rows)
        return ResultPage(type=first.type, columns=first.columns, rows=tuple(rows))

    def find_by_source(
        self, tag: Mapping[str, str], since_ms: int, creator: str | None = None, page_size: int = 50
    ) -> JobInfo | None:
        """Find the task whose ``source`` carries ``tag`` (adopting a submit whose reply was lost)."""
        params: dict[str, Any] = {
            "startDate": since_ms,
            "endDate": int(time.time() * 1000) + 60_000,
        }
        if creator:
            params["creator"] = creator
        for page_no in range(1, 21):
            params.update(pageNow=page_no, pageSize=page_size)
            env = self._send("GET", "jobhistory/list", params=params)
            tasks = load(HistoryListSchema(), envelope_data(env, "list"), "list")["tasks"] or []
            match = match_source(tasks, tag)
            if match is not None or len(tasks) < page_size:
                return match
        return None

    # -- transport -------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        user: str | None = None,
        read_timeout: float | None = None,
        idempotent: bool = True,
        files: Mapping[str, Any] | None = None,
    ) -> Envelope:
        """Call Linkis with retries; return an envelope Linkis itself answered (any status < 100).

        With ``files`` the request is multipart: ``files`` parts plus ``body`` as text parts.
        """
        auth_retried = False
        attempt = 0
        while True:
            try:
                if self._password is not None and not self._logged_in:
                    self.login()
                return self._attempt(method, path, params, body, user, read_timeout, files)
            except AuthRejected as exc:
                if auth_retried:
                    raise LinkisAuthError(f"Linkis rejected credentials: {exc}") from None
                auth_retried = True  # a token reload or an expired session: once only
                self._logged_in = False
            except Transient as exc:
                attempt += 1
                self._retry_or_raise(exc, attempt, idempotent, f"{method} {path}")

    def _retry_or_raise(self, exc: Transient, attempt: int, idempotent: bool, what: str) -> None:
        """Sleep before the next try, or raise when tries are spent or a resend is unsafe."""
        if not idempotent and exc.maybe_sent:
            # The job may exist already: the caller must search history before resubmitting.
            raise LinkisOutcomeUnknown(f"{what}: outcome unknown: {exc}") from None
        if attempt >= self._retries:
            raise LinkisUnavailable(f"Linkis at {self.base_url} did not answer {what}: {exc}") from None
        delay = jittered(attempt - 1, self._backoff, BACKOFF_CAP)
        logger.warning("linkis transient error, retrying in %.2fs call=%s: %s", delay, what, exc)
        time.sleep(delay)

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        user: str | None,
        read_timeout: float | None,
        files: Mapping[str, Any] | None = None,
    ) -> Envelope:
        """Make one HTTP request and classify its outcome."""
        with self._attempt_raw(
            method, path, params, body, self.user_header(user), read_timeout, files
        ) as resp:
            return classify(resp)

    def user_header(self, user: str | None) -> dict[str, str] | None:
        """``Token-User`` of a call made for ``user``; with a login session, none (the session's user)."""
        return {"Token-User": user} if user and self._password is None else None

    def _attempt_raw(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        headers: Mapping[str, str] | None,
        read_timeout: float | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        timeout = (self._connect_timeout, read_timeout or self._read_timeout)
        payload: dict[str, Any] = {"files": files, "data": body} if files else {"json": body}
        try:
            return self._session.request(
                method, self._api + path, params=params, headers=headers, timeout=timeout, **payload
            )
        except requests.RequestException as exc:
            raise Transient(short_reason(exc), maybe_sent=maybe_sent(exc)) from exc
