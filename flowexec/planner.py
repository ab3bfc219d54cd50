"""Pure planning: node rows of a new execution, node limits, outcomes and DSS's node lists."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowexec.graph import Flow
from flowexec.graph import NodeKind
from flowexec.state import NODE_FAILED
from flowexec.state import NodeState
from flowexec.state import RunState


@dataclass(frozen=True)
class NodePlan:
    """A node run to insert: its initial state and its place in the runtime DAG.

    ``children`` and ``pending_parents`` are taken over the nodes that run: a skipped node
    is transparent, so a child waits for the nearest running ancestors through it (DSS
    skips a node only once its parents are done, which keeps A -> [B skipped] -> C in order).
    """

    key: str
    title: str
    job_type: str
    kind: NodeKind
    state: NodeState
    pending_parents: int
    children: tuple[str, ...]


def plan_nodes(flow: Flow, skipped: frozenset[str]) -> tuple[NodePlan, ...]:
    """Return one plan per node, in topological order."""
    running_parents = _running_parents(flow, skipped)
    running_children: dict[str, list[str]] = {key: [] for key in flow.keys}
    for key in flow.keys:
        if key not in skipped:
            for parent in running_parents[key]:
                running_children[parent].append(key)
    return tuple(
        NodePlan(
            key=node.key,
            title=node.title,
            job_type=node.job_type,
            kind=node.kind,
            state=NodeState.SKIPPED if node.key in skipped else NodeState.PENDING,
            pending_parents=0 if node.key in skipped else len(running_parents[node.key]),
            children=tuple(running_children[node.key]),
        )
        for node in flow.nodes
    )


def _running_parents(flow: Flow, skipped: frozenset[str]) -> dict[str, frozenset[str]]:
    # Nodes come in topological order, so every parent's set is known before its child's.
    through: dict[str, frozenset[str]] = {}
    result: dict[str, frozenset[str]] = {}
    for key in flow.keys:
        found: set[str] = set()
        for parent in flow.parents[key]:
            found |= through[parent]
        result[key] = frozenset(found)
        through[key] = result[key] if key in skipped else frozenset({key})
    return result


@dataclass(frozen=True)
class NodeLimits:
    """Per-node retries, delay between attempts and timeout (seconds; 0 means none)."""

    retries: int = 0
    retry_delay: float = 0.0
    timeout: float = 0.0


LIMIT_KEYS = {
    "retries": "flowexec.retries",
    "retry_delay": "flowexec.retryDelay",
    "timeout": "flowexec.timeout",
}


def node_limits(special: Mapping[str, Any], defaults: NodeLimits) -> NodeLimits:
    """Read a node's ``flowexec.*`` keys from ``configuration.special`` over the execution's defaults.

    Unreadable or negative values raise ``ValueError`` naming the key.
    """
    values: dict[str, Any] = {}
    for attr, key in LIMIT_KEYS.items():
        raw = special.get(key)
        if raw is None or raw == "":
            values[attr] = getattr(defaults, attr)
            continue
        try:
            number = int(raw) if attr == "retries" else float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{key} must be a number, got {raw!r}") from None
        if number < 0 or number != number:
            raise ValueError(f"{key} must not be negative, got {raw!r}")
        values[attr] = number
    return NodeLimits(**values)


def roots(plans: Iterable[NodePlan]) -> tuple[str, ...]:
    """Return the keys that can be queued at once."""
    return tuple(p.key for p in plans if p.state is NodeState.PENDING and p.pending_parents == 0)


def run_outcome(states: Iterable[NodeState], cancel_requested: bool = False) -> RunState:
    """Return a settled execution's final state from its nodes' states."""
    if cancel_requested:
        return RunState.CANCELLED
    if any(state in NODE_FAILED for state in states):
        return RunState.FAILED
    return RunState.SUCCEED


#: ``dss_workflow_execute_info`` list columns and the node states each one lists.
INFO_LISTS: Mapping[str, frozenset[NodeState]] = {
    "running_jobs": frozenset({NodeState.SUBMITTING, NodeState.RUNNING}),
    "pending_jobs": frozenset({NodeState.PENDING, NodeState.QUEUED, NodeState.SKIPPED}),
    "succeed_jobs": frozenset({NodeState.SUCCEED}),
    "failed_jobs": NODE_FAILED,
    "skipped_jobs": frozenset({NodeState.SKIPPED}),
}


def listed_state(state: NodeState, started: bool) -> NodeState:
    """The state DSS's lists show: a node cancelled before it started (a fail-fast or a kill
    reached it while it waited) never ran, so DSS keeps it pending, not failed."""
    return NodeState.PENDING if state is NodeState.CANCELLED and not started else state


def info_lists(states: Mapping[str, NodeState]) -> dict[str, str]:
    """Return the comma lists of ``dss_workflow_execute_info`` for these node states."""
    return {
        column: ",".join(key for key, state in states.items() if state in members)
        for column, members in INFO_LISTS.items()
    }


def move_in_lists(lists: Mapping[str, str], key: str, old: NodeState, new: NodeState) -> dict[str, str]:
    """Return the lists after one node moved from ``old`` to ``new``."""
    return move_all_in_lists(lists, [(key, old, new)])


def move_all_in_lists(
    lists: Mapping[str, str], changes: Iterable[tuple[str, NodeState, NodeState]]
) -> dict[str, str]:
    """Return the lists after every change, in order; each list is split and joined once."""
    items = {
        column: dict.fromkeys(k for k in (lists.get(column) or "").split(",") if k) for column in INFO_LISTS
    }
    for key, old, new in changes:
        for column, members in INFO_LISTS.items():
            was, now = old in members, new in members
            if was and not now:
                items[column].pop(key, None)
            elif now and not was:
                items[column][key] = None
    return {column: ",".join(keys) for column, keys in items.items()}


def failure_text(failed: Iterable[tuple[str, str, str | None]], cancelled: bool) -> str:
    """Return the task's ``err_desc``: who failed first, and how."""
    if cancelled:
        return "This Flow killed by user"
    parts = [f"{title} {state}" + (f": {error}" if error else "") for title, state, error in failed]
    return "failed nodes: " + "; ".join(parts) if parts else "flow failed"
