"""Celery tasks: ids in, one service call, dispatch. Names never change while messages queue."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery import shared_task
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError

from flowexec import service
from flowexec.actions import JobHint
from flowexec.backoff import jittered
from flowexec.errors import LinkisOutcomeUnknown
from flowexec.errors import LinkisUnavailable
from flowexec.linkis.port import JobRef
from workers import dispatch
from workers import metrics
from workers.runtime import runtime

log = logging.getLogger(__name__)

#: Transient Linkis trouble while submitting: back off until FLOWEXEC_LINKIS_DEADLINE fails the node.
SUBMIT_RETRIES = None


#: A database that is briefly gone (restart, failover) delays a task; it is not a node failure.
DATABASE_ERRORS = (OperationalError, InterfaceError)
DB_RETRY = {
    "autoretry_for": DATABASE_ERRORS,
    "retry_backoff": 0.5,
    "retry_backoff_max": 10,
    "retry_jitter": True,
}


@shared_task(name="flowexec.run_node", bind=True, max_retries=SUBMIT_RETRIES, **DB_RETRY)
def run_node(self: Task, node_run_id: int, node: str = "", linkis: bool = False) -> None:
    """Claim a queued node and submit its Linkis job (control nodes complete at once).

    ``node`` (``<taskID>:<key>``) only labels the task in Flower and the logs; ``linkis`` says
    the node is a Linkis node (a hint: a message without it works for either kind).
    """
    settings = runtime().settings
    log.info("run_node node_id=%s", node_run_id)
    claimed, actions = service.start_node(node_run_id, settings, control=not linkis)
    if claimed is not None and claimed.spec is not None:
        try:
            actions += service.submit_node(claimed, runtime().linkis_for, settings)
        except LinkisOutcomeUnknown as exc:
            # The job may exist: adopt it from Linkis job history (by the node's source tag)
            # rather than submit it twice; adopt_node resubmits only when there is none.
            log.warning("submit outcome unknown node_id=%s error=%s", node_run_id, exc)
            actions += service.adopt_node(node_run_id, runtime().linkis_for, settings)
        except LinkisUnavailable as exc:
            # Back to Queued first, so the retried message (or the reconciler) can claim it;
            # past FLOWEXEC_LINKIS_DEADLINE of no answer the node fails instead.
            waiting = service.linkis_unreachable(node_run_id, exc.message, settings.linkis_deadline)
            if waiting.retry_in is None:
                dispatch.send(waiting.actions)
                return
            log.warning("submit retried node_id=%s error=%s", node_run_id, exc)
            countdown = min(jittered(self.request.retries, 0.2, settings.poll_max), waiting.retry_in)
            raise self.retry(exc=exc, countdown=max(countdown, 0.0)) from exc
    dispatch.send(actions)


@shared_task(name="flowexec.poll_node", bind=True, max_retries=None)
def poll_node(self: Task, node_run_id: int, node: str = "", job: dict[str, Any] | None = None) -> None:
    """Poll a running node's job; not finished means retry later, never wait here.

    ``job``: the first poll's hint (``JobHint``'s fields), so that poll reads no row; the
    polls after it read the node's row (their count and deadline are kept there).
    """
    rt = runtime()
    hint = JobHint(**job) if job else None
    try:
        result = service.poll_node(node_run_id, rt.linkis_for, rt.settings, hint)
    except (LinkisUnavailable, *DATABASE_ERRORS) as exc:
        log.warning("poll retried node_id=%s error=%s", node_run_id, exc)
        raise self.retry(countdown=rt.settings.poll_max, kwargs={"node": node}) from exc
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in, kwargs={"node": node})
    dispatch.send(result.actions)


@shared_task(
    name="flowexec.kill_job",
    autoretry_for=(LinkisUnavailable, *DATABASE_ERRORS),
    retry_backoff=0.5,
    retry_backoff_max=10,
    retry_jitter=True,
    max_retries=10,
)
def kill_job(node_run_id: int, exec_id: str, task_id: int) -> None:
    """Kill a cancelled node's Linkis job (safe to repeat)."""
    if task_id:
        rt = runtime()
        rt.linkis_for(service.node_linkis_user(node_run_id, rt.settings)).kill(JobRef(exec_id, task_id))
        log.info("linkis job killed node_id=%s task_id=%s", node_run_id, task_id)


@shared_task(name="flowexec.reconcile", send_events=False)
def reconcile() -> None:
    """Re-drive lost dispatches and stale polls (beat sends this every few seconds; it sends no
    task events, so Flower's task list shows the flows' tasks, not this one)."""
    actions = service.reconcile(runtime().settings)
    metrics.count_reconciled(actions)
    dispatch.send(actions)


@shared_task(
    name="flowexec.adopt_node",
    max_retries=10,
    **{**DB_RETRY, "autoretry_for": (LinkisUnavailable, *DATABASE_ERRORS)},
)
def adopt_node(node_run_id: int) -> None:
    """Settle a node whose submitting worker died: adopt its Linkis job, or resubmit."""
    rt = runtime()
    dispatch.send(service.adopt_node(node_run_id, rt.linkis_for, rt.settings))
