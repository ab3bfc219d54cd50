"""The peers as the rounds see them: start once, run every workload, time a start-up, stop.

Each peer runs its runner script (``runners/``) with its own virtualenv's python; the seconds
of each workload come back in a JSON file. Airflow is timed from the outside: every
``airflow dags test`` is a whole process.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import Protocol

from benchmarks.cluster import Processes
from benchmarks.peers.specs import ONE
from benchmarks.peers.specs import Workload
from benchmarks.peers.venvs import PEERS
from benchmarks.peers.venvs import RUNNERS
from benchmarks.peers.venvs import installed_versions

#: The longest one workload may take on any system (Airflow's fan-out is the slowest).
RUN_TIMEOUT = 1800.0


class System(Protocol):
    """One column of the table."""

    key: str
    title: str

    def start(self) -> None: ...

    def run(self, workloads: list[Workload]) -> dict[str, float]: ...

    def startup(self) -> float: ...

    def versions(self) -> dict[str, str]: ...

    def stop(self) -> None: ...


def timed_process(argv: list[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> float:
    """Run one process to its end; its wall time (raises on a non-zero exit)."""
    with open(log, "ab") as out:
        start = time.perf_counter()
        done = subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=RUN_TIMEOUT,
        )
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"{Path(argv[1]).name if len(argv) > 1 else argv[0]} exited {done.returncode}; see {log}"
        )
    return wall


def recorded_seconds(database: Path, sql: str, key: object) -> float:
    """The span between the two timestamps a system recorded for one run in its SQLite file."""
    with closing(sqlite3.connect(database)) as db:
        row = db.execute(sql, (key,)).fetchone()
    if row is None or row[1] is None:
        raise RuntimeError(f"no finished run {key} in {database}")
    return (datetime.fromisoformat(row[1]) - datetime.fromisoformat(row[0])).total_seconds()


class ScriptPeer:
    """A peer whose runner script runs every workload in one process (Dagster, Prefect, canvas)."""

    def __init__(
        self, key: str, title: str, python: Path, script: str, spec: Path, home: Path, env: dict[str, str]
    ) -> None:
        self.key, self.title = key, title
        self.python, self.script, self.spec, self.home = python, RUNNERS / script, spec, home
        self.env = {**os.environ, **env}
        self.log = home / f"{key}.log"
        self.reported: dict[str, str] = {}

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)

    def _call(self, *extra: str) -> tuple[float, dict[str, Any]]:
        out = self.home / f"{self.key}.out.json"
        out.unlink(missing_ok=True)
        argv = [str(self.python), str(self.script), str(self.spec), "--out", str(out), *extra]
        wall = timed_process(argv, self.env, self.log, cwd=self.home)
        result = json.loads(out.read_text(encoding="utf-8"))
        self.reported = result["versions"]
        return wall, result

    def run(self, workloads: list[Workload]) -> dict[str, float]:
        seconds = self._call()[1]["seconds"]
        return {w.name: float(seconds[w.name]) for w in workloads}

    def startup(self) -> float:
        return self._call("--startup")[0]

    def versions(self) -> dict[str, str]:
        return self.reported or installed_versions(self.python, PEERS[self.key].packages)

    def stop(self) -> None:
        return None


class CanvasPeer(ScriptPeer):
    """Celery canvas: worker processes laid out as flowexec's control workers, then the client."""

    def __init__(
        self, python: Path, spec: Path, home: Path, broker_url: str, workers: int, threads: int
    ) -> None:
        super().__init__(
            "celery",
            "Celery canvas (no durability)",
            python,
            "canvas.py",
            spec,
            home,
            {"PEERS_BROKER_URL": broker_url},
        )
        self.workers, self.threads = workers, threads
        self.procs = Processes()

    def start(self) -> None:
        super().start()
        for i in range(self.workers):
            argv = [str(self.python), "-m", "celery", "-A", "canvas", "--workdir", str(RUNNERS), "worker"]
            argv += ["-P", "threads", "-c", str(self.threads), "-Q", "peers.canvas", "-n", f"canvas{i}@%h"]
            argv += ["--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"]
            self.procs.start(f"canvas{i}", argv, self.env, self.home / f"canvas{i}.log")
        ping = [str(self.python), str(RUNNERS / "canvas.py"), "--ping", str(self.workers)]
        timed_process(ping, self.env, self.log, cwd=self.home)

    def stop(self) -> None:
        self.procs.stop_all()


class OneProcessPerRun:
    """A system whose every run is a process of its own, timed by the run's own record; the
    1-task run's wall time is its start-up figure."""

    walls: dict[str, float]

    def _one(self, name: str) -> float:
        raise NotImplementedError

    def run(self, workloads: list[Workload]) -> dict[str, float]:
        self.walls = {}
        return {w.name: self._one(w.name) for w in workloads}

    def startup(self) -> float:
        """The 1-task run of this round was a whole process already: its wall time."""
        if ONE not in self.walls:
            self._one(ONE)
        return self.walls[ONE]


class AirflowPeer(OneProcessPerRun):
    """``airflow dags test`` of one DAG file per workload, SQLite under its own AIRFLOW_HOME. A
    workload's time is its DAG run's own record (start to end, in Airflow's database), as the
    in-process peers time theirs inside the process; the process's wall time is the start-up."""

    key = "airflow"
    title = "Airflow dags test"

    def __init__(self, python: Path, home: Path, workloads: list[Workload]) -> None:
        self.python, self.home, self.workloads = python, home, workloads
        self.airflow = python.parent / "airflow"
        self.dags = home / "dags"
        self.log = home / "airflow.log"
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        self.walls: dict[str, float] = {}

    def start(self) -> None:
        self.dags.mkdir(parents=True, exist_ok=True)
        for workload in self.workloads:
            dag_id = f"peers_{workload.name}"
            shutil.copyfile(RUNNERS / "airflow_dag.py", self.dags / f"{dag_id}.py")
            spec = {
                "dag_id": dag_id,
                "nodes": list(workload.nodes),
                "edges": [list(e) for e in workload.edges],
            }
            (self.dags / f"{dag_id}.json").write_text(json.dumps(spec), encoding="utf-8")
        timed_process([str(self.airflow), "db", "migrate"], self.env, self.log, cwd=self.home)
        self._one(ONE)  # the first run serializes and stores the DAG: a one-off cost

    def _one(self, name: str) -> float:
        dag_id = f"peers_{name}"
        argv = [str(self.airflow), "dags", "test", dag_id, "-f", str(self.dags / f"{dag_id}.py")]
        self.walls[name] = round(timed_process(argv, self.env, self.log, cwd=self.home), 4)
        sql = (
            "SELECT start_date, end_date FROM dag_run WHERE dag_id = ? AND state = 'success' ORDER BY id DESC"
        )
        return recorded_seconds(self.home / "airflow.db", sql, dag_id)

    def versions(self) -> dict[str, str]:
        return installed_versions(self.python, PEERS["airflow"].packages)

    def stop(self) -> None:
        return None


def prefect_env(home: Path) -> dict[str, str]:
    """Prefect's defaults (its temporary local server on SQLite), in a home of its own; its
    server is given time to start on a busy machine, and sends no analytics."""
    return {
        "PREFECT_HOME": str(home / "prefect-home"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
    }


def make_peer(
    key: str,
    python: Path,
    spec: Path,
    home: Path,
    workloads: list[Workload],
    broker_url: str,
    layout: tuple[int, int],
) -> System:
    folder = home / key
    folder.mkdir(parents=True, exist_ok=True)
    makers: dict[str, Callable[[], System]] = {
        "celery": lambda: CanvasPeer(python, spec, folder, broker_url, *layout),
        "dagster": lambda: ScriptPeer(
            "dagster", "Dagster in-process", python, "dagster_run.py", spec, folder, {}
        ),
        "prefect": lambda: ScriptPeer(
            "prefect", "Prefect", python, "prefect_run.py", spec, folder, prefect_env(folder)
        ),
        "airflow": lambda: AirflowPeer(python, folder, workloads),
    }
    return makers[key]()
