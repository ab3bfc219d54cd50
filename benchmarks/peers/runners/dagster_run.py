"""Dagster: each workload as a job of no-op ops, ``execute_in_process`` (Dagster's defaults:
in-process executor, ephemeral instance). Run in Dagster's virtualenv by ``python -m benchmarks.peers``."""

from __future__ import annotations

import sys

import peer_common
from dagster import DependencyDefinition
from dagster import GraphDefinition
from dagster import In
from dagster import MultiDependencyDefinition
from dagster import NodeInvocation
from dagster import Nothing
from dagster import op


@op(ins={"after": In(Nothing)})
def noop() -> None:
    return None


def build(workload: peer_common.Workload) -> GraphDefinition:
    """One aliased ``noop`` per node; a node waits for all its parents through a Nothing input."""
    deps: dict[NodeInvocation, dict[str, MultiDependencyDefinition]] = {}
    for key, ups in peer_common.parents(workload).items():
        after = {"after": MultiDependencyDefinition([DependencyDefinition(p) for p in ups])} if ups else {}
        deps[NodeInvocation("noop", alias=key)] = after
    return GraphDefinition(name=f"peers_{workload['name']}", node_defs=[noop], dependencies=deps)


def run(workload: peer_common.Workload) -> None:
    result = build(workload).to_job().execute_in_process()
    if not result.success:
        raise RuntimeError(f"dagster job {workload['name']} failed")


if __name__ == "__main__":
    sys.exit(peer_common.main(run, ["dagster"]))
