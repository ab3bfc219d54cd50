"""The embedded default as a user meets it: ``flowexec run`` of a flow file, a whole process each."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.limits import load_average
from benchmarks.workloads import chain_doc
from benchmarks.workloads import shell_node

PRODUCTION_VARIABLES = ("FLOWEXEC_DATABASE_URL", "FLOWEXEC_BROKER_URL", "FLOWEXEC_LINKIS_URL")


def _flow_file(folder: Path, name: str, nodes: int) -> Path:
    """A DSS flow file of a chain of ``true`` shell nodes."""
    definition = chain_doc(nodes, lambda k: shell_node(k, "true"))
    path = folder / f"{name}.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    return path


def run_flow_file(flow: Path, home: Path) -> tuple[float, dict[str, Any]]:
    """``flowexec run --json FLOW`` on the embedded default, a process of its own: wall time, result."""
    # Python caches compiled modules as it does for a user (the first run writes them; under
    # home, not the source tree), even where PYTHONDONTWRITEBYTECODE is set for this process.
    env = {**os.environ, "FLOWEXEC_HOME": str(home), "PYTHONPYCACHEPREFIX": str(home / "pycache")}
    for name in (*PRODUCTION_VARIABLES, "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "run", "--json", str(flow)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"flowexec run {flow.name} exited {done.returncode}: {done.stderr[-500:]}")
    return wall, json.loads(done.stdout)


def _span_per_node(result: dict[str, Any]) -> float:
    nodes = result["nodes"]
    first = min(datetime.fromisoformat(n["startedAt"]) for n in nodes)
    last = max(datetime.fromisoformat(n["finishedAt"]) for n in nodes)
    return (last - first).total_seconds() * 1000 / len(nodes)


def measure_embedded(options: Options, home: Path) -> dict[str, Any]:
    """A 1-node run from start to exit (after one run that creates the database), and a chain of
    shell nodes inside such a run, per node; medians of ``embedded_runs``."""
    sizes = options.sizes
    folder = home / "embedded"
    folder.mkdir(parents=True, exist_ok=True)
    one = _flow_file(folder, "one", 1)
    chain = _flow_file(folder, "chain", sizes.shell_chain)
    state = folder / "home"
    run_flow_file(one, state)  # creates and migrates the SQLite file, as a user's first run does
    walls, per_node = [], []
    for _ in range(sizes.embedded_runs):
        walls.append(run_flow_file(one, state)[0])
        per_node.append(_span_per_node(run_flow_file(chain, state)[1]))
    wall = statistics.median(walls)
    chain_ms = statistics.median(per_node)
    return {
        "one_node_run": figure(
            wall,
            "s",
            target="<= 1.0 s",
            met=wall <= 1.0,
            rounds_s=[round(w, 3) for w in walls],
            load=load_average(),
            note="flowexec run --json of a 1-node shell flow, process start to exit",
        ),
        "shell_chain": figure(
            chain_ms,
            "ms/node",
            target="<= 60 ms/node",
            met=chain_ms <= 60,
            nodes=sizes.shell_chain,
            rounds_ms=[round(v, 3) for v in per_node],
            note="first node's start to last node's end inside flowexec run, per node",
        ),
    }
