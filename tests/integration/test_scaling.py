"""Horizontal scaling: worker processes on different queues, and caps held across them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.chaos.cluster import Cluster
from tests.chaos.cluster import open_cluster
from tests.conftest import own_database
from tests.conftest import truncate

pytestmark = pytest.mark.integration
_ids = itertools.count(7000)


@pytest.fixture(scope="module")
def database(mysql_url: str) -> str:
    return own_database(mysql_url, f"{sa.engine.make_url(mysql_url).database}_scaling")


@pytest.fixture(scope="module")
def cluster(database: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three workers: control only; shell nodes and polls; python nodes (routed to their own queue)."""
    running = open_cluster(
        database,
        redis_url,
        11,
        tmp_path_factory.mktemp("scaling"),
        {"routes": {"python": "flowexec.nodes.python"}, "engine_caps": {"python": 2}},
    )
    try:
        running.start_worker("flowexec.control", concurrency=2)
        running.start_worker("flowexec.nodes,flowexec.poll", concurrency=4)
        running.start_worker("flowexec.nodes.python,flowexec.poll", concurrency=4)
        yield running
    finally:
        running.close()


def fan(prefix: str, count: int, job_type: str, code: str) -> list[dict[str, Any]]:
    return [
        {"id": f"{prefix}{i}", "title": f"{prefix}{i}", "jobType": job_type, "jobContent": {"code": code}}
        for i in range(count)
    ]


def claimed_by(cluster: Cluster, worker: int) -> set[int]:
    text = cluster.workers[worker].log_path.read_text()  # type: ignore[attr-defined]
    return {int(m) for m in re.findall(r"run_node node_id=(\d+)", text)}


def max_overlap(rows: list[Any]) -> int:
    events = sorted([(r.started_at, 1) for r in rows] + [(r.finished_at, -1) for r in rows])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_nodes_spread_over_queues_and_caps_hold(cluster: Cluster, database: str) -> None:
    truncate(database)
    start = {"id": "start", "title": "start", "jobType": "linkis.control.empty", "jobContent": {}}
    shells = fan("sh", 8, "linkis.shell.sh", "sleep 0.3")
    pythons = fan("py", 6, "linkis.python.python", "import time; time.sleep(0.4)")
    doc = {
        "nodes": [start, *shells, *pythons],
        "edges": [{"source": "start", "target": n["id"]} for n in [*shells, *pythons]],
        "props": [],
    }
    tasks = [cluster.submit(doc, next(_ids), max_parallel=5), cluster.submit(doc, next(_ids))]
    statuses = cluster.wait_all(tasks, 120)
    assert set(statuses.values()) == {"Succeed"}

    rows = cluster.rows("SELECT * FROM flowexec_node_run")
    ids = {
        kind: {r.id for r in rows if r.job_type.startswith(f"linkis.{kind}.")} for kind in ("shell", "python")
    }
    control = {r.id for r in rows if r.kind == "empty"}
    assert claimed_by(cluster, 0) == control
    assert claimed_by(cluster, 1) >= ids["shell"] and not claimed_by(cluster, 1) & ids["python"]
    assert claimed_by(cluster, 2) >= ids["python"] and not claimed_by(cluster, 2) & ids["shell"]

    linkis_rows = [r for r in rows if r.kind == "linkis"]
    assert max_overlap([r for r in linkis_rows if r.task_id == tasks[0]]) <= 5
    assert max_overlap([r for r in linkis_rows if r.job_type.startswith("linkis.python.")]) <= 2
    assert max_overlap([r for r in linkis_rows if r.task_id == tasks[1]]) > 5  # no cap: it did go wider
