"""Where a node step's time goes: drive ``service.start_node`` in this process, no Celery.

    python benchmarks/profile_steps.py [--nodes 300] [--shape chain|wide] [--profile]

Registers a flow of control nodes on the bench database (its tables are dropped and migrated
again), runs every node step in one thread, and prints the time per node, the statements per node
(count and time of each) and, with ``--profile``, the hottest functions (cProfile). Compare the
per-node time with ``flowexec bench``'s chain figure minus its Celery hop.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import time
from typing import Any

from sqlalchemy import event

from api.app import create_app
from api.extensions import db
from benchmarks import cluster
from benchmarks import config
from benchmarks import workloads
from flowexec import service
from flowexec.actions import RunNodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--shape", choices=["chain", "wide"], default="chain")
    parser.add_argument("--database-url", default=config.DEFAULT_DATABASE_URL)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    cluster.prepare_database(config.Options(database_url=args.database_url))
    app = create_app(
        {"database_url": args.database_url, "broker_url": "memory://", "linkis_url": "http://127.0.0.1:1"}
    )
    runner = workloads.Runner(app, args.database_url)
    make = workloads.chain_doc if args.shape == "chain" else workloads.wide_doc
    flow_id, version = runner.register(make(args.nodes, workloads.control_node))
    settings = app.extensions["flowexec"].settings
    with app.app_context():
        submitted, actions = service.submit_execution(
            service.ExecutionRequest(flow_id=flow_id, version=version, user=config.USER), settings
        )
        engine = db.engine

    count: collections.Counter[str] = collections.Counter()
    spent: collections.Counter[str] = collections.Counter()
    began: dict[int, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        began[id(conn)] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = " ".join(statement.split())[:100]
        count[key] += 1
        spent[key] += time.perf_counter() - began.pop(id(conn), time.perf_counter())

    queue = [node_id for action in actions if isinstance(action, RunNodes) for node_id in action.node_ids]
    profiler = cProfile.Profile() if args.profile else None
    steps = 0
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    while queue:
        with app.app_context():
            _claimed, more = service.start_node(queue.pop(0), settings)
        steps += 1
        queue += [node_id for action in more if isinstance(action, RunNodes) for node_id in action.node_ids]
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - start
    db_time = sum(spent.values())
    print(
        f"{args.shape} of {steps} control nodes: {wall * 1000 / steps:.3f} ms/node, "
        f"{sum(count.values()) / steps:.1f} statements/node, {db_time * 1000 / steps:.3f} ms/node in "
        f"statements (commit and pool pings not counted)"
    )
    for key, n in count.most_common():
        print(f"{n / steps:6.2f} x {spent[key] * 1000 / steps:7.3f} ms  {key}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    runner.close()


if __name__ == "__main__":
    main()
