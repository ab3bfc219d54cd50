"""A Linkis that does not answer a node's submit: wait for it, but not past ``FLOWEXEC_LINKIS_DEADLINE``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from flowexec.actions import Action
from flowexec.events import Change
from flowexec.service import completion
from flowexec.service.common import emit
from flowexec.service.common import lock_node
from flowexec.service.common import now
from flowexec.state import NodeState
from flowexec.store import repository as repo
from flowexec.store.db import in_transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unreachable:
    """What became of a node whose submit Linkis did not answer.

    ``retry_in``: seconds left before the deadline (the task retries within them), or None
    when the node was failed (``actions`` follow from its failure) or is no longer ours.
    """

    retry_in: float | None
    actions: list[Action]


def linkis_unreachable(node_id: int, error: str, deadline: float) -> Unreachable:
    """Hand a Submitting node back to the queue (Submitting -> Queued), remembering since when
    Linkis has not answered; past ``deadline`` seconds of that, fail it with one line instead."""

    def work(session: Session) -> Unreachable:
        node, execution = lock_node(session, node_id)
        if node.state != NodeState.SUBMITTING.value:
            return Unreachable(None, [])
        at = now()
        since = node.unreachable_since or at
        waited = (at - since).total_seconds()
        if waited >= deadline:
            line = f"{error} (gave up after {waited:.0f} s, FLOWEXEC_LINKIS_DEADLINE={deadline:g})"
            log.warning("linkis unreachable, node failed node_id=%s error=%s", node_id, error)
            return Unreachable(
                None,
                completion.complete(
                    session, execution, node, NodeState.SUBMITTING, NodeState.FAILED, error=line[:4000]
                ),
            )
        back = repo.hand_back(
            session, node, at, unreachable_since=since, error=f"waiting for Linkis: {error}"[:4000]
        )
        if not back:
            return Unreachable(None, [])
        emit(session, execution, [Change(node.node_key, NodeState.SUBMITTING, NodeState.QUEUED)])
        return Unreachable(deadline - waited, [])

    return in_transaction(work)
