"""The workloads every system runs: the same graphs, built once from ``benchmarks.workloads``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.workloads import chain_doc
from benchmarks.workloads import control_node
from benchmarks.workloads import doc
from benchmarks.workloads import random_dag
from benchmarks.workloads import wide_doc

#: The random DAG's seed: every system runs this very graph.
SEED = 8
ONE = "one"


@dataclass(frozen=True)
class Sizes:
    chain: int = 100
    fanout: int = 500
    dag: int = 200


FULL = Sizes()
QUICK = Sizes(chain=20, fanout=50, dag=40)


@dataclass(frozen=True)
class Workload:
    """A named graph of no-op tasks: node keys and (parent, child) edges."""

    name: str
    label: str
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]

    @property
    def tasks(self) -> int:
        return len(self.nodes)

    def flow_doc(self) -> dict[str, Any]:
        """The DSS flow document of this graph, every node a control node (flowexec's no-op)."""
        return doc([control_node(k) for k in self.nodes], list(self.edges))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "nodes": list(self.nodes), "edges": [list(e) for e in self.edges]}


def from_doc(name: str, label: str, flow: dict[str, Any]) -> Workload:
    return Workload(
        name=name,
        label=label,
        nodes=tuple(node["id"] for node in flow["nodes"]),
        edges=tuple((e["source"], e["target"]) for e in flow["edges"]),
    )


def fanout_doc(n: int) -> dict[str, Any]:
    """``n`` independent nodes and one join after all of them."""
    wide = wide_doc(n, control_node)
    join = control_node("join")
    edges = [(node["id"], "join") for node in wide["nodes"]]
    return doc([*wide["nodes"], join], edges)


def workloads(sizes: Sizes) -> list[Workload]:
    """The 1-task run (subtracted from each) first, then chain, fan-out + join and random DAG."""
    return [
        from_doc(ONE, "1-task run", chain_doc(1, control_node)),
        from_doc("chain", f"chain of {sizes.chain}", chain_doc(sizes.chain, control_node)),
        from_doc("fanout", f"fan-out of {sizes.fanout} + join", fanout_doc(sizes.fanout)),
        from_doc("dag", f"random DAG of {sizes.dag} (seed {SEED})", random_dag(sizes.dag, seed=SEED)),
    ]


def write_spec(path: Path, chosen: list[Workload]) -> Path:
    """The workload file every peer runner reads (``runners/peer_common.load``)."""
    path.write_text(json.dumps({"workloads": [w.as_json() for w in chosen]}), encoding="utf-8")
    return path
