"""Prefect: each workload as a flow of no-op tasks on Prefect's defaults (thread-pool task runner,
the temporary local server and its SQLite). Run in Prefect's virtualenv by ``python -m benchmarks.peers``.

A chain is the plain sequence of calls a Prefect user writes; other graphs submit every task
with ``wait_for`` its parents' futures.

A workload is timed inside its flow, from the first task called to the last one done: the flow
run's end waits for Prefect's event flush, up to a second whatever ran before it, and that
wait swallows the first second of task work (a chain of 100 no-op tasks took 0.7 s inside a
flow run of 1.18 s, a 1-task flow run 1.14 s), so the run's own end-to-end time would put its
tasks at no cost. The flow run's creation and end are left out (also of the 1-task run that is
subtracted), and so is the recording of its task runs' events that the end waits for (7.6 s
after the last of 1,000 tasks).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import peer_common
from prefect import flow
from prefect import task


@task
def noop() -> None:
    return None


#: The workloads by name: the flow takes only the name as its parameter (Prefect records parameters).
WORKLOADS: dict[str, peer_common.Workload] = {}


#: Each workload's seconds inside its flow: its first task called to its last one done.
SPANS: dict[str, float] = {}


@flow
def workload_flow(name: str) -> None:
    workload = WORKLOADS[name]
    order = peer_common.topological(workload)
    parents = peer_common.parents(workload)
    start = time.perf_counter()
    if all(parents[key] == order[i - 1 : i] for i, key in enumerate(order)):
        for _key in order:  # a chain (or one task): one call after another
            noop()
    else:
        futures: dict[str, Any] = {}
        for key in order:
            futures[key] = noop.submit(wait_for=[futures[p] for p in parents[key]])
        for future in futures.values():
            future.result()
    SPANS[name] = time.perf_counter() - start


def run(workload: peer_common.Workload) -> float:
    WORKLOADS[workload["name"]] = workload
    workload_flow.with_options(name=f"peers_{workload['name']}")(workload["name"])
    return SPANS[workload["name"]]


if __name__ == "__main__":
    sys.exit(peer_common.main(run, ["prefect"]))
