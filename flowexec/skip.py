"""Skip strategies: pure functions from (flow, arguments) to the set of nodes to skip."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from flowexec.errors import InvalidRequest
from flowexec.graph import Flow
from flowexec.graph import NodeKind
from flowexec.graph import ancestors
from flowexec.graph import descendants


class ExecuteStrategy(str, Enum):
    """DSS's ``params.executeStrategy`` values, plus DolphinScheduler's from/to a node."""

    EXECUTE = "execute"
    RERUN_FAILED = "reExecute"
    SELECTED = "selectedExecute"
    FROM_NODE = "fromNode"
    TO_NODE = "toNode"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StrategyArgs:
    """A strategy and its node ids: the selection, the start/end node, or the rerun skip list."""

    strategy: ExecuteStrategy = ExecuteStrategy.EXECUTE
    node_ids: frozenset[str] = frozenset()


Strategy = Callable[[Flow, frozenset[str]], frozenset[str]]
REGISTRY: dict[ExecuteStrategy, Strategy] = {}


def strategy(name: ExecuteStrategy) -> Callable[[Strategy], Strategy]:
    """Register a function as the strategy ``name``."""

    def register(func: Strategy) -> Strategy:
        REGISTRY[name] = func
        return func

    return register


def always_skipped(flow: Flow) -> frozenset[str]:
    """Return the nodes every strategy skips: disabled ones and child flows (as DSS does)."""
    return frozenset(n.key for n in flow.nodes if n.disabled or n.kind is NodeKind.SUBFLOW)


def skipped_nodes(flow: Flow, args: StrategyArgs) -> frozenset[str]:
    """Return the keys of the nodes that ``args`` skips in ``flow``."""
    return always_skipped(flow) | REGISTRY[args.strategy](flow, args.node_ids)


def resolve_ids(flow: Flow, ids: Iterable[str]) -> frozenset[str]:
    """Map ids to node keys case-insensitively (as DSS compares them); unknown ids are an error."""
    by_lower = {k.lower(): k for k in flow.keys}
    by_title = {n.title.lower(): n.key for n in flow.nodes}
    out, unknown = set(), []
    for raw in ids:
        key = by_lower.get(raw.strip().lower()) or by_title.get(raw.strip().lower())
        if key is None:
            unknown.append(raw)
        else:
            out.add(key)
    if unknown:
        raise InvalidRequest(f"unknown node id(s): {', '.join(sorted(unknown))}")
    return frozenset(out)


def _one(flow: Flow, ids: frozenset[str], what: str) -> str:
    if len(ids) != 1:
        raise InvalidRequest(f"{what} needs exactly one node id, got {len(ids)}")
    return next(iter(resolve_ids(flow, ids)))


@strategy(ExecuteStrategy.EXECUTE)
def execute(flow: Flow, ids: frozenset[str]) -> frozenset[str]:
    """Run everything; the node ids are ignored, as in DSS."""
    return frozenset()


@strategy(ExecuteStrategy.SELECTED)
def selected(flow: Flow, ids: frozenset[str]) -> frozenset[str]:
    """Run only the selected nodes."""
    if not ids:
        raise InvalidRequest("selected execute needs nodeID: at least one node id")
    return frozenset(flow.keys) - resolve_ids(flow, ids)


@strategy(ExecuteStrategy.RERUN_FAILED)
def rerun_failed(flow: Flow, ids: frozenset[str]) -> frozenset[str]:
    """Skip what succeeded or was skipped before (``ids``); ids of removed nodes are ignored."""
    lowered = {i.strip().lower() for i in ids}
    return frozenset(k for k in flow.keys if k.lower() in lowered)


@strategy(ExecuteStrategy.FROM_NODE)
def from_node(flow: Flow, ids: frozenset[str]) -> frozenset[str]:
    """Run a node and everything downstream of it."""
    start = _one(flow, ids, "from-node")
    return frozenset(flow.keys) - descendants(flow, start) - {start}


@strategy(ExecuteStrategy.TO_NODE)
def to_node(flow: Flow, ids: frozenset[str]) -> frozenset[str]:
    """Run a node and everything upstream of it."""
    end = _one(flow, ids, "to-node")
    return frozenset(flow.keys) - ancestors(flow, end) - {end}
