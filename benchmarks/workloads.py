"""The flows the bench runs, and the runner that registers, submits and waits for them."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask

from benchmarks.config import TERMINAL
from benchmarks.config import USER


def control_node(key: str) -> dict[str, Any]:
    return {"id": key, "title": key, "jobType": "linkis.control.empty", "jobContent": {}}


def shell_node(key: str, code: str) -> dict[str, Any]:
    return {"id": key, "title": key, "jobType": "linkis.shell.sh", "jobContent": {"code": code}}


def doc(nodes: list[dict[str, Any]], edges: list[tuple[str, str]]) -> dict[str, Any]:
    return {"nodes": nodes, "edges": [{"source": a, "target": b} for a, b in edges], "props": []}


def chain_doc(n: int, make: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    keys = [f"c{i:05d}" for i in range(n)]
    return doc([make(k) for k in keys], list(zip(keys, keys[1:], strict=False)))


def wide_doc(n: int, make: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return doc([make(f"w{i:05d}") for i in range(n)], [])


def random_dag(n: int, seed: int = 8, window: int = 50, max_parents: int = 3) -> dict[str, Any]:
    """``n`` control nodes, each with up to ``max_parents`` parents among the ``window`` before it,
    listed in shuffled order (the parser must sort them)."""
    rng = random.Random(seed)
    keys = [f"n{i:06d}" for i in range(n)]
    edges: list[tuple[str, str]] = []
    for i in range(1, n):
        lo = max(0, i - window)
        for p in rng.sample(range(lo, i), min(i - lo, rng.randint(0, max_parents))):
            edges.append((keys[p], keys[i]))
    nodes = [control_node(k) for k in keys]
    rng.shuffle(nodes)
    return doc(nodes, edges)


class Runner:
    """Register, submit and watch flows from this process, on the bench database and broker."""

    def __init__(self, app: Flask, database_url: str) -> None:
        self.app = app
        self.engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", pool_size=2)
        self.next_flow_id = 1

    def register(self, definition: dict[str, Any]) -> tuple[int, str]:
        from flowexec import service

        flow_id = self.next_flow_id
        self.next_flow_id += 1
        with self.app.app_context():
            ref = service.register_flow(definition, {}, flow_id=flow_id)
        return flow_id, ref.version

    def submit(self, flow_id: int, version: str, dispatch: bool = True) -> int:
        from flowexec import service
        from workers import dispatch as send

        with self.app.app_context():
            submitted, actions = service.submit_execution(
                service.ExecutionRequest(flow_id=flow_id, version=version, user=USER),
                self.app.extensions["flowexec"].settings,
            )
            if dispatch:
                send.send(actions)
        return submitted.task_id

    def cancel(self, task_id: int) -> None:
        from flowexec import service
        from workers import dispatch as send

        with self.app.app_context():
            send.send(service.cancel_execution(task_id))

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def wait_terminal(self, task_id: int, seconds: float, interval: float = 0.01) -> tuple[str, float]:
        """Poll the task's status; return it and the monotonic time it was first seen terminal."""
        with self.engine.connect() as conn:
            query = sa.text("SELECT status FROM dss_workflow_task WHERE id = :t")
            deadline = time.monotonic() + seconds
            while True:
                status = conn.execute(query, {"t": task_id}).scalar()
                if status in TERMINAL:
                    return str(status), time.monotonic()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"task {task_id} still {status} after {seconds:.0f} s")
                time.sleep(interval)

    def run(self, definition: dict[str, Any], seconds: float) -> tuple[float, int]:
        """Register and run a flow; return the wall time from dispatch to its end, and its task id."""
        flow_id, version = self.register(definition)
        from flowexec import service
        from workers import dispatch as send

        with self.app.app_context():
            submitted, actions = service.submit_execution(
                service.ExecutionRequest(flow_id=flow_id, version=version, user=USER),
                self.app.extensions["flowexec"].settings,
            )
            start = time.monotonic()
            send.send(actions)
        status, end = self.wait_terminal(submitted.task_id, seconds)
        if status != "Succeed":
            raise RuntimeError(f"bench flow {flow_id} ended {status}")
        return end - start, submitted.task_id

    def close(self) -> None:
        self.engine.dispose()
