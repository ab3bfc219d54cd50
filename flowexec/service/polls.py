"""A running node's polls: ask Linkis how its job is doing, retry later or record its end."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy.orm import Session

from flowexec.actions import Action
from flowexec.actions import JobHint
from flowexec.actions import KillJob
from flowexec.backoff import poll_countdown
from flowexec.config import Settings
from flowexec.linkis.port import JobInfo
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobStatus
from flowexec.service import completion
from flowexec.service.common import lock_node
from flowexec.service.common import now
from flowexec.service.jobs import linkis_user
from flowexec.service.steps import LinkisFor
from flowexec.service.steps import finish_node
from flowexec.service.steps import schedule
from flowexec.service.steps import succeed_node
from flowexec.service.steps import until_deadline
from flowexec.state import NodeState
from flowexec.store import repository as repo
from flowexec.store.db import in_transaction

LINKIS_OUTCOMES = {
    "Succeed": NodeState.SUCCEED,
    "Failed": NodeState.FAILED,
    "Cancelled": NodeState.CANCELLED,
    "Timeout": NodeState.TIMEOUT,
}


@dataclass(frozen=True)
class PollResult:
    """What a poll found: ``retry_in`` seconds when the job still runs, else the actions."""

    retry_in: float | None
    actions: list[Action]


def poll_node(
    node_id: int, linkis_for: LinkisFor, settings: Settings, job: JobHint | None = None
) -> PollResult:
    """Ask Linkis how a running node's job is doing; complete the node when it has ended.

    ``job``: the first poll's hint, which saves reading the node's row (its end and the count
    of its polls are compare-and-sets on it for that job).
    """
    if job is not None:
        deadline = datetime.fromtimestamp(job.deadline) if job.deadline is not None else None
        ref, polls, user = JobRef(job.exec_id, job.task_id), 0, job.user
    else:
        node = in_transaction(lambda s: repo.read_step(s, node_id))
        if node.state != NodeState.RUNNING.value or node.linkis_task_id is None:
            return PollResult(None, [])
        deadline, polls, user = node.deadline_at, node.polls, linkis_user(node, settings)
        ref = JobRef(node.linkis_exec_id or "", int(node.linkis_task_id))
    if deadline is not None and now() >= deadline:
        return PollResult(None, time_out_node(node_id, ref.task_id))
    linkis = linkis_for(user)
    if polls == 0:
        # The first poll reads the job's history row: a short job has ended by then, and that
        # row is what its end records, so one request does what status-then-history does.
        info = linkis.history(ref.task_id)
        if info.status in LINKIS_OUTCOMES:
            return PollResult(None, _ended(node_id, ref, info, info.status, settings))
        status = JobStatus(info.status, info.progress)
    else:
        status = linkis.status(ref)
        if status.terminal:
            info = linkis.history(ref.task_id)
            return PollResult(None, _ended(node_id, ref, info, status.state, settings))
    at = now()
    countdown = until_deadline(poll_countdown(polls + 1, *schedule(settings)), deadline, at)
    if not _note_poll(node_id, countdown, status.progress, ref.task_id):
        return PollResult(None, [])  # the node no longer runs this job: its polls end
    return PollResult(countdown, [])


def _ended(node_id: int, ref: JobRef, info: JobInfo, state: str, settings: Settings) -> list[Action]:
    """Record the end of a node's job: its history row (authoritative) or else its status."""
    outcome = LINKIS_OUTCOMES[info.status if info.status in LINKIS_OUTCOMES else state]
    ended = {"log_path": info.log_path, "result_location": info.result_location, "progress": 1.0}
    if outcome is NodeState.SUCCEED:
        return succeed_node(node_id, settings, ref.task_id, **ended)
    error = f"Linkis job {ref.task_id} {info.status}: {info.err_desc or 'no error text'}"
    if info.err_code:
        error += f" (errCode {info.err_code})"
    return finish_node(node_id, outcome, [NodeState.RUNNING], ref.task_id, error=error, **ended)


def time_out_node(node_id: int, job_id: int | None = None) -> list[Action]:
    """End a running node past its deadline: Timeout (terminal, a failure) and kill its job;
    with ``job_id``, only while the node still runs that Linkis job."""

    def work(session: Session) -> list[Action]:
        node, execution = lock_node(session, node_id)
        if node.state != NodeState.RUNNING.value or (job_id is not None and node.linkis_task_id != job_id):
            return []
        timeout = json.loads(node.spec or "{}").get("timeout")
        error = f"timed out after {timeout} s; Linkis job killed"
        actions = completion.complete(
            session, execution, node, NodeState.RUNNING, NodeState.TIMEOUT, error=error
        )
        if node.linkis_task_id:
            actions.append(KillJob(node.id, node.linkis_exec_id or "", int(node.linkis_task_id)))
        return actions

    return in_transaction(work)


def _note_poll(node_id: int, countdown: float, progress: float | None, job_id: int) -> bool:
    next_poll = now() + timedelta(seconds=countdown)
    return in_transaction(lambda session: repo.note_poll(session, node_id, next_poll, progress, job_id))
