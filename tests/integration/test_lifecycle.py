"""Retries, timeouts, kills that reach Linkis, the reconciler and crashed tasks, on a real stack."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from api.embedded import embedded_stack
from api.extensions import db
from flowexec import service
from flowexec.linkis.client import LinkisClient
from flowexec.skip import ExecuteStrategy
from flowexec.state import RUN_TERMINAL
from flowexec.state import RunState
from flowexec.store.models import NodeRun
from tests.integration.harness import check_invariants
from tests.integration.harness import execute
from tests.integration.harness import flow
from tests.integration.harness import node
from workers import dispatch

pytestmark = pytest.mark.integration
_ids = itertools.count(5000)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from gateway import create_gateway
    from gateway import serve_gateway

    home = tmp_path_factory.mktemp("lifecycle")
    server = serve_gateway(create_gateway(home / "gateway", faults_enabled=True), "127.0.0.1", 0)
    try:
        with embedded_stack(
            {
                "home": str(home),
                "linkis_url": server.url,
                "poll_first": 0.05,
                "poll_max": 0.2,
                "reconcile_every": 0.3,
                "queued_grace": 1.0,
            }
        ) as running:
            running.linkis = LinkisClient(server.url, user="hadoop")
            yield running
    finally:
        server.shutdown()


def linkis_state(stack: Any, row: Any, wanted: str, seconds: float = 15) -> str:
    """Wait until the gateway's job history shows ``wanted`` for a node's job; return the last state."""
    deadline = time.monotonic() + seconds
    while True:
        state = stack.linkis.history(int(row.linkis_task_id)).status
        if state == wanted or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def test_a_failed_attempt_is_retried_and_can_succeed(stack: Any, tmp_path: Path) -> None:
    marker = tmp_path / "attempted"
    code = f"if [ -f {marker} ]; then echo second; else touch {marker}; echo first >&2; exit 1; fi"
    doc = flow(
        [
            node("a"),
            node("flaky", code=code, **{"flowexec.retries": "2", "flowexec.retryDelay": "0.2"}),
            node("z"),
        ],
        [("a", "flaky"), ("flaky", "z")],
    )
    out = execute(stack, doc, next(_ids))
    assert out.status == "Succeed", out.states
    assert out.rows["flaky"].attempt == 2 and out.rows["flaky"].retries_left == 1
    assert out.rows["flaky"].error is None  # the attempt that counted succeeded


def test_retries_run_out_and_the_node_fails(stack: Any) -> None:
    doc = flow([node("bad", code="exit 4", **{"flowexec.retries": "2"})], [])
    out = execute(stack, doc, next(_ids))
    assert out.status == "Failed" and out.states["bad"] == "Failed"
    assert out.rows["bad"].attempt == 3 and out.rows["bad"].retries_left == 0
    assert "errCode" in (out.rows["bad"].error or "")


def test_timeout_kills_the_job_and_ends_the_node_timeout(stack: Any) -> None:
    doc = flow(
        [node("slow", code="sleep 60", **{"flowexec.timeout": "1"}), node("after")], [("slow", "after")]
    )
    started = time.monotonic()
    out = execute(stack, doc, next(_ids), timeout=30)
    assert time.monotonic() - started < 20
    assert out.states == {"slow": "Timeout", "after": "Cancelled"} and out.status == "Failed"
    assert "timed out after 1" in out.rows["slow"].error
    assert linkis_state(stack, out.rows["slow"], "Cancelled") == "Cancelled"


def test_fail_fast_kill_reaches_the_gateway(stack: Any) -> None:
    doc = flow(
        [node("a"), node("b", code="sleep 0.5; exit 1"), node("c", code="sleep 60"), node("d")],
        [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    )
    out = execute(stack, doc, next(_ids), timeout=30)
    assert out.states == {"a": "Succeed", "b": "Failed", "c": "Cancelled", "d": "Cancelled"}
    assert out.rows["c"].linkis_task_id is not None
    assert linkis_state(stack, out.rows["c"], "Cancelled") == "Cancelled"


def _start(stack: Any, doc: dict[str, Any], send: bool = True) -> int:
    with stack.app.app_context():
        flow_id = next(_ids)
        ref = service.register_flow(doc, {}, flow_id=flow_id)
        submitted, actions = service.submit_execution(
            service.ExecutionRequest(flow_id=flow_id, version=ref.version, user="hadoop"),
            stack.app.extensions["flowexec"].settings,
        )
        if send:
            dispatch.send(actions)
    return submitted.task_id


def _wait(stack: Any, task_id: int, check: Any = None, seconds: float = 30) -> tuple[Any, dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        with stack.app.app_context():
            task, _, nodes = service.execution_nodes(task_id)
        rows = {n.node_key: n for n in nodes}
        if check(task, rows) if check else RunState(task.status) in RUN_TERMINAL:
            return task, rows
        assert time.monotonic() < deadline, f"{task.status} {[(k, r.state) for k, r in rows.items()]}"
        time.sleep(0.05)


def test_kill_a_flow_cancels_its_running_job_in_linkis(stack: Any) -> None:
    task_id = _start(stack, flow([node("long", code="sleep 60"), node("next")], [("long", "next")]))
    _wait(stack, task_id, lambda t, rows: rows["long"].state == "Running")
    with stack.app.app_context():
        dispatch.send(service.cancel_execution(task_id))
    task, rows = _wait(stack, task_id)
    assert task.status == "Cancelled" and task.err_desc == "This Flow killed by user"
    assert rows["long"].state == "Cancelled" and rows["next"].state == "Cancelled"
    assert linkis_state(stack, rows["long"], "Cancelled") == "Cancelled"


def test_kill_one_node_under_continue_skips_its_descendants(stack: Any) -> None:
    doc = flow(
        [node("long", code="sleep 60"), node("child"), node("free", code="sleep 1")], [("long", "child")]
    )
    with stack.app.app_context():
        flow_id = next(_ids)
        ref = service.register_flow(doc, {}, flow_id=flow_id)
        submitted, actions = service.submit_execution(
            service.ExecutionRequest(
                flow_id=flow_id, version=ref.version, user="hadoop", failure_policy="continue"
            ),
            stack.app.extensions["flowexec"].settings,
        )
        dispatch.send(actions)
    _wait(stack, submitted.task_id, lambda t, rows: rows["long"].state == "Running")
    with stack.app.app_context():
        dispatch.send(service.cancel_node(submitted.task_id, "long"))
    task, rows = _wait(stack, submitted.task_id)
    assert {k: r.state for k, r in rows.items()} == {
        "long": "Cancelled",
        "child": "Skipped",
        "free": "Succeed",
    }
    assert linkis_state(stack, rows["long"], "Cancelled") == "Cancelled"


def test_reconciler_redispatches_nodes_whose_message_was_lost(stack: Any) -> None:
    doc = flow([node("a"), node("b"), node("c")], [("a", "c"), ("b", "c")])
    task_id = _start(stack, doc, send=False)  # the dispatch after commit never happens
    task, rows = _wait(stack, task_id, seconds=30)
    assert task.status == "Succeed"
    assert all(r.attempt == 1 for r in rows.values())


def test_a_crashed_node_task_records_the_node_failed(stack: Any) -> None:
    task_id = _start(stack, flow([node("a"), node("b")], [("a", "b")]), send=False)
    with stack.app.app_context():
        db.session.execute(
            update(NodeRun)
            .where(NodeRun.task_id == task_id, NodeRun.node_key == "a")
            .values(spec="{not json")
        )
        db.session.commit()
        ids = [r.id for r in service.execution_nodes(task_id)[2] if r.node_key == "a"]
        stack.app.extensions["celery"].tasks["flowexec.run_node"].apply_async((ids[0],))
    task, rows = _wait(stack, task_id)
    assert rows["a"].state == "Failed" and "JSONDecodeError" in (rows["a"].error or "")
    assert rows["b"].state == "Cancelled" and task.status == "Failed"


def test_variables_reach_the_job(stack: Any) -> None:
    doc = flow([node("v", code='test "${{greeting}}-${{run_date}}" = "hi-20250301"')], [])
    doc["props"] = [{"greeting": "hello"}, {"run_date": "20250301"}]
    assert execute(stack, doc, next(_ids)).status == "Failed"
    out = execute(stack, doc, next(_ids), variables={"greeting": "hi"})
    assert out.status == "Succeed"
    check_invariants(doc, out, set())
    assert ExecuteStrategy.EXECUTE.value == "execute"


def _fault(stack: Any, rule: dict[str, Any]) -> None:
    import requests

    reply = requests.post(
        f"{stack.linkis.base_url}/api/rest_j/v1/flowexec-test/faults",
        json=rule,
        headers={"Token-Code": "LINKIS-AUTH", "Token-User": "hadoop"},
        timeout=10,
    )
    reply.raise_for_status()


def test_transient_linkis_errors_are_retried_by_the_tasks(stack: Any) -> None:
    _fault(stack, {"method": "POST", "path": "/entrance/submit$", "action": "http_503", "times": 2})
    _fault(stack, {"method": "GET", "path": "/status", "action": "http_500", "times": 6})
    out = execute(stack, flow([node("a"), node("b")], [("a", "b")]), next(_ids), timeout=60)
    assert out.status == "Succeed" and out.states == {"a": "Succeed", "b": "Succeed"}
    assert all(r.attempt == 1 for r in out.rows.values())


def test_a_permanent_linkis_refusal_fails_the_node_at_once(stack: Any) -> None:
    _fault(stack, {"method": "POST", "path": "/entrance/submit$", "action": "status_1", "times": 1})
    out = execute(stack, flow([node("refused"), node("after")], [("refused", "after")]), next(_ids))
    assert out.states == {"refused": "Failed", "after": "Cancelled"}
    assert out.rows["refused"].attempt == 1 and out.rows["refused"].linkis_task_id is None
    assert out.rows["refused"].error


def test_a_submit_whose_reply_was_lost_is_adopted_not_duplicated(stack: Any) -> None:
    import requests

    def submits() -> int:
        reply = requests.get(
            f"{stack.linkis.base_url}/api/rest_j/v1/flowexec-test/submits",
            headers={"Token-Code": "LINKIS-AUTH", "Token-User": "hadoop"},
            timeout=10,
        )
        return int(reply.json()["data"]["submits"])

    before = submits()
    _fault(stack, {"method": "POST", "path": "/entrance/submit$", "action": "drop_after", "times": 1})
    out = execute(stack, flow([node("lost"), node("next")], [("lost", "next")]), next(_ids), timeout=60)
    assert out.status == "Succeed"
    assert submits() - before == 2  # one job per node: the lost reply's job was adopted
    assert out.rows["lost"].attempt == 1 and out.rows["lost"].linkis_task_id is not None
