"""A control node's step locks its children in the trip that completes it when this process
knows its execution's graph (``store.graphs``); a guess the node's row contradicts (the tables
were truncated and the ids started again) is dropped, and every flow still runs exactly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowexec import service
from flowexec.actions import RunNodes
from flowexec.service import reads
from flowexec.store import graphs
from tests.conftest import migrated_app
from tests.conftest import truncate
from workers.runtime import runtime


@pytest.fixture
def app(migrated_mysql: str) -> Iterator[Any]:
    truncate(migrated_mysql)
    graphs.forget()
    found = migrated_app(migrated_mysql)
    found.config["URL"] = migrated_mysql
    yield found
    graphs.forget()
    from api.extensions import db

    with found.app_context():
        db.engine.dispose()


def _doc(edges: list[tuple[str, str]]) -> dict[str, Any]:
    keys = ["a", "b", "c", "d"]
    nodes = [{"id": k, "title": k, "jobType": "linkis.control.empty", "jobContent": {}} for k in keys]
    return {"nodes": nodes, "edges": [{"source": s, "target": t} for s, t in edges], "props": []}


def _run(app: Any, edges: list[tuple[str, str]]) -> tuple[list[str], dict[str, str], str]:
    """Run a flow of control nodes step by step, as workers would; the order the nodes
    completed in, their states and the run's status."""
    with app.app_context():
        service.register_flow(_doc(edges), {}, flow_id=1, version="v1")
        submitted, actions = service.submit_execution(
            service.ExecutionRequest(flow_id=1, version="v1", user="alice"), runtime().settings
        )
        _, _, rows = reads.execution_nodes(submitted.task_id)
        key_of = {r.id: r.node_key for r in rows}
        queue = [n for a in actions if isinstance(a, RunNodes) for n in a.node_ids]
        order = []
        while queue:
            node_id = queue.pop(0)
            order.append(key_of[node_id])
            _, more = service.start_node(node_id, runtime().settings)
            queue += [n for a in more if isinstance(a, RunNodes) for n in a.node_ids]
        _, _, rows = reads.execution_nodes(submitted.task_id)
        status = reads.task(submitted.task_id).status
    return order, {r.node_key: r.state for r in rows}, status


def test_a_known_graph_is_used_and_a_contradicted_one_is_dropped(app: Any) -> None:
    order, states, status = _run(app, [("a", "b"), ("b", "c"), ("c", "d")])
    assert order == ["a", "b", "c", "d"] and status == "Succeed"
    assert set(states.values()) == {"Succeed"}
    # The first step read the execution's graph: every node's children are known by id now.
    assert graphs.guess(1) == (1, '["b"]') and graphs.guess(3) == (1, '["d"]')

    # The tables are emptied and the same ids come back for another shape: b and c both wait
    # for a; d waits for both. The guesses for ids 1..4 are all wrong now.
    truncate(app.config["URL"])
    order, states, status = _run(app, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert order[0] == "a" and set(order[1:3]) == {"b", "c"} and order[3] == "d"
    assert status == "Succeed" and set(states.values()) == {"Succeed"}
    assert graphs.guess(1) == (1, '["b", "c"]')


def test_leaves_never_read_the_graph(app: Any) -> None:
    order, _, status = _run(app, [])
    assert status == "Succeed" and sorted(order) == ["a", "b", "c", "d"]
    assert graphs.guess(1) is None
