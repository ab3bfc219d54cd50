"""The state table is the law: random event orders through the real service (on SQLite), and
every node state the database recorded moved along the table.

Events: a claim (and its duplicate delivery), a submission recorded, success, failure (with
retries), a timeout, a transient submit failure handed back, a task crash, a kill of one node
or of the whole execution, and reconciler passes; each may hit any node in any state.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flowexec import service
from flowexec.linkis.port import JobRef
from flowexec.planner import NodeLimits
from flowexec.service import reads
from flowexec.state import NODE_TERMINAL
from flowexec.state import NODE_TRANSITIONS
from flowexec.state import RUN_TERMINAL
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.state import transition
from tests.flowexec.service.conftest import forget_moves
from tests.flowexec.service.conftest import recorded_moves
from workers.runtime import runtime

#: Weighted so that runs get far: a kill of everything is rare.
EVENTS = (
    *["claim"] * 4,
    *["submitted"] * 4,
    *["succeed"] * 5,
    *["fail"] * 2,
    "timeout",
    "release",
    "crash",
    "kill_node",
    "reconcile",
    "reconcile",
    "kill_all",
)
flow_ids = itertools.count(1000)


@st.composite
def dags(draw: Any) -> tuple[int, list[tuple[int, int]]]:
    n = draw(st.integers(min_value=1, max_value=6))
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8)) if pairs else []
    return n, edges


def _doc(n: int, edges: list[tuple[int, int]], control: set[int]) -> dict[str, Any]:
    def node(i: int) -> dict[str, Any]:
        job_type = "linkis.control.empty" if i in control else "linkis.shell.sh"
        return {"id": f"n{i}", "title": f"n{i}", "jobType": job_type, "jobContent": {"code": "true"}}

    return {
        "nodes": [node(i) for i in range(n)],
        "edges": [{"source": f"n{a}", "target": f"n{b}"} for a, b in edges],
        "props": [],
    }


#: The states an event is meant for; a third of the draws hit any node instead (duplicate and
#: out-of-order deliveries).
MEANT_FOR = {
    "claim": {NodeState.QUEUED},
    "submitted": {NodeState.SUBMITTING},
    "succeed": {NodeState.RUNNING},
    "fail": {NodeState.SUBMITTING, NodeState.RUNNING},
    "timeout": {NodeState.RUNNING},
    "release": {NodeState.SUBMITTING},
    "crash": {NodeState.QUEUED, NodeState.SUBMITTING, NodeState.RUNNING},
    "kill_node": {NodeState.PENDING, NodeState.QUEUED, NodeState.SUBMITTING, NodeState.RUNNING},
}


def _target(task_id: int, event: str, index: int, n: int) -> str:
    if index % 3 == 0 or event not in MEANT_FOR:
        return f"n{index % n}"
    _, _, rows = reads.execution_nodes(task_id)
    meant = [r.node_key for r in rows if NodeState(r.state) in MEANT_FOR[event]]
    return meant[index % len(meant)] if meant else f"n{index % n}"


def _apply(event: str, node_id: int, task_id: int, key: str, job: itertools.count[int]) -> None:
    settings = runtime().settings
    if event == "claim":
        service.start_node(node_id, settings)
    elif event == "submitted":
        service.record_submission(node_id, JobRef(f"exec_{node_id}", next(job)), settings)
    elif event == "succeed":
        service.succeed_node(node_id, settings)  # as a poll that found the job done
    elif event == "fail":
        service.finish_node(node_id, NodeState.FAILED, [NodeState.SUBMITTING, NodeState.RUNNING], error="x")
    elif event == "timeout":
        service.time_out_node(node_id)
    elif event == "release":
        service.release_node(node_id)
    elif event == "crash":
        service.fail_node(node_id, "RuntimeError: boom")
    elif event == "kill_node":
        service.cancel_node(task_id, key)
    elif event == "kill_all":
        service.cancel_execution(task_id)
    else:
        service.reconcile(settings.with_overrides({"queued_grace": 0.0, "submit_grace": 0.0}))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dag=dags(),
    control=st.sets(st.integers(0, 5), max_size=2),
    policy=st.sampled_from(["fail_fast", "continue", "finish_running"]),
    retries=st.integers(0, 1),
    steps=st.lists(st.tuples(st.sampled_from(EVENTS), st.integers(0, 11)), min_size=1, max_size=60),
)
def test_every_recorded_move_is_in_the_table(
    sqlite_app: Any, dag: Any, control: set[int], policy: str, retries: int, steps: list[tuple[str, int]]
) -> None:
    n, edges = dag
    with sqlite_app.app_context():
        forget_moves(sqlite_app)
        flow_id = next(flow_ids)
        service.register_flow(_doc(n, edges, control), {}, flow_id=flow_id, version="v1")
        request = service.ExecutionRequest(
            flow_id=flow_id,
            version="v1",
            user="alice",
            failure_policy=policy,
            limits=NodeLimits(retries=retries),
        )
        submitted, _ = service.submit_execution(request, runtime().settings)
        _, _, rows = reads.execution_nodes(submitted.task_id)
        ids = {r.node_key: r.id for r in rows}
        job = itertools.count(1)
        for event, index in steps:
            key = _target(submitted.task_id, event, index, n)
            _apply(event, ids[key], submitted.task_id, key, job)
        task, execution, rows = reads.execution_nodes(submitted.task_id)

    moves = recorded_moves(sqlite_app)
    for _node_id, old, new, steps_taken in moves:
        if steps_taken == 1:
            transition(NodeState(old), NodeState(new))  # raises IllegalTransition
        else:
            assert steps_taken == 2, (old, new, steps_taken)
            # One statement, two moves (a control node's claim and completion): some middle
            # state must make both steps legal.
            assert any(NodeState(new) in NODE_TRANSITIONS[mid] for mid in NODE_TRANSITIONS[NodeState(old)]), (
                old,
                new,
            )
    settled = sum(1 for r in rows if NodeState(r.state) in NODE_TERMINAL)
    assert execution.settled_nodes == settled
    if settled == len(rows):
        assert RunState(task.status) in RUN_TERMINAL
    else:
        assert RunState(task.status) not in RUN_TERMINAL
