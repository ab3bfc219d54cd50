"""Prebuilt Core statements of the hot path: building a statement costs more Python than the
round trip it makes, so each is built once, at import, from the state table's legal moves."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from typing import cast

from sqlalchemy import Table
from sqlalchemy import Update
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import select
from sqlalchemy import update

from flowexec.graph import NodeKind
from flowexec.state import RUN_UNSTARTED
from flowexec.state import NodeState
from flowexec.state import RunState
from flowexec.state import check_moves
from flowexec.state import check_path
from flowexec.state import check_run_moves
from flowexec.store.models import Execution
from flowexec.store.models import NodeRun
from flowexec.store.models import WorkflowTask

NODES = cast(Table, NodeRun.__table__)
EXECUTIONS = cast(Table, Execution.__table__)
TASKS = cast(Table, WorkflowTask.__table__)

#: A run is Running from its first node's submission on. A Scheduled row stays Scheduled: it is
#: how a run waits out DSS's sweeper on a shared ``dss_workflow_task`` (FLOWEXEC_DSS_SHARED_TABLES).
NOT_STARTED = check_run_moves(RUN_UNSTARTED, RunState.RUNNING)
_NOT_STARTED = tuple(s.value for s in NOT_STARTED)

#: A queued control node completes in the statement that claims it: two moves, so its
#: version goes up by two.
_CONTROL_FROM, _CONTROL_TO = check_path([NodeState.QUEUED, NodeState.SUBMITTING, NodeState.SUCCEED])
CONTROL_DONE = (
    update(NODES)
    .where(
        NODES.c.id == bindparam("node_id"),
        NODES.c.state == _CONTROL_FROM.value,
        NODES.c.kind != NodeKind.LINKIS.value,
    )
    .values(
        state=_CONTROL_TO.value,
        version=NODES.c.version + 2,
        attempt=NODES.c.attempt + 1,
        started_at=bindparam("at"),
        finished_at=bindparam("at"),
        updated_at=bindparam("at"),
        parked=False,
    )
)

#: The node ``CONTROL_DONE`` completed (its row already locked by it) and its execution's
#: counters, whose row this locks; sent with it, it matches nothing (and locks nothing) when
#: that statement did not complete a control node.
LOCK_COUNTERS = (
    select(
        NODES.c.task_id,
        NODES.c.node_key,
        NODES.c.children,
        EXECUTIONS.c.flow_id,
        EXECUTIONS.c.version,
        EXECUTIONS.c.total_nodes,
        EXECUTIONS.c.settled_nodes,
        EXECUTIONS.c.cancel_requested,
    )
    .select_from(NODES.join(EXECUTIONS, EXECUTIONS.c.task_id == NODES.c.task_id))
    .where(
        NODES.c.id == bindparam("node_id"),
        NODES.c.state == _CONTROL_TO.value,
        NODES.c.kind != NodeKind.LINKIS.value,
    )
    .with_for_update()
)

#: The execution's count of settled nodes, as its locked row's count plus one.
SETTLE_COUNT = (
    update(EXECUTIONS)
    .where(EXECUTIONS.c.task_id == bindparam("b_task_id"))
    .values(settled_nodes=bindparam("settled"))
)

#: MariaDB/MySQL: the counter and the task row's progress (and Running) in one multi-table
#: UPDATE, while the execution's row is locked.
SETTLE_AND_PROGRESS = (
    update(EXECUTIONS)
    .where(EXECUTIONS.c.task_id == bindparam("b_task_id"), TASKS.c.id == EXECUTIONS.c.task_id)
    .values(
        {
            EXECUTIONS.c.settled_nodes: bindparam("settled"),
            TASKS.c.progress: bindparam("progress"),
            TASKS.c.updated_time: bindparam("at"),
            TASKS.c.status: case(
                (TASKS.c.status.in_(_NOT_STARTED), RunState.RUNNING.value), else_=TASKS.c.status
            ),
        }
    )
)

#: What dispatching a node reads of it (``common.run_actions``), and its state.
_DISPATCHED = (NODES.c.id, NODES.c.task_id, NODES.c.node_key, NODES.c.job_type, NODES.c.kind, NODES.c.state)

#: The children of a node, locked, to release the ones whose last parent just ended.
CHILDREN = (
    select(*_DISPATCHED, NODES.c.pending_parents)
    .where(NODES.c.task_id == bindparam("task_id"), NODES.c.node_key.in_(bindparam("keys", expanding=True)))
    .order_by(NODES.c.id)
    .with_for_update()
)
_RELEASED = [s.value for s in check_moves([NodeState.PENDING], NodeState.QUEUED)]
#: Children whose last parent ended: Pending -> Queued.
QUEUE = (
    update(NODES)
    .where(NODES.c.id.in_(bindparam("ids", expanding=True)), NODES.c.state.in_(_RELEASED))
    .values(
        state=NodeState.QUEUED.value,
        version=NODES.c.version + 1,
        queued_at=bindparam("at"),
        updated_at=bindparam("at"),
    )
)
#: Chains and a join's last parent: queue and count the parent in one statement.
QUEUE_READY = QUEUE.values(pending_parents=NODES.c.pending_parents - 1)
DECREMENT = (
    update(NODES)
    .where(NODES.c.id.in_(bindparam("ids", expanding=True)))
    .values(pending_parents=NODES.c.pending_parents - 1)
)

#: The task row's progress at a batch of transitions; Running once a node is submitted.
PROGRESS = (
    update(TASKS)
    .where(TASKS.c.id == bindparam("task_id"))
    .values(progress=bindparam("b_progress"), updated_time=bindparam("at"))
)
PROGRESS_AND_RUNNING = PROGRESS.values(
    status=case((TASKS.c.status.in_(_NOT_STARTED), RunState.RUNNING.value), else_=TASKS.c.status)
)
#: A run's first submission, with no node settled: Running, its progress untouched.
START_RUN = (
    update(TASKS)
    .where(TASKS.c.id == bindparam("task_id"), TASKS.c.status.in_(_NOT_STARTED))
    .values(status=RunState.RUNNING.value, updated_time=bindparam("at"))
)

#: An execution's counters, its row locked: taken by a node's end as its last step, so the
#: lock is held only for the counter's write and the commit.
LOCK_EXECUTION_COUNTERS = (
    select(
        EXECUTIONS.c.task_id,
        EXECUTIONS.c.flow_id,
        EXECUTIONS.c.version,
        EXECUTIONS.c.total_nodes,
        EXECUTIONS.c.settled_nodes,
        EXECUTIONS.c.cancel_requested,
    )
    .where(EXECUTIONS.c.task_id == bindparam("task_id"))
    .with_for_update()
)

#: An execution's end reads its task row's status alone, not the row's two dozen columns.
TASK_STATUS = select(TASKS.c.status).where(TASKS.c.id == bindparam("task_id"))

#: A run's final state (the caller checked the move against the run's transition table), with
#: ``err_code`` and ``err_desc`` when it failed, and its execution's ``finished_time``: on
#: MariaDB/MySQL one multi-table UPDATE, elsewhere the task row's UPDATE and the execution's.
_ENDED: dict[Any, Any] = {
    TASKS.c.status: bindparam("b_status"),
    TASKS.c.progress: 1.0,
    TASKS.c.updated_time: bindparam("b_at"),
}
_ERRORS: dict[Any, Any] = {
    TASKS.c.err_code: bindparam("b_err_code"),
    TASKS.c.err_desc: bindparam("b_err_desc"),
}
END_RUN = {
    failed: update(TASKS)
    .where(TASKS.c.id == bindparam("b_task_id"))
    .values(_ENDED | (_ERRORS if failed else {}))
    for failed in (False, True)
}
FINISH_EXECUTION = (
    update(EXECUTIONS)
    .where(EXECUTIONS.c.task_id == bindparam("b_task_id"))
    .values(finished_time=bindparam("b_at"))
)
END_RUN_AND_FINISH = {
    failed: update(EXECUTIONS)
    .where(EXECUTIONS.c.task_id == bindparam("b_task_id"), TASKS.c.id == EXECUTIONS.c.task_id)
    .values({EXECUTIONS.c.finished_time: bindparam("b_at")} | _ENDED | (_ERRORS if failed else {}))
    for failed in (False, True)
}

#: What a node's lock-free steps read (claim, submission, poll, success): the node's columns, its
#: execution's (``run_version`` is the flow's version) and its task row's, in one round trip and
#: without the wide rows' other columns.
NODE_STEP = (
    select(
        NODES.c.id,
        NODES.c.task_id,
        NODES.c.node_key,
        NODES.c.title,
        NODES.c.job_type,
        NODES.c.kind,
        NODES.c.state,
        NODES.c.children,
        NODES.c.spec,
        NODES.c.attempt,
        NODES.c.version,
        NODES.c.started_at,
        NODES.c.linkis_exec_id,
        NODES.c.linkis_task_id,
        NODES.c.deadline_at,
        NODES.c.polls,
        EXECUTIONS.c.flow_id,
        EXECUTIONS.c.version.label("run_version"),
        EXECUTIONS.c.total_nodes,
        EXECUTIONS.c.settled_nodes,
        EXECUTIONS.c.max_parallel,
        EXECUTIONS.c.cancel_requested,
        TASKS.c.status,
        TASKS.c.params,
        TASKS.c.script_path,
        TASKS.c.um_user,
    )
    .select_from(
        NODES.join(EXECUTIONS, EXECUTIONS.c.task_id == NODES.c.task_id).join(
            TASKS, TASKS.c.id == NODES.c.task_id
        )
    )
    .where(NODES.c.id == bindparam("node_id"))
)

#: What a running node's success reads (``steps.succeed_node``): its key, kind, children and
#: state, and its execution's cap and kill flag; not its spec or its task row's wide columns.
NODE_END = (
    select(*_DISPATCHED, NODES.c.children, EXECUTIONS.c.max_parallel, EXECUTIONS.c.cancel_requested)
    .select_from(NODES.join(EXECUTIONS, EXECUTIONS.c.task_id == NODES.c.task_id))
    .where(NODES.c.id == bindparam("node_id"))
)


@lru_cache(maxsize=256)
def node_cas(
    sources: frozenset[NodeState],
    target: NodeState,
    columns: Sequence[str],
    versioned: bool,
    for_job: bool,
) -> Update:
    """A node's compare-and-set, built once per shape (sources, target, columns set; with a
    read version; for a Linkis job) and bound at each call: ``b_node_id``, ``b_<column>``,
    ``b_read_version``, ``b_job_id``. Building an UPDATE costs several times its round trip.

    The caller checks the move against the state table (``repository.cas_node``).
    """
    query = update(NODES).where(
        NODES.c.id == bindparam("b_node_id"), NODES.c.state.in_(sorted(s.value for s in sources))
    )
    if versioned:
        query = query.where(NODES.c.version == bindparam("b_read_version"))
    if for_job:
        query = query.where(NODES.c.linkis_task_id == bindparam("b_job_id"))
    values = {NODES.c[name]: bindparam(f"b_{name}", type_=NODES.c[name].type) for name in columns}
    return query.values({NODES.c.state: target.value, NODES.c.version: NODES.c.version + 1, **values})
