"""Linkis nodes of one execution end at once, on MariaDB, from many threads: their successes
lock the execution's row only for its counters, so the counters, the join and the run's end
must come out exact however the transactions interleave, and with a kill among them."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from flowexec import service
from flowexec.actions import Action
from flowexec.actions import RunNodes
from flowexec.linkis.port import JobRef
from flowexec.service import reads
from flowexec.state import NODE_TERMINAL
from flowexec.state import NodeState
from flowexec.state import RunState
from tests.conftest import migrated_app
from tests.conftest import truncate
from workers.runtime import runtime

WIDTH = 40
jobs = itertools.count(1)


@pytest.fixture
def app(migrated_mysql: str) -> Iterator[Any]:
    truncate(migrated_mysql)
    found = migrated_app(migrated_mysql)
    yield found
    from api.extensions import db

    with found.app_context():
        db.engine.dispose()


def _fan_in(flow_id: int) -> dict[str, Any]:
    """``WIDTH`` shell nodes into one join, then one last node."""
    keys = [f"w{i:02d}" for i in range(WIDTH)]
    nodes = [
        {"id": k, "title": k, "jobType": "linkis.shell.sh", "jobContent": {"code": "true"}}
        for k in [*keys, "join", "last"]
    ]
    edges = [{"source": k, "target": "join"} for k in keys] + [{"source": "join", "target": "last"}]
    return {"nodes": nodes, "edges": edges, "props": []}


def _start(app: Any, flow_id: int) -> tuple[int, dict[str, int]]:
    with app.app_context():
        service.register_flow(_fan_in(flow_id), {}, flow_id=flow_id, version="v1")
        request = service.ExecutionRequest(flow_id=flow_id, version="v1", user="alice")
        submitted, _ = service.submit_execution(request, runtime().settings)
        _, _, rows = reads.execution_nodes(submitted.task_id)
    return submitted.task_id, {r.node_key: r.id for r in rows}


def _running(app: Any, node_id: int) -> None:
    """Claim a node and record its submission, as a worker does around the Linkis call."""
    with app.app_context():
        claimed, _ = service.start_node(node_id, runtime().settings)
        assert claimed is not None
        service.record_submission(node_id, JobRef(f"exec_{node_id}", next(jobs)), runtime().settings)


def _at_once(app: Any, calls: list[Callable[[], list[Action]]]) -> list[Action]:
    def run(call: Callable[[], list[Action]]) -> list[Action]:
        with app.app_context():
            return call()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [action for actions in pool.map(run, calls) for action in actions]


def _released(actions: list[Action]) -> list[int]:
    return [node_id for a in actions if isinstance(a, RunNodes) for node_id in a.node_ids]


def _counted(app: Any, task_id: int) -> tuple[int, int, str, float]:
    from api.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        settled, failed = conn.execute(
            sa.text("SELECT settled_nodes, failed_nodes FROM flowexec_execution WHERE task_id = :t"),
            {"t": task_id},
        ).one()
        status, progress = conn.execute(
            sa.text("SELECT status, progress FROM dss_workflow_task WHERE id = :t"), {"t": task_id}
        ).one()
    return int(settled), int(failed), str(status), float(progress)


def _fan_in_running(app: Any, flow_id: int) -> tuple[int, dict[str, int], list[Callable[[], list[Action]]]]:
    """A fan-in whose first nodes all run; the successes of those, as calls to make at once."""
    task_id, ids = _start(app, flow_id)
    keys = [k for k in ids if k.startswith("w")]
    for key in keys:
        _running(app, ids[key])
    settings = app.extensions["flowexec"].settings
    return task_id, ids, [lambda n=ids[k]: service.succeed_node(n, settings) for k in keys]


def test_a_fan_in_ending_at_once_releases_its_join_once_and_counts_exactly(app: Any) -> None:
    task_id, ids, successes = _fan_in_running(app, 501)
    settings = app.extensions["flowexec"].settings
    actions = _at_once(app, successes)
    assert _released(actions) == [ids["join"]]
    settled, failed, status, progress = _counted(app, task_id)
    assert (settled, failed, status) == (WIDTH, 0, RunState.RUNNING.value)
    assert progress == pytest.approx(WIDTH / (WIDTH + 2))
    # A repeated delivery of any of them changes nothing.
    assert _at_once(app, successes[:5]) == []
    assert _counted(app, task_id)[0] == WIDTH
    for key in ("join", "last"):
        _running(app, ids[key])
        with app.app_context():
            released = _released(service.succeed_node(ids[key], settings))
        assert released == ([ids["last"]] if key == "join" else [])
    settled, failed, status, progress = _counted(app, task_id)
    assert (settled, status, progress) == (WIDTH + 2, RunState.SUCCEED.value, 1.0)


def test_a_kill_among_the_successes_leaves_nothing_behind(app: Any) -> None:
    task_id, ids, calls = _fan_in_running(app, 502)
    keys = [k for k in ids if k.startswith("w")]
    calls.insert(WIDTH // 2, lambda: service.cancel_execution(task_id))
    _at_once(app, calls)
    with app.app_context():
        task, execution, rows = reads.execution_nodes(task_id)
    states = {r.node_key: NodeState(r.state) for r in rows}
    assert all(s in NODE_TERMINAL for s in states.values()), states
    assert states["join"] is NodeState.CANCELLED and states["last"] is NodeState.CANCELLED
    assert {states[k] for k in keys} <= {NodeState.SUCCEED, NodeState.CANCELLED}
    assert execution.settled_nodes == len(rows)
    assert task.status == RunState.CANCELLED.value
