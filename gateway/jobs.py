"""Jobs in entrance memory, and the one table (and lock) that every state change goes through."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from flowexec.linkis.port import TERMINAL_STATES
from gateway.history import History
from gateway.logs import log_line
from gateway.protocol import FINAL_WORD
from gateway.protocol import now_ms


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
    simulated: bool = False
    fault_seconds: float = 0.0
    running_timeout: float | None = None
    queuing_timeout: float | None = None
    state: str = "Inited"
    progress: float = 0.0
    lines: list[str] = field(default_factory=list)
    #: How many of ``lines`` the log file has.
    written: int = 0
    proc: subprocess.Popen[bytes] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    kill_deadline: float | None = None
    finished_at: float | None = None
    created: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write(text)


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a job's process group; a group that is already gone is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class JobTable:
    """Jobs by execID, live jobs by taskID, running slots per group; one re-entrant lock.

    Callers may hold the lock (or its condition) when they call a state change; it is re-entrant.
    """

    def __init__(self, history: History, *, max_running_per_group: int, kill_grace: float) -> None:
        self.history = history
        self.max_running = max_running_per_group
        self.kill_grace = kill_grace
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.jobs: dict[str, Job] = {}
        self.live: dict[int, Job] = {}
        self.running: Counter[str] = Counter()

    def log(self, job: Job, level: str, text: str, flush: bool = True) -> None:
        """Add a line to a job's log (read from memory while the job is there); ``flush``
        also appends every line the file lacks, in one write: a job's lines come in bursts
        (accepted, scheduled, running; its end), and an open per line was a sixth of the
        gateway's CPU per job."""
        line = log_line(level, text)
        with self.lock:
            job.lines.append(line)
            if flush:
                self.flush(job)

    def flush(self, job: Job) -> None:
        """Append the lines the job's log file lacks (its folder made on first use)."""
        with self.lock:
            text = "".join(line + "\n" for line in job.lines[job.written :])
            if not text:
                return
            try:
                _append(job.log_path, text)
            except FileNotFoundError:
                job.log_path.parent.mkdir(parents=True, exist_ok=True)
                _append(job.log_path, text)
            job.written = len(job.lines)

    def set_state(self, job: Job, state: str, message: str, flush: bool = True) -> None:
        with self.lock:
            job.state = state
            self.log(job, "INFO", message, flush)
            self.history.update(job.task_id, status=state, updated=now_ms())

    def finish(
        self,
        job: Job,
        state: str,
        err_code: int | None = None,
        err_desc: str | None = None,
        log_desc: bool = True,
    ) -> bool:
        """Move a job to a terminal state once; later attempts (a kill racing the exit) lose."""
        with self.cond:
            if job.terminal:
                return False
            job.state, job.progress, job.finished_at = state, 1.0, time.monotonic()
            if err_desc and log_desc:
                self.log(job, "ERROR", err_desc, flush=False)
            self.log(
                job,
                "INFO",
                f"Job {job.exec_id}: Your job completed with status {FINAL_WORD[state]}.",
            )
            self.history.update(job.task_id, status=state, progress="1.0", err_code=err_code,
                                err_desc=err_desc, updated=now_ms())  # fmt: skip
            self.cond.notify_all()
            return True

    def terminate(self, job: Job) -> None:
        """SIGTERM the job's process group now; the runner sends SIGKILL after the grace."""
        if job.proc is not None:
            signal_group(job.proc.pid, signal.SIGTERM)
            job.kill_deadline = time.monotonic() + self.kill_grace

    def retire(self, job: Job) -> None:
        """The job's thread is done: it leaves the live table (and memory, under ``evict``)."""
        with self.lock:
            self.flush(job)
            self.live.pop(job.task_id, None)
            if job.fault == "evict":
                self.jobs.pop(job.exec_id, None)
