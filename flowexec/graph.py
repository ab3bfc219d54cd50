"""DSS flow JSON parsed into a frozen, validated DAG (standard library only)."""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from enum import Enum
from typing import Any

from flowexec.errors import InvalidFlow
from flowexec.limits import Budget
from flowexec.limits import Limits
from flowexec.names import MAX_ID
from flowexec.names import check_label
from flowexec.names import check_node_id
from flowexec.nodecode import NO_SCRIPT_RESOURCE as NO_SCRIPT_RESOURCE
from flowexec.nodecode import SCRIPT_EMPTY as SCRIPT_EMPTY
from flowexec.nodecode import SCRIPT_ERROR_CODE as SCRIPT_ERROR_CODE
from flowexec.nodecode import ScriptRef as ScriptRef
from flowexec.nodecode import appconn_code
from flowexec.nodecode import bml_script
from flowexec.nodecode import node_code

EMPTY_JOB_TYPE = "linkis.control.empty"
SUBFLOW_JOB_TYPE = "workflow.subflow"
#: DSS code types that Linkis knows under another runType.
RUN_TYPE_ALIASES = {"sh": "shell"}
#: Engines DSS renames before it submits (older flows name AppConn nodes ``linkis.appjoint.*``).
ENGINE_ALIASES = {"appjoint": "appconn"}


class NodeKind(str, Enum):
    """How a node executes: a Linkis job, nothing at all, or a child flow."""

    LINKIS = "linkis"
    EMPTY = "empty"
    SUBFLOW = "subflow"


@dataclass(frozen=True)
class Node:
    """One workflow node, with its code resolved."""

    key: str
    title: str
    job_type: str
    kind: NodeKind
    engine: str | None = None
    run_type: str | None = None
    code: str | None = None
    script: str | None = None
    bml: ScriptRef | None = None
    #: DSS's error for a node whose script cannot be found (the node fails when submitted).
    script_error: str | None = None
    #: The ``configuration`` groups the node itself sets (they replace the script's, as in DSS).
    configured: tuple[str, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    configuration: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    disabled: bool = False
    embedded_flow_id: str | None = None


@dataclass(frozen=True)
class Flow:
    """A validated DAG: nodes in topological order, parents and children by key."""

    nodes: tuple[Node, ...]
    parents: Mapping[str, tuple[str, ...]]
    children: Mapping[str, tuple[str, ...]]
    props: Mapping[str, str] = field(default_factory=dict)
    by_key: Mapping[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {n.key: n for n in self.nodes})

    def node(self, key: str) -> Node:
        return self.by_key[key]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(n.key for n in self.nodes)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        return tuple((p, c) for c in self.keys for p in self.parents[c])


def loads(text: str) -> Any:
    """Decode flow JSON text; malformed JSON is an ``InvalidFlow`` naming the position."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidFlow(f"flow is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidFlow("flow JSON nests too deeply") from None


def script_names(doc: Any) -> tuple[str, ...]:
    """Return the ``jobContent.script`` file names a flow document refers to without inline code
    (local copies of them are a convenience: a script named by the node's ``resources`` is
    read from BML first)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("nodes"), list):
        return ()
    names = []
    for raw in doc["nodes"]:
        content = raw.get("jobContent") if isinstance(raw, Mapping) else None
        if isinstance(content, Mapping) and isinstance(content.get("script"), str):
            if not isinstance(content.get("code"), str):
                names.append(content["script"])
    return tuple(dict.fromkeys(names))


#: Finds a child flow by its ``embeddedFlowId``: its document and scripts, or None if unknown.
Resolver = Callable[[str], "tuple[Any, Mapping[str, str]] | None"]


def parse_flow(
    doc: Any,
    scripts: Mapping[str, str] | None = None,
    resolve: Resolver | None = None,
    limits: Limits | None = None,
    _depth: int = 0,
    _budget: Budget | None = None,
) -> Flow:
    """Validate a DSS flow document and return its DAG, nodes in topological order.

    A subflow node whose child flow is known (embedded in the node or the document, or found by
    ``resolve``) is flattened: the node stays as an empty entry node, the child's nodes follow it
    under keys ``<subflow>/<child>``, and the child's last nodes lead to the subflow's children.
    An unknown child flow leaves a ``SUBFLOW`` node, which is skipped, as in DSS.
    """
    budget = _budget or Budget(limits or Limits())
    if _depth > budget.limits.max_depth:
        raise InvalidFlow(
            f"subflows nested deeper than {budget.limits.max_depth} (FLOWEXEC_MAX_SUBFLOW_DEPTH; "
            "does a flow contain itself?)"
        )
    if not isinstance(doc, Mapping):
        raise InvalidFlow("flow must be a JSON object with 'nodes' and 'edges'")
    raw_nodes = doc.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise InvalidFlow("flow has no nodes: 'nodes' must be a non-empty list")
    budget.take(len(raw_nodes))
    nodes = [_parse_node(raw, i, scripts or {}) for i, raw in enumerate(raw_nodes)]
    by_key: dict[str, Node] = {}
    for node in nodes:
        if node.key in by_key:
            raise InvalidFlow(f"duplicate node id {node.key!r}")
        by_key[node.key] = node
    parents = _parse_edges(doc.get("edges", []), by_key)
    for subflow in [n for n in nodes if n.kind is NodeKind.SUBFLOW]:
        child = _child_flow(doc, raw_nodes, subflow, scripts or {}, resolve, _depth, budget)
        if child is not None:
            _flatten(subflow, child, by_key, parents)
    order = topological_order(list(by_key), parents)
    children: dict[str, list[str]] = {key: [] for key in by_key}
    for key in order:
        for parent in parents[key]:
            children[parent].append(key)
    return Flow(
        nodes=tuple(by_key[k] for k in order),
        parents={k: tuple(parents[k]) for k in order},
        children={k: tuple(children[k]) for k in order},
        props=_parse_props(doc.get("props", [])),
    )


def _child_flow(
    doc: Mapping[str, Any],
    raw_nodes: list[Any],
    subflow: Node,
    scripts: Mapping[str, str],
    resolve: Resolver | None,
    depth: int,
    budget: Budget,
) -> Flow | None:
    raw = next(
        r for r in raw_nodes if isinstance(r, Mapping) and (r.get("id") or r.get("key")) == subflow.key
    )
    content = _mapping(raw.get("jobContent"))
    embedded = content.get("embeddedFlow")
    if embedded is None and subflow.embedded_flow_id is not None:
        embedded = (doc.get("subflows") or {}).get(subflow.embedded_flow_id)
    try:
        if embedded is not None:
            return parse_flow(embedded, scripts, resolve, None, depth + 1, budget)
        found = resolve(subflow.embedded_flow_id) if resolve and subflow.embedded_flow_id else None
        return parse_flow(found[0], found[1], resolve, None, depth + 1, budget) if found else None
    except InvalidFlow as exc:
        raise InvalidFlow(f"subflow {subflow.key!r}: {exc.message}") from None


def _flatten(subflow: Node, child: Flow, by_key: dict[str, Node], parents: dict[str, list[str]]) -> None:
    """Splice a child flow in place of its subflow node (which becomes the entry node)."""
    prefix = f"{subflow.key}/"
    entry = replace(subflow, kind=NodeKind.EMPTY)
    by_key[subflow.key] = entry
    leaves = [prefix + k for k in child.keys if not child.children[k]] or [subflow.key]
    for key, node in child.by_key.items():
        name = prefix + key
        if name in by_key:
            raise InvalidFlow(f"duplicate node id {name!r}")
        check_label("subflow node id", name)
        title = f"{subflow.title}/{node.title}"[:MAX_ID]
        by_key[name] = replace(node, key=name, title=title, disabled=node.disabled or subflow.disabled)
        inner = [prefix + p for p in child.parents[key]]
        parents[name] = inner or [subflow.key]
    for key, ps in parents.items():
        if subflow.key in ps and not key.startswith(prefix):
            parents[key] = [p for p in ps if p != subflow.key] + leaves


def _parse_node(raw: Any, index: int, scripts: Mapping[str, str]) -> Node:
    if not isinstance(raw, Mapping):
        raise InvalidFlow(f"node #{index} must be an object")
    key = raw.get("id") or raw.get("key")
    if not isinstance(key, str) or not key.strip():
        raise InvalidFlow(f"node #{index} has no 'id'")
    check_node_id(key)
    title: str = raw["title"] if isinstance(raw.get("title"), str) else key
    check_label(f"node {key!r} title", title)
    job_type = raw.get("jobType")
    if not isinstance(job_type, str) or not job_type:
        raise InvalidFlow(f"node {key!r} has no jobType")
    check_label(f"node {key!r} jobType", job_type)
    params = _mapping(raw.get("params"))
    configuration = _configuration(params.get("configuration"))
    variables = _mapping(params.get("variable"))
    disabled = str(configuration["special"].get("auto.disabled", "")).lower() == "true"
    content = _mapping(raw.get("jobContent"))
    common: dict[str, Any] = {
        "key": key,
        "title": title,
        "job_type": job_type,
        "variables": dict(variables),
        "configuration": configuration,
        "disabled": disabled,
    }
    if job_type == EMPTY_JOB_TYPE:
        return Node(kind=NodeKind.EMPTY, **common)
    if job_type == SUBFLOW_JOB_TYPE:
        flow_id = content.get("embeddedFlowId")
        return Node(kind=NodeKind.SUBFLOW, embedded_flow_id=_opt_str(flow_id), **common)
    engine, run_type = _split_job_type(key, job_type)
    own = _mapping(params.get("configuration"))
    common["configured"] = tuple(part for part in ("startup", "runtime", "special") if part in own)
    if engine == "appconn":
        return Node(kind=NodeKind.LINKIS, engine=engine, run_type=run_type, code=appconn_code(raw), **common)
    # BML first (DSS reads only there); a local copy (inline code, a file registered with the
    # flow) is the fallback when BML has no such resource.
    bml = bml_script(raw)
    code, script, error = node_code(key, raw.get("jobContent"), scripts)
    if bml is not None:
        script, error = bml.file_name, None
    return Node(
        kind=NodeKind.LINKIS, engine=engine, run_type=run_type, code=code, script=script, bml=bml,
        script_error=error, **common,
    )  # fmt: skip


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _split_job_type(key: str, job_type: str) -> tuple[str, str]:
    """``linkis.<engine>.<runType…>`` for any engine (Linkis engines are plugins: no closed list)."""
    parts = job_type.split(".")
    if len(parts) < 3 or parts[0] != "linkis" or not all(parts[1:]):
        raise InvalidFlow(
            f"node {key!r} has unknown jobType {job_type!r}: This is not Linkis job type "
            "(expected linkis.<engine>.<runType>, linkis.control.empty or workflow.subflow)"
        )
    run_type = ".".join(parts[2:])
    return ENGINE_ALIASES.get(parts[1], parts[1]), RUN_TYPE_ALIASES.get(run_type, run_type)


def _configuration(raw: Any) -> dict[str, dict[str, Any]]:
    raw = raw if isinstance(raw, Mapping) else {}
    out = {}
    for part in ("startup", "runtime", "special"):
        value = raw.get(part)
        out[part] = dict(value) if isinstance(value, Mapping) else {}
    return out


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _parse_edges(raw: Any, by_key: Mapping[str, Node]) -> dict[str, list[str]]:
    if not isinstance(raw, list):
        raise InvalidFlow("'edges' must be a list")
    parents: dict[str, list[str]] = {key: [] for key in by_key}
    for i, edge in enumerate(raw):
        if not isinstance(edge, Mapping):
            raise InvalidFlow(f"edge #{i} must be an object with 'source' and 'target'")
        source, target = edge.get("source"), edge.get("target")
        for end, value in (("source", source), ("target", target)):
            if not isinstance(value, str) or value not in by_key:
                raise InvalidFlow(f"edge #{i} {end} {value!r} names no node")
        assert isinstance(source, str) and isinstance(target, str)
        if source == target:
            raise InvalidFlow(f"cycle: {source} -> {source}")
        if source not in parents[target]:
            parents[target].append(source)
    return parents


def _parse_props(raw: Any) -> dict[str, str]:
    items: Iterable[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        items = raw.items()
    elif isinstance(raw, list):
        items = [kv for one in raw if isinstance(one, Mapping) for kv in one.items()]
    else:
        raise InvalidFlow("'props' must be a list of one-key objects")
    return {str(k): "" if v is None else str(v) for k, v in items}


def topological_order(keys: list[str], parents: Mapping[str, list[str]]) -> list[str]:
    """Kahn's order, stable in input order; a cycle is an ``InvalidFlow`` naming its path."""
    indegree = {key: len(parents[key]) for key in keys}
    children: dict[str, list[str]] = {key: [] for key in keys}
    for key in keys:
        for parent in parents[key]:
            children[parent].append(key)
    # A heap of input positions keeps the order stable: among ready nodes, earliest first.
    position = {key: i for i, key in enumerate(keys)}
    ready = [position[key] for key in keys if indegree[key] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        key = keys[heapq.heappop(ready)]
        order.append(key)
        for child in children[key]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, position[child])
    if len(order) != len(keys):
        remaining = [k for k in keys if indegree[k] > 0]
        raise InvalidFlow("cycle: " + " -> ".join(find_cycle(remaining, parents)))
    return order


def find_cycle(keys: list[str], parents: Mapping[str, list[str]]) -> list[str]:
    """Return one cycle's path (first node repeated at the end) among ``keys``."""
    inside = set(keys)
    # Walk parent links from any node left over by Kahn: every such node has a parent
    # left over too, so the walk must revisit a node, and the loop is the cycle.
    seen: dict[str, int] = {}
    path: list[str] = []
    node = keys[0]
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(p for p in parents[node] if p in inside)
    loop = path[seen[node] :] + [node]
    return list(reversed(loop))


def descendants(flow: Flow, key: str) -> frozenset[str]:
    """Return every node reachable from ``key`` (not including it)."""
    return _reach(key, flow.children)


def ancestors(flow: Flow, key: str) -> frozenset[str]:
    """Return every node ``key`` is reachable from (not including it)."""
    return _reach(key, flow.parents)


def _reach(start: str, links: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    seen: set[str] = set()
    stack = list(links[start])
    while stack:
        key = stack.pop()
        if key not in seen:
            seen.add(key)
            stack.extend(links[key])
    return frozenset(seen)
