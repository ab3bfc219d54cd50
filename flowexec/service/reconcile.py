"""The reconciler's pass, and the adoption of submissions a dead worker left behind."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from flowexec.actions import Action
from flowexec.actions import AdoptNode
from flowexec.actions import PollNode
from flowexec.config import Settings
from flowexec.linkis.port import JobRef
from flowexec.service import completion
from flowexec.service.common import label
from flowexec.service.common import now
from flowexec.service.common import run_actions
from flowexec.service.jobs import linkis_user
from flowexec.service.steps import LinkisFor
from flowexec.service.steps import node_and_task
from flowexec.service.steps import record_submission
from flowexec.service.steps import release_node
from flowexec.state import NodeState
from flowexec.store import repository as repo
from flowexec.store.db import in_transaction

log = logging.getLogger(__name__)


def reconcile(settings: Settings) -> list[Action]:
    """Re-drive what a lost message or a dead worker left behind (all compare-and-set)."""
    grace = timedelta(seconds=settings.queued_grace)

    def work(session: Session) -> list[Action]:
        at = now()
        actions: list[Action] = []
        lost = repo.overdue(session, NodeState.QUEUED, "queued_at", at - grace)
        redo = [n for n in lost if repo.touch_node(session, n.id, NodeState.QUEUED, queued_at=at)]
        actions += run_actions(redo)
        late = repo.overdue(session, NodeState.RUNNING, "deadline_at", at)
        actions += [PollNode(n.id, 0.0, label(n)) for n in late]
        orphans = repo.overdue(
            session, NodeState.SUBMITTING, "updated_at", at - timedelta(seconds=settings.submit_grace)
        )
        actions += [
            AdoptNode(n.id)
            for n in orphans
            if repo.touch_node(session, n.id, NodeState.SUBMITTING, updated_at=at)
        ]
        finalize_settled(session)
        stale = repo.overdue(session, NodeState.RUNNING, "next_poll_at", at - grace)
        polls = [
            PollNode(n.id, 0.0, label(n))
            for n in stale
            if repo.touch_node(session, n.id, NodeState.RUNNING, next_poll_at=at + grace)
        ]
        actions += polls
        if actions:
            log.info("reconcile redispatched queued=%s polls=%s", len(redo), len(polls))
        return actions

    return in_transaction(work)


def finalize_settled(session: Session) -> int:
    """Finalize executions whose nodes have all settled but whose end was not recorded."""
    task_ids = repo.settled_unfinished(session)
    for task_id in task_ids:
        execution = repo.lock_execution(session, task_id)
        completion.finalize(session, execution)
        execution.finished_time = execution.finished_time or now()
    return len(task_ids)


def adopt_node(node_id: int, linkis_for: LinkisFor, settings: Settings) -> list[Action]:
    """Settle an orphaned submission: find its job in Linkis history by the source tag
    (``flowexecNodeRunId``/``flowexecAttempt``) and adopt it, else hand the node back to the queue."""
    node, task = in_transaction(lambda s: node_and_task(s, node_id))
    if node.state != NodeState.SUBMITTING.value:
        return []
    since = (node.started_at or now()) - timedelta(minutes=5)
    found = linkis_for(linkis_user(task, settings)).find_by_source(
        {"flowexecNodeRunId": str(node.id), "flowexecAttempt": str(node.attempt)},
        int(since.timestamp() * 1000),
        creator="nodeexecution",
    )
    if found is None or not found.exec_id:
        log.info("orphaned submission resubmitted node_id=%s attempt=%s", node_id, node.attempt)
        release_node(node_id)
        return list(run_actions([node]))
    log.info("orphaned submission adopted node_id=%s task_id=%s", node_id, found.task_id)
    return record_submission(node_id, JobRef(found.exec_id, found.task_id), settings)
