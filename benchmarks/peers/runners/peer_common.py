"""What every peer runner shares: the workload file, the graph's order, the timing, the result file.

Standard library only: this module runs inside each peer's own virtualenv.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

Workload = dict[str, Any]


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="run the peer comparison's workloads")
    parser.add_argument("spec", help="the workload file (JSON) the harness wrote")
    parser.add_argument("--out", required=True, help="where to write the seconds each workload took")
    parser.add_argument(
        "--startup", action="store_true", help="run the 1-task workload once, no warm-up (start-up figure)"
    )
    return parser.parse_args(argv)


def load(path: str) -> list[Workload]:
    """The workloads, in the order to run them: ``[{"name", "nodes", "edges"}, ...]``."""
    return list(json.loads(Path(path).read_text(encoding="utf-8"))["workloads"])


def parents(workload: Workload) -> dict[str, list[str]]:
    """Each node's parents (every node is a key), in the order the edges list them."""
    out: dict[str, list[str]] = {key: [] for key in workload["nodes"]}
    for source, target in workload["edges"]:
        out[target].append(source)
    return out


def levels(workload: Workload) -> list[list[str]]:
    """Nodes by depth (longest path from a root); every parent is in an earlier level.

    Raises ``ValueError`` on a cycle or an edge naming an unknown node.
    """
    ups = parents(workload)
    depth: dict[str, int] = {}
    pending = {key: len(ps) for key, ps in ups.items()}
    children: dict[str, list[str]] = {key: [] for key in ups}
    for source, target in workload["edges"]:
        children[source].append(target)
    ready = sorted(key for key, n in pending.items() if n == 0)
    for key in ready:
        depth[key] = 0
    while ready:
        key = ready.pop()
        for child in children[key]:
            depth[child] = max(depth.get(child, 0), depth[key] + 1)
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    if len(depth) != len(ups) or any(pending.values()):
        raise ValueError(f"workload {workload['name']} is not a DAG")
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for key in workload["nodes"]:
        out[depth[key]].append(key)
    return out


def topological(workload: Workload) -> list[str]:
    """Every node after its parents."""
    return [key for level in levels(workload) for key in level]


def versions(*packages: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in packages:
        out[name] = metadata.version(name)
    return out


def timed(run: Callable[[Workload], float | None], workload: Workload) -> float:
    """The workload's seconds: as the runner timed them, if it did (Prefect's, inside its flow),
    else from the call to its return."""
    start = time.perf_counter()
    inside = run(workload)
    return time.perf_counter() - start if inside is None else inside


def main(
    run: Callable[[Workload], float | None], packages: Sequence[str], argv: Sequence[str] | None = None
) -> int:
    """Run the workloads (after one unmeasured 1-task warm-up), write ``{"versions", "seconds"}``.

    The warm-up keeps one-off costs (a peer's first connection, its temporary server) out of
    the 1-task run that is subtracted from each workload; ``--startup`` is the opposite: one
    1-task run in a fresh process, timed by the harness from the outside.
    """
    args = parse(argv)
    workloads = load(args.spec)
    one = next(w for w in workloads if len(w["nodes"]) == 1)
    seconds: dict[str, float] = {}
    if args.startup:
        run(one)
    else:
        run(one)
        for workload in workloads:
            seconds[workload["name"]] = timed(run, workload)
    result = {"versions": versions(*packages), "seconds": seconds}
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")
    return 0
