"""The entrance: accept jobs (history row first), start their threads, kill them, read them."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from flowexec.linkis.port import TERMINAL_STATES
from gateway import runner
from gateway.engines import ERR_NO_ENGINE_CONN
from gateway.engines import engine_kind
from gateway.engines import missing_engine
from gateway.engines import simulated
from gateway.faults import JOB_FAULTS
from gateway.history import History
from gateway.jobs import Job
from gateway.jobs import JobTable
from gateway.jobs import signal_group
from gateway.logs import four_slots
from gateway.protocol import APP_NAME
from gateway.protocol import ERR_QUEUE_FULL
from gateway.protocol import Refusal
from gateway.protocol import file_uri
from gateway.protocol import now_ms
from gateway.protocol import to_seconds
from gateway.submit import SubmitRequest
from gateway.submit import check_user_creator
from gateway.submit import substitute

logger = logging.getLogger(__name__)


class Entrance:
    """Jobs in memory, their threads and processes, over the history rows."""

    def __init__(
        self,
        root: Path,
        history: History,
        *,
        faults_enabled: bool,
        max_running_per_group: int,
        max_queued_per_group: int,
        sqlite_path: str | None,
        memory_retention: float,
        kill_grace: float,
        simulate: frozenset[str] = frozenset(),
    ) -> None:
        self.root = root
        self.simulate = frozenset(name.lower() for name in simulate)
        self.history = history
        self.faults_enabled = faults_enabled
        self.warehouse = sqlite_path or str(root / "warehouse.db")
        self.table = JobTable(history, max_running_per_group=max_running_per_group, kill_grace=kill_grace)
        self._max_queued = max_queued_per_group
        self._retention = memory_retention
        self._serial: Counter[str] = Counter()
        self._closed = False
        self.submits = 0

    # -- submit --

    def submit(self, req: SubmitRequest, user: str, admin: bool, instance: str) -> dict[str, Any]:
        """Accept a job: history row first (as Linkis), then interceptors, then the job thread."""
        execute_user = req.execute_user if admin and req.execute_user else user
        task_id = self.history.insert(self._initial_row(req, user, execute_user, instance))
        try:
            creator = check_user_creator(req.labels, execute_user)
            simulate = self._engine_check(req)
            job = self._enqueue(req, task_id, creator, execute_user, instance)
            job.simulated = simulate
        except Refusal as exc:
            self.history.update(task_id, status="Failed", err_code=exc.err_code, err_desc=exc.message,
                                updated=now_ms(), can_retry=1)  # fmt: skip
            raise
        thread = threading.Thread(
            target=runner.run, args=(self.table, job), name=f"linkis-job-{task_id}", daemon=True
        )
        job.thread = thread
        thread.start()
        logger.info("gateway accepted task_id=%s exec_id=%s", task_id, job.exec_id)
        return {"execID": job.exec_id, "taskID": task_id}

    def _engine_check(self, req: SubmitRequest) -> bool:
        """True for a simulated job; an engine the gateway does not run is refused at submit."""
        engine, _, version = req.labels["engineType"].partition("-")
        engine = engine.lower()
        if simulated(self.simulate, engine, req.run_type):
            return True
        if engine_kind(engine, req.run_type) is None:
            raise Refusal(missing_engine(engine, version or "1", req.run_type), ERR_NO_ENGINE_CONN)
        return False

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
        table = self.table
        with table.lock:
            self._sweep()
            queued = sum(1 for j in table.live.values() if j.group == group and j.state == "Inited")
            if queued >= self._max_queued:
                raise Refusal(f"queue of group {group} is full, please retry later", ERR_QUEUE_FULL)
            self._serial[group] += 1
            job = self._new_job(req, task_id, group, user, engine, instance)
            table.jobs[job.exec_id] = job
            table.live[task_id] = job
            self.submits += 1
            # written to the file with the job's next lines (its start, or its end)
            table.log(job, "INFO", f"Your job is accepted,  jobID is {job.exec_id} and taskID is {task_id} "
                                   f"in {instance}. Please wait it to be scheduled", flush=False)  # fmt: skip
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
            fault=fault if fault in JOB_FAULTS else "", fault_seconds=to_seconds(req.runtime.get("flowexec.fault.seconds"), 1.0),
            running_timeout=timeouts[0], queuing_timeout=timeouts[1],
        )  # fmt: skip

    def _sweep(self) -> None:
        """Forget finished jobs older than the retention time (the entrance reusing slots)."""
        limit = time.monotonic() - self._retention
        for exec_id, job in list(self.table.jobs.items()):
            if job.finished_at is not None and job.finished_at < limit:
                del self.table.jobs[exec_id]

    # -- kill --

    def kill(self, exec_id: str, task_id: int | None, user: str) -> tuple[str, dict[str, Any]]:
        """Kill a job in memory, or force-kill its history row by taskID."""
        with self.table.lock:
            job = self.find(exec_id, task_id)
            if job is None:
                return self._force_kill(task_id, user)
            if job.user != user:
                raise Refusal(f"{user} has no permission to kill job {exec_id}")
            if job.terminal:
                raise Refusal(f"job {exec_id} already finished with status {job.state}")
            self._cancel(job)
        return "Successfully killed the job(成功kill了job)", {"execID": exec_id}

    def _cancel(self, job: Job) -> None:
        """Mark Cancelled at once; the process gets SIGTERM now and SIGKILL after the grace."""
        self.table.log(job, "WARN", f"Job {job.exec_id} is killed by user {job.user}", flush=False)
        self.table.finish(job, "Cancelled")
        job.cancel.set()
        if job.proc is not None and job.fault != "ignore_kill":
            self.table.terminate(job)

    def _force_kill(self, task_id: int | None, user: str) -> tuple[str, dict[str, Any]]:
        if task_id is None:
            raise Refusal("job is not in memory and no taskID was given to force kill it")
        row = self.history.get(task_id)
        if row is None or str(row["execute_user"]) != user:
            raise Refusal(f"task {task_id} not found")
        live = self.table.live.get(task_id)
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
        with self.table.lock:
            job = self.table.jobs.get(exec_id)
        if job is None or (task_id is not None and job.task_id != task_id):
            return None
        return job

    def owned(self, exec_id: str, task_id: int | None, user: str, missing: str) -> Job:
        job = self.find(exec_id, task_id)
        if job is None:
            raise Refusal(missing.format(exec_id=exec_id))
        if job.user != user:
            raise Refusal(f"{user} has no permission to read job {exec_id}")
        return job

    def log_page(self, job: Job, from_line: int, size: int) -> dict[str, Any]:
        """Return the 4-slot log from a cursor; next cursor = max(fromLine, 1) + lines returned."""
        start = max(from_line, 1)
        size = 10000 if size < 0 else size
        with self.table.lock:
            chunk = job.lines[start - 1 : start - 1 + size]
        return {"execID": job.exec_id, "fromLine": start + len(chunk), "log": four_slots(chunk)}

    def task(self, task_id: int, user: str) -> dict[str, Any]:
        row = self.history.get(task_id)
        if row is None or user not in (str(row["um_user"]), str(row["execute_user"])):
            raise Refusal(f"task {task_id} not found or not yours")
        return row

    # -- control --

    def evict(self, task_id: int) -> bool:
        with self.table.lock:
            for exec_id, job in list(self.table.jobs.items()):
                if job.task_id == task_id:
                    del self.table.jobs[exec_id]
                    return True
        return False

    def reset(self) -> None:
        """Forget jobs and the submit counter; running processes are killed."""
        with self.table.cond:
            for job in self.table.live.values():
                job.cancel.set()
                if job.proc is not None:
                    signal_group(job.proc.pid, signal.SIGKILL)
            self.table.jobs.clear()
            self.submits = 0
            self.table.cond.notify_all()

    def close(self) -> bool:
        """Kill every process and wait for the job threads; False if it was closed already."""
        with self.table.cond:
            if self._closed:
                return False
            self._closed = True
            live = list(self.table.live.values())
            for job in live:
                job.cancel.set()
                if job.proc is not None:
                    signal_group(job.proc.pid, signal.SIGKILL)
            self.table.cond.notify_all()
        for job in live:
            if job.thread is not None:
                job.thread.join(timeout=10)
        return True
