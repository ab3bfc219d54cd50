"""A running node's polls through the real service on SQLite, against a Linkis that records
what it was asked: the first poll reads the job's history row (one request for a short job's
end); later polls ask the job's status, then its history once it has ended."""

from __future__ import annotations

import itertools
from typing import Any

from flowexec import service
from flowexec.actions import JobHint
from flowexec.actions import PollNode
from flowexec.linkis.port import JobInfo
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobStatus
from flowexec.service import reads
from flowexec.state import NodeState
from workers.runtime import runtime

flow_ids = itertools.count(2000)


class RecordingLinkis:
    """Answers status and history from ``states`` (job task id -> state), recording each call."""

    def __init__(self) -> None:
        self.states: dict[int, str] = {}
        self.calls: list[tuple[str, int]] = []

    def status(self, ref: JobRef) -> JobStatus:
        self.calls.append(("status", ref.task_id))
        return JobStatus(self.states[ref.task_id], 0.5)

    def history(self, task_id: int) -> JobInfo:
        self.calls.append(("history", task_id))
        state = self.states[task_id]
        return JobInfo(task_id, state, log_path=f"/logs/{task_id}.log" if state == "Succeed" else None)


def _queued_node() -> tuple[int, int]:
    """A one-node shell flow's execution, its node Queued: (taskID, node id)."""
    doc = {
        "nodes": [{"id": "a", "title": "a", "jobType": "linkis.shell.sh", "jobContent": {"code": "true"}}],
        "edges": [],
        "props": [],
    }
    flow_id = next(flow_ids)
    service.register_flow(doc, {}, flow_id=flow_id, version="v1")
    request = service.ExecutionRequest(flow_id=flow_id, version="v1", user="alice")
    submitted, _ = service.submit_execution(request, runtime().settings)
    _, _, rows = reads.execution_nodes(submitted.task_id)
    return submitted.task_id, rows[0].id


def _running_node(app: Any, job: int) -> tuple[int, int]:
    task_id, node_id = _queued_node()
    service.start_node(node_id, runtime().settings)
    service.record_submission(node_id, JobRef(f"exec_{job}", job), runtime().settings)
    return task_id, node_id


def test_a_job_ended_by_the_first_poll_costs_one_request(sqlite_app: Any) -> None:
    linkis = RecordingLinkis()
    with sqlite_app.app_context():
        task_id, node_id = _running_node(sqlite_app, 901)
        linkis.states[901] = "Succeed"
        result = service.poll_node(node_id, lambda _user: linkis, runtime().settings)  # type: ignore[arg-type,return-value]
        task, _, rows = reads.execution_nodes(task_id)
    assert result.retry_in is None
    assert linkis.calls == [("history", 901)]
    assert rows[0].state == NodeState.SUCCEED.value and rows[0].log_path == "/logs/901.log"
    assert task.status == "Succeed"


def test_later_polls_ask_the_status_then_the_history_of_an_ended_job(sqlite_app: Any) -> None:
    linkis = RecordingLinkis()
    with sqlite_app.app_context():
        task_id, node_id = _running_node(sqlite_app, 902)
        settings = runtime().settings
        linkis.states[902] = "Running"
        first = service.poll_node(node_id, lambda _user: linkis, settings)  # type: ignore[arg-type,return-value]
        second = service.poll_node(node_id, lambda _user: linkis, settings)  # type: ignore[arg-type,return-value]
        linkis.states[902] = "Failed"
        third = service.poll_node(node_id, lambda _user: linkis, settings)  # type: ignore[arg-type,return-value]
        task, _, rows = reads.execution_nodes(task_id)
    assert first.retry_in is not None and second.retry_in is not None and third.retry_in is None
    assert second.retry_in > first.retry_in  # the schedule grows
    assert linkis.calls == [("history", 902), ("status", 902), ("status", 902), ("history", 902)]
    assert rows[0].state == NodeState.FAILED.value and rows[0].polls == 2
    assert task.status == "Failed"


def _submitted_node(app: Any, job: int) -> tuple[int, int, list[Any]]:
    """A node claimed and its job recorded as a worker does: the claim's row carried over."""
    task_id, node_id = _queued_node()
    claimed, _ = service.start_node(node_id, runtime().settings, control=False)
    assert claimed is not None and claimed.running is not None
    ref = JobRef(f"exec_{job}", job)
    actions = service.record_submission(claimed.node_id, ref, runtime().settings, claimed.running)
    return task_id, claimed.node_id, actions


def test_the_first_poll_carries_the_job_and_ends_the_node_from_it(sqlite_app: Any) -> None:
    linkis = RecordingLinkis()
    with sqlite_app.app_context():
        task_id, node_id, actions = _submitted_node(sqlite_app, 903)
        (poll,) = actions
        assert isinstance(poll, PollNode) and poll.job == JobHint("exec_903", 903, "alice", None)
        linkis.states[903] = "Succeed"
        result = service.poll_node(node_id, lambda _user: linkis, runtime().settings, poll.job)  # type: ignore[arg-type,return-value]
        task, _, rows = reads.execution_nodes(task_id)
    assert result.retry_in is None and linkis.calls == [("history", 903)]
    assert rows[0].state == NodeState.SUCCEED.value and rows[0].linkis_task_id == 903
    assert task.status == "Succeed"


def test_a_first_poll_of_an_earlier_job_neither_ends_nor_polls_the_node(sqlite_app: Any) -> None:
    """The node runs job 905 now; a late first poll of its earlier job 904 changes nothing."""
    linkis = RecordingLinkis()
    with sqlite_app.app_context():
        settings = runtime().settings
        task_id, node_id = _running_node(sqlite_app, 905)
        stale = JobHint("exec_904", 904, "alice", None)
        linkis.states[904] = "Succeed"
        ended = service.poll_node(node_id, lambda _user: linkis, settings, stale)  # type: ignore[arg-type,return-value]
        linkis.states[904] = "Running"
        running = service.poll_node(node_id, lambda _user: linkis, settings, stale)  # type: ignore[arg-type,return-value]
        _, _, rows = reads.execution_nodes(task_id)
    assert ended.actions == [] and ended.retry_in is None
    assert running.actions == [] and running.retry_in is None  # its polls end
    assert rows[0].state == NodeState.RUNNING.value and rows[0].polls == 0
