"""Prefect: each workload as a flow of no-op tasks on Prefect's defaults (thread-pool task runner,
the temporary local server and its SQLite). Run in Prefect's virtualenv by ``python -m benchmarks.peers``.

A chain is the plain sequence of calls a Prefect user writes; other graphs submit every task
with ``wait_for`` its parents' futures.
"""

from __future__ import annotations

import sys
from typing import Any

import peer_common
from prefect import flow
from prefect import task


@task
def noop() -> None:
    return None


#: The workloads by name: the flow takes only the name as its parameter (Prefect records parameters).
WORKLOADS: dict[str, peer_common.Workload] = {}


@flow
def workload_flow(name: str) -> None:
    workload = WORKLOADS[name]
    order = peer_common.topological(workload)
    parents = peer_common.parents(workload)
    if all(parents[key] == order[i - 1 : i] for i, key in enumerate(order)):
        for _key in order:  # a chain (or one task): one call after another
            noop()
        return
    futures: dict[str, Any] = {}
    for key in order:
        futures[key] = noop.submit(wait_for=[futures[p] for p in parents[key]])
    for future in futures.values():
        future.result()


def run(workload: peer_common.Workload) -> None:
    WORKLOADS[workload["name"]] = workload
    workload_flow.with_options(name=f"peers_{workload['name']}")(workload["name"])


if __name__ == "__main__":
    sys.exit(peer_common.main(run, ["prefect"]))
