"""The repository refuses a move the state table forbids before any SQL is sent, and a
compare-and-set that loses reports it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flowexec import service
from flowexec.errors import IllegalTransition
from flowexec.state import NodeState
from flowexec.store import repository as repo
from flowexec.store.db import in_transaction
from tests.conftest import migrated_app
from workers.runtime import runtime

DOC = {
    "nodes": [
        {"id": "a", "title": "a", "jobType": "linkis.shell.sh", "jobContent": {"code": "true"}},
        {"id": "b", "title": "b", "jobType": "linkis.shell.sh", "jobContent": {"code": "true"}},
    ],
    "edges": [{"source": "a", "target": "b"}],
    "props": [],
}


@pytest.fixture
def nodes(tmp_path: Any) -> Iterator[dict[str, int]]:
    app = migrated_app(f"sqlite:///{tmp_path / 'flowexec.db'}")
    with app.app_context():
        service.register_flow(DOC, {}, flow_id=1, version="v1")
        submitted, _ = service.submit_execution(
            service.ExecutionRequest(flow_id=1, version="v1", user="alice"), runtime().settings
        )
        _, _, rows = service.execution_nodes(submitted.task_id)
        yield {r.node_key: r.id for r in rows}


def _state(node_id: int) -> str:
    return in_transaction(lambda s: repo.get_node(s, node_id).state)


def test_an_illegal_move_is_refused_before_any_write(nodes: dict[str, int]) -> None:
    with pytest.raises(IllegalTransition):
        in_transaction(lambda s: repo.cas_node(s, nodes["b"], [NodeState.PENDING], NodeState.RUNNING))
    with pytest.raises(IllegalTransition):
        in_transaction(lambda s: repo.cas_node(s, nodes["a"], [NodeState.SUCCEED], NodeState.QUEUED))
    assert _state(nodes["b"]) == "Pending" and _state(nodes["a"]) == "Queued"


def test_a_lost_compare_and_set_returns_false_and_writes_nothing(nodes: dict[str, int]) -> None:
    # b is Pending, not Queued: the claim loses.
    assert not in_transaction(
        lambda s: repo.cas_node(s, nodes["b"], [NodeState.QUEUED], NodeState.SUBMITTING)
    )
    assert _state(nodes["b"]) == "Pending"
    assert in_transaction(lambda s: repo.cas_node(s, nodes["a"], [NodeState.QUEUED], NodeState.SUBMITTING))
    assert _state(nodes["a"]) == "Submitting"


def test_moving_rows_checks_each_rows_own_state(nodes: dict[str, int]) -> None:
    def work(session: Any) -> None:
        rows = repo.all_nodes(session, repo.get_node(session, nodes["a"]).task_id)
        repo.move_nodes(session, rows, NodeState.SKIPPED)  # a is Queued: Queued -> Skipped is illegal

    with pytest.raises(IllegalTransition):
        in_transaction(work)
    assert _state(nodes["a"]) == "Queued" and _state(nodes["b"]) == "Pending"


def test_touch_changes_columns_only_in_the_named_state(nodes: dict[str, int]) -> None:
    assert not in_transaction(lambda s: repo.touch_node(s, nodes["a"], NodeState.RUNNING, polls=5))
    assert in_transaction(lambda s: repo.touch_node(s, nodes["a"], NodeState.QUEUED, parked=True))
    assert in_transaction(lambda s: repo.get_node(s, nodes["a"]).parked) is True
