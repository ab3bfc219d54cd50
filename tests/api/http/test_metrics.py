"""``/metrics`` after flows ran on a real stack, and the worker-side metrics (Linkis calls, reconciler)."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from api.embedded import embedded_stack
from api.extensions import db
from flowexec.actions import AdoptNode
from flowexec.actions import PollNode
from flowexec.actions import RunNodes
from flowexec.errors import LinkisUnavailable
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask
from tests.api.conftest import execute
from tests.api.conftest import register
from tests.api.conftest import wait_final
from tests.conftest import TOKEN
from workers import metrics as worker_metrics

TERMINAL = {"Succeed", "Failed", "Cancelled", "Timeout"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The embedded stack (SQLite, in-process worker and beat, local gateway) on a home of its own."""
    home = tmp_path_factory.mktemp("metrics")
    with embedded_stack(
        {"home": str(home), "token": TOKEN, "poll_first": 0.05, "poll_max": 0.2, "reconcile_every": 0.5}
    ) as running:
        yield running


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def worker_value(name: str, **labels: str) -> float:
    return worker_metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(scope="module")
def ran(stack: Any, client: Any) -> dict[str, Any]:
    """Run a flow that succeeds and one that fails through the DSS API; count Linkis calls meanwhile."""
    before = {
        op: worker_value("flowexec_linkis_request_seconds_count", operation=op)
        for op in ("submit", "status", "history")
    }
    register(client, "diamond.json", 7101)
    register(client, "failing.json", 7102)
    results = {}
    for flow_id in (7101, 7102):
        exec_id, task_id = execute(client, flow_id)
        results[flow_id] = (task_id, wait_final(client, exec_id, task_id))
    after = {op: worker_value("flowexec_linkis_request_seconds_count", operation=op) for op in before}
    return {"results": results, "calls": {op: after[op] - before[op] for op in before}}


def test_flows_ran(ran: dict[str, Any]) -> None:
    assert [status for _, status in ran["results"].values()] == ["Succeed", "Failed"]


def test_metrics_is_prometheus_text_without_auth(client: Any, ran: dict[str, Any]) -> None:
    reply = client.get("/metrics")
    assert reply.status_code == 200
    assert reply.mimetype == "text/plain"
    families = {f.name for f in text_string_to_metric_families(reply.get_data(as_text=True))}
    assert {
        "flowexec_executions",
        "flowexec_nodes",
        "flowexec_node_queue_wait_seconds",
        "flowexec_node_duration_seconds",
        "flowexec_linkis_request_seconds",
        "flowexec_reconciler_actions",
    } <= families


def test_gauges_match_the_rows(stack: Any, client: Any, ran: dict[str, Any]) -> None:
    got = samples(client.get("/metrics").get_data(as_text=True))
    with stack.app.app_context():
        states = Counter(db.session.scalars(db.select(NodeRun.state)))
        statuses = Counter(db.session.scalars(db.select(WorkflowTask.status)))
        rows = db.session.execute(db.select(NodeRun.queued_at, NodeRun.started_at, NodeRun.finished_at)).all()
        db.session.rollback()
    for state in ("Pending", "Queued", "Submitting", "Running", "Succeed", "Failed", "Cancelled", "Skipped"):
        assert got[("flowexec_nodes", (("state", state),))] == states.get(state, 0), state
    for status in ("Running", "Succeed", "Failed"):
        assert got[("flowexec_executions", (("status", status),))] == statuses.get(status, 0), status
    assert statuses["Succeed"] == 1 and statuses["Failed"] == 1
    assert sum(states.values()) == sum(v for (name, _), v in got.items() if name == "flowexec_nodes")

    ran_rows = [r for r in rows if r.started_at is not None and r.finished_at is not None]
    durations = [(r.finished_at - r.started_at).total_seconds() for r in ran_rows]
    assert ran_rows and got[("flowexec_node_duration_seconds_count", ())] == len(durations)
    assert got[("flowexec_node_duration_seconds_sum", ())] == pytest.approx(sum(durations))
    assert got[("flowexec_node_duration_seconds_bucket", (("le", "+Inf"),))] == len(durations)
    assert got[("flowexec_node_duration_seconds_bucket", (("le", "1.0"),))] == sum(
        d <= 1.0 for d in durations
    )
    waits = [(r.started_at - r.queued_at).total_seconds() for r in ran_rows if r.queued_at is not None]
    assert got[("flowexec_node_queue_wait_seconds_count", ())] == len(waits)
    assert got[("flowexec_node_queue_wait_seconds_sum", ())] == pytest.approx(sum(waits))


def test_histograms_only_count_recent_nodes(stack: Any, client: Any, ran: dict[str, Any]) -> None:
    task_id = ran["results"][7101][0]
    with stack.app.app_context():
        node = db.session.scalars(db.select(NodeRun).where(NodeRun.task_id == task_id)).first()
        saved = (node.started_at, node.finished_at)
        node.started_at, node.finished_at = datetime(2020, 1, 1, 0, 0), datetime(2020, 1, 1, 0, 1)
        db.session.commit()
        try:
            before = samples(client.get("/metrics").get_data(as_text=True))
            total = db.session.scalar(
                db.select(db.func.count())
                .select_from(NodeRun)
                .where(NodeRun.finished_at.is_not(None), NodeRun.started_at.is_not(None))
            )
        finally:
            node.started_at, node.finished_at = saved
            db.session.commit()
    assert before[("flowexec_node_duration_seconds_count", ())] == total - 1


def test_linkis_calls_were_counted(stack: Any, ran: dict[str, Any]) -> None:
    with stack.app.app_context():
        submitted = db.session.scalar(
            db.select(db.func.count()).select_from(NodeRun).where(NodeRun.linkis_task_id.is_not(None))
        )
        db.session.rollback()
    # one submit per attempt (no retries here); each job's end is read from its history row, by
    # the first poll (a job ended by then needs no status call) or after a terminal status
    assert ran["calls"]["submit"] == submitted > 0
    assert ran["calls"]["history"] >= submitted


def test_instrumented_client_times_calls_and_counts_errors_by_kind() -> None:
    class Fake:
        url = "http://linkis"

        def status(self, ref: Any) -> str:
            return "Running"

        def kill(self, ref: Any) -> None:
            raise LinkisUnavailable("gateway down")

        def log(self, ref: Any) -> None:
            raise ValueError("not a flowexec error")

    client = worker_metrics.InstrumentedLinkis(Fake())  # type: ignore[arg-type]
    count = "flowexec_linkis_request_seconds_count"
    before = {op: worker_value(count, operation=op) for op in ("status", "kill", "log")}
    errors = worker_value("flowexec_linkis_errors_total", operation="kill", kind="LinkisUnavailable")
    assert client.status(None) == "Running"
    with pytest.raises(LinkisUnavailable):
        client.kill(None)
    with pytest.raises(ValueError):
        client.log(None)
    assert client.url == "http://linkis"  # anything else passes through untouched
    for op in before:
        assert worker_value(count, operation=op) == before[op] + 1, op
    assert (
        worker_value("flowexec_linkis_errors_total", operation="kill", kind="LinkisUnavailable") == errors + 1
    )
    assert worker_value("flowexec_linkis_errors_total", operation="log", kind="ValueError") == 0


def test_reconcile_counts_its_actions_by_kind(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowexec import service
    from workers import dispatch
    from workers import tasks

    actions = [RunNodes((1, 2, 3)), PollNode(4, 0.0), PollNode(5, 0.0), AdoptNode(6)]
    monkeypatch.setattr(service, "reconcile", lambda settings: list(actions))
    sent: list[Any] = []
    monkeypatch.setattr(dispatch, "send", sent.extend)
    name = "flowexec_reconciler_actions_total"
    before = {k: worker_value(name, kind=k) for k in ("redispatch", "poll", "adopt", "kill")}
    with stack.app.app_context():
        tasks.reconcile.run()
    assert sent == actions
    after = {k: worker_value(name, kind=k) for k in before}
    assert {k: after[k] - before[k] for k in before} == {"redispatch": 3, "poll": 2, "adopt": 1, "kill": 0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_worker_serves_its_metrics_on_its_port_when_ready() -> None:
    from celery import Celery
    from celery.signals import worker_ready

    from workers import lifecycle

    class Consumer:  # what celery sends worker_ready with
        def __init__(self, app: Celery) -> None:
            self.app = app

    port = _free_port()
    app = Celery("metrics-test")
    receiver = lifecycle.serve_metrics_when_ready(app, port)
    try:
        worker_ready.send(sender=Consumer(Celery("another")))  # not this app's worker: nothing
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
        worker_ready.send(sender=Consumer(app))
    finally:
        worker_ready.disconnect(receiver)
    reply = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert reply.status_code == 200
    assert "flowexec_reconciler_actions_total" in reply.text
    assert "flowexec_executions" not in reply.text  # database gauges are the web's
    assert worker_metrics.serve(port)  # a second call in the same process is a no-op
