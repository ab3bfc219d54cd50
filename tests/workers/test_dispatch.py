"""Actions become messages on the right queue, only when sent (after the commit)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowexec.actions import KillJob
from flowexec.actions import PollNode
from flowexec.actions import RunNodes
from tests.conftest import migrated_app
from workers import dispatch
from workers.queues import CONTROL
from workers.queues import POLL


@pytest.fixture
def app(tmp_path: Any) -> Any:
    return migrated_app(f"sqlite:///{tmp_path / 'app.db'}", routes={"spark": "flowexec.spark"})


def _messages(app: Any, queue: str) -> list[Any]:
    """Every message waiting on ``queue`` of the memory broker, taken off it."""
    found = []
    with app.extensions["celery"].connection_for_read() as conn:
        simple = conn.SimpleQueue(queue)
        while True:
            try:
                message = simple.get(block=True, timeout=0.2)
            except simple.Empty:
                break
            found.append(message)
            message.ack()
        simple.close()
    return found


def _drain(app: Any, queue: str) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """Every message waiting on ``queue``: (task name, args, kwargs)."""
    found = []
    for message in _messages(app, queue):
        args, kwargs, _ = json.loads(message.body) if isinstance(message.body, str) else message.payload
        found.append((message.headers["task"], args, kwargs))
    return found


def test_each_action_goes_to_its_queue(app: Any) -> None:
    with app.app_context():
        dispatch.send(
            [
                RunNodes((11, 12), engine="spark", labels=("1:a", "1:b")),
                RunNodes((13,), engine=None, labels=("1:c",)),
                PollNode(11, 0.0, "1:a"),
                KillJob(12, "exec_x", 99),
            ]
        )
    spark = _drain(app, "flowexec.spark")
    assert sorted((name, args[0]) for name, args, _ in spark) == [
        ("flowexec.run_node", 11),
        ("flowexec.run_node", 12),
    ]
    assert {kwargs["node"] for _, _, kwargs in spark} == {"1:a", "1:b"}
    assert all(kwargs["linkis"] is True for _, _, kwargs in spark)  # their claims skip the control path
    control = _drain(app, CONTROL)
    assert ("flowexec.run_node", [13], {"node": "1:c"}) in control  # control nodes run on the control queue
    assert ("flowexec.kill_job", [12, "exec_x", 99], {}) in control
    assert _drain(app, POLL) == [("flowexec.poll_node", [11], {"node": "1:a"})]


def test_monitors_see_each_tasks_arguments_as_celery_would_print_them(app: Any) -> None:
    from celery.utils.saferepr import saferepr

    with app.app_context():
        dispatch.send([RunNodes((21, 22), engine=None, labels=("1:a", "1:b")), PollNode(23, 0.0, "1:c")])
    headers = [m.headers for queue in (CONTROL, POLL) for m in _messages(app, queue)]
    shown = sorted((h["argsrepr"], h["kwargsrepr"]) for h in headers)
    assert shown == [
        (saferepr((21,)), saferepr({"node": "1:a"})),
        (saferepr((22,)), saferepr({"node": "1:b"})),
        (saferepr((23,)), saferepr({"node": "1:c"})),
    ]
