"""A node's steps: claim, submit, record the Linkis ids, poll, end (each one transaction).

Linkis calls happen between transactions, never inside one: a slow Linkis must not hold the
execution's lock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from flowexec import logcontext
from flowexec.actions import Action
from flowexec.actions import JobHint
from flowexec.actions import KillJob
from flowexec.actions import PollNode
from flowexec.backoff import poll_countdown
from flowexec.config import Settings
from flowexec.errors import LinkisError
from flowexec.errors import LinkisUnavailable
from flowexec.events import Change
from flowexec.graph import NodeKind
from flowexec.linkis.port import JobRef
from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import Linkis
from flowexec.service import completion
from flowexec.service import scripts
from flowexec.service.common import Counters
from flowexec.service.common import emit
from flowexec.service.common import label
from flowexec.service.common import lock_node
from flowexec.service.common import now
from flowexec.service.common import run_actions
from flowexec.service.jobs import job_spec
from flowexec.service.jobs import linkis_user
from flowexec.state import RUN_UNSTARTED
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.store import repository as repo
from flowexec.store import settling
from flowexec.store.batch import Writes
from flowexec.store.db import in_transaction
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask

log = logging.getLogger(__name__)

LinkisFor = Callable[[str], Linkis]


@dataclass(frozen=True)
class Claimed:
    """A node this delivery owns, ready to submit; ``None`` spec for control nodes.

    ``running``: what recording its submission needs, as the claim read it (so that step
    reads no row); ``None`` when the claim did not read it all.
    """

    node_id: int
    task_id: int
    attempt: int
    spec: JobSpec | None
    source: scripts.ScriptSource = scripts.ScriptSource()
    running: Running | None = None


@dataclass(frozen=True)
class Running:
    """A claimed node as its submission's record uses it: the event's counters, its key, and
    its claim's time and timeout, which make its deadline."""

    counters: Counters
    node_key: str
    started_at: datetime
    timeout: float
    user: str

    @property
    def task_id(self) -> int:
        return self.counters.task_id


def start_node(node_id: int, settings: Settings, control: bool = True) -> tuple[Claimed | None, list[Action]]:
    """Claim a queued node (Queued -> Submitting); control nodes complete at once.

    A Linkis node with no cap to check is claimed by its own compare-and-set, without its
    execution's lock: claims of one execution's nodes never wait on each other. ``control``
    False: the caller knows it is a Linkis node, so the control nodes' completion is not tried.
    """

    def work(session: Session) -> tuple[Claimed | None, list[Action]]:
        at = now()
        # A queued control node completes in one compare-and-set; anything else (a Linkis node,
        # a claim lost) takes the paths below.
        if control and (completed := settling.complete_control(session, node_id, at)) is not None:
            return None, _run_control(session, completed, at)
        node = repo.read_step(session, node_id)
        logcontext.bind(node.task_id, node.node_key)
        if node.state != NodeState.QUEUED.value:
            log.info("claim lost node_id=%s state=%s", node_id, node.state)
            return None, []
        if node.kind != NodeKind.LINKIS.value or _capped(node, settings):
            return _claim_at_cap(session, node_id, settings)
        if not repo.cas_node(
            session,
            node_id,
            [NodeState.QUEUED],
            NodeState.SUBMITTING,
            read_version=node.version,
            attempt=node.attempt + 1,
            started_at=at,
            updated_at=at,
            parked=False,
        ):
            log.info("claim lost node_id=%s", node_id)
            return None, []
        started = RunState(node.status) not in RUN_UNSTARTED
        claim = Change(node.node_key, NodeState.QUEUED, NodeState.SUBMITTING)
        emit(session, counted(node), [claim], task_written=started)
        claimed = _claimed(node, node, settings)
        running = Running(counted(node), node.node_key, at, _timeout(node), linkis_user(node, settings))
        return replace(claimed, running=running), []

    return in_transaction(work)


def _capped(step: Any, settings: Settings) -> bool:
    """A node whose claim has a cap to check: its execution's or its engine's."""
    return bool(step.max_parallel) or repo.engine_of(step) in settings.engine_caps


def counted(step: Any) -> Counters:
    """The execution's counters as a step read them (``repository.read_step``), unlocked."""
    return Counters(step.task_id, step.flow_id, step.run_version, step.total_nodes, step.settled_nodes)


def _claimed(node: Any, task: Any, settings: Settings) -> Claimed:
    spec = job_spec(node, task, settings)
    return Claimed(node.id, node.task_id, node.attempt + 1, spec, scripts.source_of(node.spec))


def _claim_at_cap(session: Session, node_id: int, settings: Settings) -> tuple[Claimed | None, list[Action]]:
    """Claim a node under its execution's lock, parking it when a cap is full."""
    node, execution = lock_node(session, node_id)
    if node.state == NodeState.QUEUED.value and completion.over_cap(session, execution, node, settings):
        repo.touch_node(session, node_id, NodeState.QUEUED, parked=True)
        log.info("node parked at its cap node_id=%s", node_id)
        return None, []
    # The claim's time is read under the caps' locks: a completion that freed the slot came
    # before it, so started/finished times never show more nodes at once than a cap allows.
    at = now()
    claimed = repo.cas_node(
        session,
        node_id,
        [NodeState.QUEUED],
        NodeState.SUBMITTING,
        attempt=node.attempt + 1,
        started_at=at,
        updated_at=at,
        parked=False,
    )
    if not claimed:
        log.info("claim lost node_id=%s state=%s", node_id, node.state)
        return None, []
    claim = Change(node.node_key, NodeState.QUEUED, NodeState.SUBMITTING)
    if node.kind != NodeKind.LINKIS.value:
        # One batch for both moves: the seed tables are written once for a control node.
        return None, completion.complete(
            session, execution, node, NodeState.SUBMITTING, NodeState.SUCCEED, prior=(claim,)
        )
    emit(session, execution, [claim])
    return _claimed(node, repo.get_task(session, node.task_id), settings), []


def _run_control(session: Session, completed: settling.Completed, at: datetime) -> list[Action]:
    """The rest of a control node's step, once it moved Queued -> Succeed (the Submitting in
    between is never visible outside this transaction) and locked its execution's counters
    (and maybe its children): the children and the seed tables, as ``completion.complete``
    does for a Succeed."""
    row = completed.row
    logcontext.bind(row.task_id, row.node_key)
    changes = [
        Change(row.node_key, NodeState.QUEUED, NodeState.SUBMITTING),
        Change(row.node_key, NodeState.SUBMITTING, NodeState.SUCCEED),
    ]
    ready: list[Any] = []
    writes: Writes = []
    if not row.cancel_requested:
        keys = json.loads(row.children or "[]")
        ready, writes = completion.children_to_release(session, row, keys, changes, at, completed.children)
    completion.settle_one(session, row, changes, at, writes)
    return [*run_actions(ready)]


def submit_node(claimed: Claimed, linkis_for: LinkisFor, settings: Settings) -> list[Action]:
    """Submit a claimed node's job and record its ids at once (-> Running).

    Crash window: between Linkis accepting the job and the commit below, a crash leaves the
    node Submitting with no ids; the reconciler hands such nodes back after a grace period.
    """
    assert claimed.spec is not None
    linkis = linkis_for(claimed.spec.user)
    try:
        # The script is read from BML here, between transactions, as DSS reads it before submitting.
        ref = linkis.submit(scripts.resolve(claimed.spec, claimed.source, linkis, settings.max_code_chars))
    except LinkisError as exc:
        if isinstance(exc, LinkisUnavailable):
            raise
        error = scripts.error_text(exc)
        return finish_node(claimed.node_id, NodeState.FAILED, [NodeState.SUBMITTING], error=error)
    return record_submission(claimed.node_id, ref, settings, claimed.running)


def _timeout(node: Any) -> float:
    return float(json.loads(node.spec or "{}").get("timeout") or 0)


def _running(session: Session, node_id: int, settings: Settings) -> Running:
    """What recording a submission needs, read from the node's row (an adopted job)."""
    node = repo.read_step(session, node_id)
    started_at = node.started_at or now()
    return Running(counted(node), node.node_key, started_at, _timeout(node), linkis_user(node, settings))


def record_submission(
    node_id: int, ref: JobRef, settings: Settings, known: Running | None = None
) -> list[Action]:
    """Record a submitted job's ids (Submitting -> Running): the node's own compare-and-set.

    ``known``: the node as its claim read it; without it the row is read first.
    """

    def work(session: Session) -> list[Action]:
        node = known or _running(session, node_id, settings)
        logcontext.bind(node.task_id, node.node_key)
        at = now()
        deadline = node.started_at + timedelta(seconds=node.timeout) if node.timeout > 0 else None
        countdown = until_deadline(poll_countdown(0, *schedule(settings)), deadline, at)
        running = repo.cas_node(
            session,
            node_id,
            [NodeState.SUBMITTING],
            NodeState.RUNNING,
            linkis_exec_id=ref.exec_id,
            linkis_task_id=ref.task_id,
            updated_at=at,
            unreachable_since=None,
            error=None,
            polls=0,
            next_poll_at=at + timedelta(seconds=countdown),
            deadline_at=deadline,
        )
        if running:
            emit(session, node.counters, [Change(node.node_key, NodeState.SUBMITTING, NodeState.RUNNING)])
            hint = JobHint(ref.exec_id, ref.task_id, node.user, deadline.timestamp() if deadline else None)
            return [PollNode(node_id, countdown, label(node), hint)]
        # The node was cancelled while we submitted: its job must not run on.
        log.info("submitted after cancel node_id=%s exec_id=%s", node_id, ref.exec_id)
        repo.touch_node(
            session, node_id, NodeState.CANCELLED, linkis_exec_id=ref.exec_id, linkis_task_id=ref.task_id
        )
        return [KillJob(node_id, ref.exec_id, ref.task_id)]

    return in_transaction(work)


def schedule(settings: Settings) -> tuple[float, float, float]:
    return settings.poll_first, settings.poll_max, settings.poll_growth


def until_deadline(countdown: float, deadline: datetime | None, at: datetime) -> float:
    """Never sleep past a node's deadline: the poll after it is the one that times it out."""
    if deadline is None:
        return countdown
    return max(0.0, min(countdown, (deadline - at).total_seconds()))


def release_node(node_id: int) -> None:
    """Hand a node whose submission failed transiently back to the queue (Submitting -> Queued)."""

    def work(session: Session) -> None:
        node, execution = lock_node(session, node_id)
        at = now()
        if repo.hand_back(session, node, at):
            emit(session, execution, [Change(node.node_key, NodeState.SUBMITTING, NodeState.QUEUED)])

    in_transaction(work)


def node_and_task(session: Session, node_id: int) -> tuple[NodeRun, WorkflowTask]:
    node = repo.get_node(session, node_id)
    return node, repo.get_task(session, node.task_id)


def finish_node(
    node_id: int,
    outcome: NodeState,
    expected: Sequence[NodeState],
    job_id: int | None = None,
    **values: Any,
) -> list[Action]:
    """Record a node's end and queue what it unblocked (one transaction); with ``job_id``, only
    while the node still runs that Linkis job."""

    def work(session: Session) -> list[Action]:
        node, execution = lock_node(session, node_id)
        old = NodeState(node.state)
        if old not in expected or (job_id is not None and node.linkis_task_id != job_id):
            log.info("completion lost node_id=%s state=%s outcome=%s", node_id, old, outcome)
            return []
        return completion.complete(session, execution, node, old, outcome, **values)

    return in_transaction(work)


def succeed_node(node_id: int, settings: Settings, job_id: int | None = None, **values: Any) -> list[Action]:
    """Record a running node's success and queue what it unblocked (one transaction); with
    ``job_id``, only while the node still runs that Linkis job.

    Without a cap on its execution the execution's row is locked only at the end, for its
    counters (``completion.succeed``); with one, the whole step holds it, as every cap's step does.
    """

    def work(session: Session) -> list[Action]:
        step = repo.read_end(session, node_id)
        logcontext.bind(step.task_id, step.node_key)
        if step.max_parallel:
            node, execution = lock_node(session, node_id)
            lost = job_id is not None and node.linkis_task_id != job_id
            if node.state != NodeState.RUNNING.value or lost:
                log.info("completion lost node_id=%s state=%s outcome=Succeed", node_id, node.state)
                return []
            return completion.complete(
                session, execution, node, NodeState.RUNNING, NodeState.SUCCEED, **values
            )
        if step.state != NodeState.RUNNING.value:
            log.info("completion lost node_id=%s state=%s outcome=Succeed", node_id, step.state)
            return []
        capped = repo.engine_of(step) in settings.engine_caps
        return completion.succeed(session, step, capped, job_id, **values)

    return in_transaction(work)


def fail_node(node_id: int, error: str) -> list[Action]:
    """Fail a node whose task crashed, from wherever it was left. A node still Queued was
    being claimed when the task crashed (its claim rolled back): it is claimed and failed in
    one transaction (Queued -> Submitting -> Failed), so a crash that repeats ends the node
    instead of sending it round again."""

    def work(session: Session) -> list[Action]:
        node, execution = lock_node(session, node_id)
        old = NodeState(node.state)
        prior: list[Change] = []
        if old is NodeState.QUEUED:
            at = now()
            if not repo.cas_node(
                session,
                node_id,
                [old],
                NodeState.SUBMITTING,
                attempt=node.attempt + 1,
                started_at=at,
                parked=False,
            ):
                return []
            node.attempt += 1
            prior.append(Change(node.node_key, old, NodeState.SUBMITTING))
            old = NodeState.SUBMITTING
        if old not in (NodeState.SUBMITTING, NodeState.RUNNING):
            log.info("crash after the node ended node_id=%s state=%s", node_id, old)
            return []
        return completion.complete(
            session, execution, node, old, NodeState.FAILED, prior=prior, error=error[:4000]
        )

    return in_transaction(work)
