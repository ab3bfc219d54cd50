"""Run flows on a real in-process stack and check what every run must satisfy."""

from __future__ import annotations

import time
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from api.extensions import db
from flowexec import service
from flowexec.planner import NodeLimits
from flowexec.skip import ExecuteStrategy
from flowexec.state import RUN_TERMINAL
from flowexec.state import RunState
from flowexec.store.models import WorkflowExecuteInfo
from workers import dispatch

LIST_STATES = {
    "running_jobs": {"Submitting", "Running"},
    "pending_jobs": {"Pending", "Queued", "Skipped"},
    "succeed_jobs": {"Succeed"},
    "failed_jobs": {"Failed", "Cancelled", "Timeout"},
    "skipped_jobs": {"Skipped"},
}


def node(
    key: str, code: str = "echo {key}", job_type: str = "linkis.shell.sh", **special: str
) -> dict[str, Any]:
    return {
        "id": key,
        "title": key,
        "jobType": job_type,
        "jobContent": {"code": code.format(key=key)},
        "params": {"configuration": {"startup": {}, "runtime": {}, "special": dict(special)}},
    }


def flow(nodes: Iterable[dict[str, Any]], edges: Iterable[tuple[str, str]]) -> dict[str, Any]:
    return {"nodes": list(nodes), "edges": [{"source": a, "target": b} for a, b in edges], "props": []}


@dataclass
class Outcome:
    task_id: int
    status: str
    states: dict[str, str]
    rows: dict[str, Any]
    info: Any
    err_desc: str | None


def execute(
    stack: Any,
    doc: Mapping[str, Any],
    flow_id: int,
    strategy: ExecuteStrategy = ExecuteStrategy.EXECUTE,
    ids: Iterable[str] = (),
    policy: str = "fail_fast",
    variables: Mapping[str, str] | None = None,
    limits: NodeLimits = NodeLimits(),
    rerun_of: int | None = None,
    timeout: float = 90,
) -> Outcome:
    """Register ``doc`` as ``flow_id``, run it with a strategy and policy, wait for its end."""
    app = stack.app
    with app.app_context():
        ref = service.register_flow(doc, {}, flow_id=flow_id)
        submitted, actions = service.submit_execution(
            service.ExecutionRequest(
                flow_id=flow_id,
                version=ref.version,
                user="hadoop",
                strategy=strategy,
                node_ids=frozenset(ids),
                failure_policy=policy,
                variables=variables or {},
                limits=limits,
                rerun_of=rerun_of,
            ),
            app.extensions["flowexec"].settings,
        )
        dispatch.send(actions)
        deadline = time.monotonic() + timeout
        while True:
            task, _, nodes = service.execution_nodes(submitted.task_id)
            if RunState(task.status) in RUN_TERMINAL:
                break
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"task {task.id} still {task.status}: "
                    + ", ".join(f"{n.node_key}={n.state}" for n in nodes)
                )
            time.sleep(0.05)
        info = db.session.execute(
            select(WorkflowExecuteInfo)
            .where(WorkflowExecuteInfo.flow_id == flow_id)
            .order_by(WorkflowExecuteInfo.id.desc())
            .limit(1)
        ).scalar_one()
        db.session.commit()  # keeps the loaded rows readable (expire_on_commit is off)
    return Outcome(
        task.id,
        task.status,
        {n.node_key: n.state for n in nodes},
        {n.node_key: n for n in nodes},
        info,
        task.err_desc,
    )


def running_ancestors(doc: Mapping[str, Any], key: str, ran: set[str]) -> set[str]:
    """Ancestors of ``key`` that ran, looking through nodes that did not."""
    parents: dict[str, list[str]] = {}
    for edge in doc["edges"]:
        parents.setdefault(edge["target"], []).append(edge["source"])
    found: set[str] = set()
    stack = list(parents.get(key, []))
    while stack:
        parent = stack.pop()
        if parent in ran:
            found.add(parent)
        else:
            stack.extend(parents.get(parent, []))
    return found


def check_invariants(doc: Mapping[str, Any], out: Outcome, skipped: set[str]) -> None:
    """Every run: skipped nodes never start, no node starts before its running ancestors end,
    the execute_info lists are the node rows (``succeed_jobs`` also keeps the successes of
    earlier runs of the version, which this run skipped, as DSS merges it), and the task
    status follows the nodes."""
    ran = {k for k, row in out.rows.items() if row.started_at is not None}
    assert not ran & skipped, f"skipped nodes started: {ran & skipped}"
    for key in skipped:
        assert out.states[key] == "Skipped", (key, out.states[key])
    for key in ran:
        for ancestor in running_ancestors(doc, key, ran):
            before = out.rows[ancestor].finished_at
            assert before is not None and out.rows[key].started_at >= before, (ancestor, key)
    assert out.info.task_id == out.task_id
    # As DSS lists them: a node cancelled before it started is pending, not failed.
    shown = {
        k: "Pending" if s == "Cancelled" and out.rows[k].started_at is None else s
        for k, s in out.states.items()
    }
    for column, states in LIST_STATES.items():
        listed = [k for k in (getattr(out.info, column) or "").split(",") if k]
        now = [k for k, s in shown.items() if s in states]
        if column == "succeed_jobs":
            earlier = set(listed) - set(now)
            assert earlier <= {k for k, s in out.states.items() if s == "Skipped"}, earlier
            listed = [k for k in listed if k not in earlier]
        assert sorted(listed) == sorted(now), column
    failed = any(s in {"Failed", "Cancelled", "Timeout"} for s in out.states.values())
    assert out.status == ("Failed" if failed else "Succeed"), (out.status, out.states)
    assert out.info.status == (0 if failed else 1)
