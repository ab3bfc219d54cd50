"""Chaos: crashes and outages delay flows but never lose or duplicate a node's result.

Real MariaDB and Redis, separate ``celery worker`` and ``celery beat`` processes, the local
gateway over HTTP. Each test runs flows of at least 50 nodes through a fault and checks that
every execution ends with the exact expected node states, that each Linkis job was submitted
once per attempt, and that DSS's two tables agree with the node rows.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from tests.chaos.cluster import Cluster
from tests.chaos.cluster import open_cluster
from tests.chaos.cluster import random_flow
from tests.chaos.cluster import restart_mariadb
from tests.chaos.cluster import restart_redis
from tests.chaos.cluster import wait_until
from tests.conftest import own_database
from tests.conftest import truncate

pytestmark = [pytest.mark.integration, pytest.mark.chaos]
NODES = 50
_flow_ids = itertools.count(9000)


@pytest.fixture(scope="module")
def chaos_mysql(mysql_url: str) -> str:
    return own_database(mysql_url, "flowexec_chaos")


@pytest.fixture(scope="module")
def cluster(chaos_mysql: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = open_cluster(chaos_mysql, redis_url, 12, tmp_path_factory.mktemp("chaos"), faults=True)
    try:
        running.start_worker()
        running.start_worker()
        running.start_beat()
        yield running
    finally:
        running.close()


@pytest.fixture(autouse=True)
def clean(cluster: Cluster, chaos_mysql: str) -> None:
    truncate(chaos_mysql)
    cluster.control("DELETE", "faults")
    cluster.control("POST", "reset")


def check(
    cluster: Cluster,
    task_ids: list[int],
    statuses: dict[int, str],
    submits_before: int,
    cancelled: set[int] = frozenset(),
) -> None:  # type: ignore[assignment]
    """Exact node states, one submit per attempt, seed tables consistent with the node rows,
    and every worker process still alive: a fault delays a flow, it does not take workers down."""
    assert all(worker.poll() is None for worker in cluster.workers), "a worker process exited"
    nodes = cluster.rows("SELECT task_id, node_key, state, attempt, linkis_task_id FROM flowexec_node_run")
    attempts = 0
    for task_id in task_ids:
        mine = [n for n in nodes if n.task_id == task_id]
        assert len(mine) == NODES
        states = {n.state for n in mine}
        if task_id in cancelled:
            assert statuses[task_id] in {"Cancelled", "Succeed"}
            assert states <= {"Succeed", "Cancelled"}, states
        else:
            assert statuses[task_id] == "Succeed", (task_id, statuses[task_id])
            assert states == {"Succeed"}, states
        attempts += sum(n.attempt for n in mine if n.linkis_task_id is not None)
        task = cluster.rows("SELECT * FROM dss_workflow_task WHERE id=:t", t=task_id)[0]
        assert task.progress == 1.0
    assert cluster.submits() - submits_before == attempts
    for info in cluster.rows("SELECT * FROM dss_workflow_execute_info"):
        mine = {n.node_key: n.state for n in nodes if n.task_id == info.task_id}
        succeeded = sorted(k for k, s in mine.items() if s == "Succeed")
        assert sorted(k for k in (info.succeed_jobs or "").split(",") if k) == succeeded
        assert info.running_jobs == "" and info.status in (0, 1)


def start_flows(cluster: Cluster, count: int) -> list[int]:
    return [cluster.submit(random_flow(NODES, seed=i), next(_flow_ids)) for i in range(count)]


def settled_share(cluster: Cluster, task_ids: list[int]) -> float:
    rows = cluster.rows("SELECT state FROM flowexec_node_run")
    return sum(1 for r in rows if r.state in {"Succeed", "Failed", "Cancelled", "Skipped"}) / (
        NODES * len(task_ids)
    )


def test_worker_killed_mid_flow_then_replaced(cluster: Cluster) -> None:
    before = cluster.submits()
    tasks = start_flows(cluster, 3)
    wait_until(lambda: settled_share(cluster, tasks) > 0.2, 60, "flows under way")
    cluster.kill_worker(cluster.workers[0])
    cluster.start_worker()
    statuses = cluster.wait_all(tasks, 180)
    check(cluster, tasks, statuses, before)


def test_redis_flushed_and_restarted_mid_flow(cluster: Cluster, redis_url: str) -> None:
    before = cluster.submits()
    tasks = start_flows(cluster, 3)
    wait_until(lambda: settled_share(cluster, tasks) > 0.15, 60, "flows under way")
    redis.Redis.from_url(redis_url).flushall()
    wait_until(lambda: settled_share(cluster, tasks) > 0.5, 120, "progress after the flush")
    restart_redis()
    statuses = cluster.wait_all(tasks, 180)
    check(cluster, tasks, statuses, before)


def test_mariadb_restarted_mid_flow(cluster: Cluster) -> None:
    before = cluster.submits()
    tasks = start_flows(cluster, 2)
    wait_until(lambda: settled_share(cluster, tasks) > 0.2, 60, "flows under way")
    restart_mariadb()
    statuses = cluster.wait_all(tasks, 240)
    check(cluster, tasks, statuses, before)


def test_gateway_errors_and_hangs_for_a_while(cluster: Cluster) -> None:
    before = cluster.submits()
    cluster.control("POST", "faults", {"method": "GET", "path": "/status", "action": "http_500", "times": 40})
    cluster.control(
        "POST", "faults", {"method": "GET", "path": "/jobhistory/", "action": "http_503", "times": 10}
    )
    cluster.control(
        "POST", "faults", {"method": "GET", "path": "/status", "action": "slow", "seconds": 3, "times": 4}
    )
    tasks = start_flows(cluster, 2)
    statuses = cluster.wait_all(tasks, 240)
    check(cluster, tasks, statuses, before)


def test_twenty_flows_at_once(cluster: Cluster) -> None:
    before = cluster.submits()
    tasks = start_flows(cluster, 20)
    statuses = cluster.wait_all(tasks, 600)
    check(cluster, tasks, statuses, before)


def test_kills_at_random_moments(cluster: Cluster) -> None:
    before = cluster.submits()
    tasks = start_flows(cluster, 6)
    rng = random.Random(7)
    victims = rng.sample(tasks, 3)
    threads = []
    for victim in victims:
        delay = rng.uniform(0.0, 4.0)
        thread = threading.Thread(target=lambda t=victim, d=delay: (time.sleep(d), cluster.cancel(t)))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    statuses = cluster.wait_all(tasks, 240)
    check(cluster, tasks, statuses, before, cancelled=set(victims))
    for victim in victims:
        if statuses[victim] == "Cancelled":
            running = cluster.rows(
                "SELECT * FROM flowexec_node_run WHERE task_id=:t AND state='Running'", t=victim
            )
            assert running == []
