"""flowexec as two columns: embedded (``flowexec run FILE``, a process per run, SQLite and the
memory broker) and production (``celery worker`` processes on MariaDB and Redis, started by
``benchmarks.run.services`` exactly as ``flowexec bench`` starts them)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.config import Options
from benchmarks.embedded_run import run_flow_file
from benchmarks.peers.specs import ONE
from benchmarks.peers.specs import Workload
from benchmarks.peers.systems import RUN_TIMEOUT
from benchmarks.peers.systems import OneProcessPerRun
from benchmarks.peers.systems import recorded_seconds
from benchmarks.workloads import Runner


def flowexec_versions() -> dict[str, str]:
    out = {"flowexec": metadata.version("flowexec"), "python": sys.version.split()[0]}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True
    )
    if commit.returncode == 0:
        out["commit"] = commit.stdout.strip()
    return out


class Embedded(OneProcessPerRun):
    """``flowexec run --json FILE`` of control nodes, a whole process each. A workload's time is
    the execution's own record (submitted to finished, in its SQLite file), as the in-process
    peers time theirs inside the process; the process's wall time is the start-up figure."""

    key = "embedded"
    title = "flowexec embedded"

    def __init__(self, home: Path, workloads: list[Workload]) -> None:
        self.home = home
        self.state = home / "state"
        self.files = {w.name: home / f"{w.name}.json" for w in workloads}
        self.workloads = workloads
        self.walls: dict[str, float] = {}

    def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        for workload in self.workloads:
            self.files[workload.name].write_text(json.dumps(workload.flow_doc()), encoding="utf-8")
        self._one(ONE)  # creates and migrates the SQLite file, as a user's first run does

    def _one(self, name: str) -> float:
        wall, result = run_flow_file(self.files[name], self.state)
        if result["status"] != "Succeed":
            raise RuntimeError(f"flowexec run {name} ended {result['status']}")
        self.walls[name] = round(wall, 4)
        return recorded_seconds(
            self.state / "flowexec.db",
            "SELECT started_time, finished_time FROM flowexec_execution WHERE task_id = ?",
            result["taskID"],
        )

    def versions(self) -> dict[str, str]:
        return flowexec_versions()

    def stop(self) -> None:
        return None


class Production:
    """Register, submit and wait for each workload on the bench's cluster; the start-up figure is
    a new client process doing the same for a 1-node flow (``benchmarks.peers.client``)."""

    key = "production"
    title = "flowexec production"

    def __init__(self, options: Options) -> None:
        self.options = options
        self.stack = ExitStack()
        self.runner: Runner | None = None
        self.env: dict[str, str] = {}
        self.home = Path(options.home or ".")
        self.client_flow_id = 1_000_000

    def start(self) -> None:
        from benchmarks.run import services

        runner, _redis, home, _procs, env = self.stack.enter_context(services(self.options))
        self.runner, self.env, self.home = runner, env, home
        self.time(Workload(ONE, "", ("c00000",), ()))

    def time(self, workload: Workload) -> float:
        """Register (validate, plan, persist), submit, dispatch, and wait for the end."""
        assert self.runner is not None
        start = time.monotonic()
        flow_id, version = self.runner.register(workload.flow_doc())
        task_id = self.runner.submit(flow_id, version)
        status, end = self.runner.wait_terminal(task_id, RUN_TIMEOUT, interval=0.005)
        if status != "Succeed":
            raise RuntimeError(f"flowexec production {workload.name} ended {status}")
        return end - start

    def run(self, workloads: list[Workload]) -> dict[str, float]:
        return {w.name: self.time(w) for w in workloads}

    def startup(self) -> float:
        self.client_flow_id += 1
        argv = [sys.executable, "-m", "benchmarks.peers.client", "--flow-id", str(self.client_flow_id)]
        with open(self.home / "client.log", "ab") as log:
            start = time.perf_counter()
            done = subprocess.run(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT
            )
            wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(
                f"the production client exited {done.returncode}; see {self.home / 'client.log'}"
            )
        return wall

    def versions(self) -> dict[str, str]:
        out: dict[str, Any] = flowexec_versions()
        if self.runner is not None:
            out["database"] = str(self.runner.scalar("SELECT VERSION()"))
        return out

    def stop(self) -> None:
        self.stack.close()
