"""Celery's lifecycle events reach the service only for the app whose task sent them."""

from __future__ import annotations

from typing import Any

from celery.signals import task_failure

from flowexec import service
from flowexec.state import NodeState
from tests.conftest import migrated_app
from workers.runtime import runtime

DOC = {
    "nodes": [{"id": "a", "title": "a", "jobType": "linkis.shell.sh", "jobContent": {"code": "true"}}],
    "edges": [],
    "props": [],
}


def _claimed_node(app: Any) -> int:
    """A node left Submitting, as a worker that crashed after its claim leaves it."""
    with app.app_context():
        service.register_flow(DOC, {}, flow_id=1, version="v1")
        submitted, _ = service.submit_execution(
            service.ExecutionRequest(flow_id=1, version="v1", user="alice"), runtime().settings
        )
        node_id = service.execution_nodes(submitted.task_id)[2][0].id
        claimed, _ = service.start_node(node_id, runtime().settings)
        assert claimed is not None
        return node_id


def _state(app: Any, node_id: int) -> str:
    with app.app_context():
        return next(r.state for r in service.execution_nodes(1)[2] if r.id == node_id)


def test_a_task_failure_is_recorded_by_its_own_app_only(tmp_path: Any) -> None:
    mine = migrated_app(f"sqlite:///{tmp_path / 'mine.db'}")
    other = migrated_app(f"sqlite:///{tmp_path / 'other.db'}")
    mine_node, other_node = _claimed_node(mine), _claimed_node(other)
    assert mine_node == other_node  # the same ids in both databases: only the sender tells them apart

    run_node = mine.extensions["celery"].tasks["flowexec.run_node"]
    task_failure.send(sender=run_node, exception=RuntimeError("boom"), args=[mine_node])

    assert _state(mine, mine_node) == NodeState.FAILED.value
    assert _state(other, other_node) == NodeState.SUBMITTING.value


def test_a_failure_of_another_task_is_ignored(tmp_path: Any) -> None:
    app = migrated_app(f"sqlite:///{tmp_path / 'app.db'}")
    node_id = _claimed_node(app)
    reconcile = app.extensions["celery"].tasks["flowexec.reconcile"]
    task_failure.send(sender=reconcile, exception=RuntimeError("boom"), args=[node_id])
    assert _state(app, node_id) == NodeState.SUBMITTING.value
