"""What the web console shows beyond the API's reads: a flow's graph, its recent runs by node,
and the engine slots in use. Each read is its own short transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from flowexec.config import Settings
from flowexec.graph import Flow
from flowexec.service.flows import load_flow
from flowexec.store import history
from flowexec.store import overview
from flowexec.store.db import in_transaction
from flowexec.store.flows import VersionRow
from flowexec.store.history import ExecutionFilter
from flowexec.store.history import ExecutionRow


@dataclass(frozen=True)
class RecentRun:
    """One execution of a flow with its node states by key."""

    row: ExecutionRow
    states: dict[str, str]


@dataclass(frozen=True)
class EngineUse:
    """An engine's nodes holding a slot now, and its cap (None: uncapped)."""

    engine: str
    active: int
    cap: int | None


def flow_graph(flow_id: int, version: str | None, user: str, admin: bool) -> tuple[VersionRow, Flow]:
    """A registered version (the newest when ``version`` is None) and its parsed DAG, for a
    caller who may run it (``NotAllowed`` otherwise)."""
    return in_transaction(lambda session: load_flow(session, flow_id, version, user, admin))


def recent_runs(flow_id: int, user: str | None, limit: int) -> list[RecentRun]:
    """A flow's newest ``limit`` executions (``user``'s only, unless None), with node states."""

    def work(session: Session) -> list[RecentRun]:
        rows = history.page(session, ExecutionFilter(flow_id=flow_id, user=user, page_size=limit)).rows
        states: dict[int, dict[str, str]] = {row.task.id: {} for row in rows}
        for node in overview.nodes_of_tasks(session, [row.task.id for row in rows]):
            states[node.task_id][node.node_key] = node.state
        return [RecentRun(row, states[row.task.id]) for row in rows]

    return in_transaction(work)


def last_run(flow_id: int, user: str | None) -> ExecutionRow | None:
    """A flow's newest execution (``user``'s only, unless None)."""
    rows = in_transaction(
        lambda session: history.page(session, ExecutionFilter(flow_id=flow_id, user=user, page_size=1)).rows
    )
    return rows[0] if rows else None


def engine_use(settings: Settings) -> Sequence[EngineUse]:
    """Active nodes per engine (``linkis.<engine>.<runType>``) beside the configured caps."""
    active: dict[str, int] = {}
    for job_type, count in in_transaction(overview.active_by_job_type).items():
        parts = job_type.split(".")
        engine = parts[1] if len(parts) > 2 else job_type
        active[engine] = active.get(engine, 0) + count
    names = sorted(set(active) | set(settings.engine_caps))
    return [EngineUse(name, active.get(name, 0), settings.engine_caps.get(name)) for name in names]
