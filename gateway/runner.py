"""The job thread: wait for a running slot, run the job's process, turn its outcome into a state."""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import time

from gateway.engines import command
from gateway.engines import engine_kind
from gateway.files import write_result
from gateway.jobs import Job
from gateway.jobs import JobTable
from gateway.jobs import signal_group
from gateway.protocol import ERR_ENGINE
from gateway.protocol import ERR_TIMEOUT
from gateway.protocol import to_seconds

logger = logging.getLogger(__name__)

WAIT_TICK = 0.25


def run(table: JobTable, job: Job) -> None:
    """Drive one job from Inited to a terminal state; never raise (it is a thread)."""
    try:
        if _await_slot(table, job):
            try:
                _execute(table, job)
            finally:
                with table.cond:
                    table.running[job.group] -= 1
                    table.cond.notify_all()
    except Exception:
        logger.exception("gateway job crashed task_id=%s", job.task_id)
        table.finish(job, "Failed", ERR_ENGINE, "gateway internal error")
    finally:
        table.retire(job)


def _await_slot(table: JobTable, job: Job) -> bool:
    """Wait in Inited for a running slot of the job's group; give up on kill or queue timeout."""
    with table.cond:
        while table.running[job.group] >= table.max_running and not job.cancel.is_set():
            waited = time.monotonic() - job.created
            if job.queuing_timeout is not None and waited >= job.queuing_timeout:
                table.finish(job, "Failed", ERR_TIMEOUT, "job queuing timeout")
                return False
            table.cond.wait(timeout=WAIT_TICK)
        if job.cancel.is_set():
            return False
        table.running[job.group] += 1
        # written to the file with the next line: a job with a slot starts at once
        table.set_state(job, "Scheduled", "Your job is Scheduled. Please wait it to run.", flush=False)
        return True


def _execute(table: JobTable, job: Job) -> None:
    if job.fault == "delay":
        job.cancel.wait(job.fault_seconds)
    if job.cancel.is_set():
        return
    if job.fault == "fail":
        err_code = int(to_seconds(job.runtime.get("flowexec.fault.errCode"), ERR_ENGINE))
        table.finish(
            job,
            "Failed",
            err_code,
            str(job.runtime.get("flowexec.fault.errDesc", "injected failure")),
        )
        return
    if job.simulated:
        _simulate(table, job)
        return
    argv = command(job)
    if argv is None:
        desc = f"no engine available for engineType {job.engine} and runType {job.run_type}"
        table.finish(job, "Failed", ERR_ENGINE, desc)
        return
    with table.lock:
        if job.cancel.is_set():
            return
        table.set_state(job, "Running", "Your job is Running now. Please wait it to complete.")
        job.progress = 0.5
    rc, timed_out = _spawn_and_wait(table, job, argv)
    _conclude(table, job, rc, timed_out)


def _simulate(table: JobTable, job: Job) -> None:
    """A simulated engine: the job succeeds without running; its log shows what it was given."""
    with table.lock:
        if job.cancel.is_set():
            return
        table.set_state(job, "Running", "Your job is Running now. Please wait it to complete.")
        table.log(job, "INFO", f"simulated {job.engine}.{job.run_type}", flush=False)
        for line in job.code.splitlines():
            table.log(job, "INFO", line, flush=False)
    table.finish(job, "Succeed")


def _spawn_and_wait(table: JobTable, job: Job, argv: list[str]) -> tuple[int, bool]:
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
    with table.lock:
        job.proc = proc
        killed_meanwhile = job.cancel.is_set() and job.fault != "ignore_kill"
    if killed_meanwhile:
        table.terminate(job)
    return _wait(job, proc)


def _exited_within(proc: subprocess.Popen[bytes], seconds: float) -> int | None:
    """The exit code if the process ends within ``seconds``, else ``None``.

    Sleeps in ``poll`` on a pidfd (Linux 5.3+): woken the moment the process exits, and not
    at all before. ``Popen.wait(timeout)`` polls instead, up to every 50 ms: with a thousand
    jobs running, those wake-ups alone kept the gateway too busy to answer.
    """
    if not hasattr(os, "pidfd_open"):
        try:
            return proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None
    try:
        fd = os.pidfd_open(proc.pid)
    except OSError:  # already reaped, or no pidfd support in this kernel
        try:
            return proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None
    try:
        # poll, not select: a thousand running jobs hold pidfds numbered past select's 1024.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        ready = poller.poll(seconds * 1000)
    finally:
        os.close(fd)
    return proc.wait() if ready else None


def _wait(job: Job, proc: subprocess.Popen[bytes]) -> tuple[int, bool]:
    """Wait for the process; escalate a kill to SIGKILL after the grace; enforce the timeout."""
    started = time.monotonic()
    while True:
        rc = _exited_within(proc, WAIT_TICK)
        if rc is not None:
            break
        now = time.monotonic()
        if job.kill_deadline is not None and now >= job.kill_deadline:
            signal_group(proc.pid, signal.SIGKILL)
            job.kill_deadline = None
        if job.running_timeout is not None and now - started >= job.running_timeout:
            signal_group(proc.pid, signal.SIGKILL)
            return proc.wait(), True
    if job.cancel.is_set() and job.fault != "ignore_kill":
        signal_group(proc.pid, signal.SIGKILL)  # orphans left in the group
    return rc, False


def _conclude(table: JobTable, job: Job, rc: int, timed_out: bool) -> None:
    """Turn the process outcome into results, log lines and the final state."""
    path = job.workdir / "stderr.txt"
    stderr = path.read_text(encoding="utf-8", errors="replace") if path.stat().st_size else ""
    with table.lock:
        for line in stderr.splitlines():
            if line.strip():
                table.log(job, "ERROR", line, flush=False)
    if job.terminal:
        table.flush(job)
        return
    if timed_out:
        table.finish(job, "Failed", ERR_TIMEOUT, f"job running timeout after {job.running_timeout}s")
    elif rc != 0:
        tail = stderr.strip()[-2000:]
        # stderr is in the log already; only a bare exit code needs a line of its own
        table.finish(job, "Failed", ERR_ENGINE, tail or f"exit code {rc}", log_desc=not tail)
    else:
        _write_text_result(job)
        table.finish(job, "Succeed")


def _write_text_result(job: Job) -> None:
    """Store shell/python stdout as the TEXT result set ``_0.dolphin``."""
    if engine_kind(job.engine, job.run_type) not in ("shell", "python"):
        return
    stdout = job.workdir / "stdout.txt"
    if stdout.stat().st_size == 0:
        return
    job.result_dir.mkdir(parents=True, exist_ok=True)
    with open(stdout, encoding="utf-8", errors="replace", newline=None) as lines:
        rows = ([line.rstrip("\n")] for line in lines)
        write_result(job.result_dir / "_0.dolphin", "1", "NULL", rows)
