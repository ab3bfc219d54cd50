"""flowexec's own figures: chains, fan-out, planning random DAGs, dispatch under polling load."""

from __future__ import annotations

import statistics
import time
from typing import Any

from benchmarks.config import USER
from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.limits import ROUNDS
from benchmarks.limits import fanout_rate
from benchmarks.limits import hop_ms
from benchmarks.limits import interleaved
from benchmarks.limits import load_average
from benchmarks.limits import transaction_ms
from benchmarks.workloads import Runner
from benchmarks.workloads import chain_doc
from benchmarks.workloads import control_node
from benchmarks.workloads import random_dag
from benchmarks.workloads import shell_node
from benchmarks.workloads import wide_doc


def measure_chains(
    runner: Runner, options: Options, limits: dict[str, Any], redis_client: Any
) -> dict[str, Any]:
    """The control chain against the serial-node limit measured between its rounds (medians of
    3), and the chain of instant shell jobs, whose floor is the gateway's, not a hop's."""
    sizes = options.sizes
    n = sizes.chain
    tx_rounds: list[float] = []

    def limit() -> float:
        hop = hop_ms(runner, options, redis_client)
        tx_rounds.append(transaction_ms(runner, options)[0])
        return hop

    def chain() -> float:
        wall, _ = runner.run(chain_doc(n, control_node), 60 + n * 0.2)
        return wall * 1000 / n

    hops, per_node, loads = interleaved(limit, chain)
    serial = statistics.median(hops) + statistics.median(tx_rounds)
    limits["celery_hop"] = figure(
        statistics.median(hops), "ms", hops=sizes.hops, rounds_ms=[round(h, 3) for h in hops]
    )
    limits["serial_node"] = figure(
        serial, "ms", note="celery_hop + db_transaction, interleaved with the chain"
    )
    value = statistics.median(per_node)
    out = {
        "control": figure(
            value,
            "ms/node",
            ref=serial,
            ref_name="limit.serial_node",
            target="<= 2x limit.serial_node",
            met=value <= 2 * serial,
            nodes=n,
            rounds_ms=[round(v, 3) for v in per_node],
            load=loads,
        )
    }
    if sizes.shell_chain and "shell" not in options.skip:
        m = sizes.shell_chain
        walls = [
            runner.run(chain_doc(m, lambda k: shell_node(k, "true")), 60 + m * 10)[0] for _ in range(ROUNDS)
        ]
        value = statistics.median(walls) * 1000 / m
        out["shell"] = figure(
            value,
            "ms/node",
            target="<= 60 ms/node",
            met=value <= 60,
            nodes=m,
            rounds_ms=[round(w * 1000 / m, 3) for w in walls],
            load=load_average(),
            note="instant shell jobs (true) on the gateway: submit, first poll, history, next node",
        )
    return out


def measure_fanout(
    runner: Runner, options: Options, limits: dict[str, Any], redis_client: Any
) -> dict[str, Any]:
    """Control fan-out against the raw fan-out measured between its rounds; a fan-out of shell jobs."""
    sizes = options.sizes
    n = sizes.fanout

    def fan() -> float:
        wall, _ = runner.run(wide_doc(n, control_node), 60 + n * 0.1)
        return n / wall

    fans, rates, loads = interleaved(lambda: fanout_rate(runner, options, redis_client), fan)
    limit = statistics.median(fans)
    limits["fanout"] = figure(
        limit,
        "nodes/s",
        higher_is_better=True,
        tasks=sizes.touches,
        rounds=[round(f, 1) for f in fans],
        note="independent tasks of one transaction each, same workers, interleaved with the fan-out",
    )
    rate = statistics.median(rates)
    out = {
        "control": figure(
            rate,
            "nodes/s",
            ref=limit,
            ref_name="limit.fanout",
            higher_is_better=True,
            target=">= 0.8x limit.fanout",
            met=rate >= 0.8 * limit,
            nodes=n,
            rounds=[round(r, 1) for r in rates],
            load=loads,
        )
    }
    if sizes.shell_fanout and "shell" not in options.skip:
        m = sizes.shell_fanout
        walls = [runner.run(wide_doc(m, lambda k: shell_node(k, "true")), 120 + m)[0] for _ in range(ROUNDS)]
        wall = statistics.median(walls)
        target = 5.0 * m / 500
        out["shell"] = figure(
            wall,
            "s",
            target=f"<= {target:g} s for {m} nodes",
            met=wall <= target,
            nodes=m,
            rounds_s=[round(w, 3) for w in walls],
            load=load_average(),
            note="instant shell jobs on the gateway, dispatch to the execution's end",
        )
    return out


def measure_planning(runner: Runner, options: Options) -> dict[str, Any]:
    """Validate, plan and persist random DAGs of growing size; the per-node cost must stay flat."""
    from flowexec import planner
    from flowexec import service
    from flowexec.graph import parse_flow

    rows: dict[str, Any] = {}
    for n in options.sizes.dag:
        definition = random_dag(n)
        t0 = time.perf_counter()
        flow = parse_flow(definition, {}, limits=runner.app.extensions["flowexec"].settings.flow_limits)
        t1 = time.perf_counter()
        planner.plan_nodes(flow, frozenset())
        t2 = time.perf_counter()
        row: dict[str, Any] = {
            "nodes": n,
            "edges": len(definition["edges"]),
            "validate": figure((t1 - t0) * 1000, "ms"),
            "plan": figure((t2 - t1) * 1000, "ms"),
        }
        rows[str(n)] = row
        flow_id = runner.next_flow_id
        runner.next_flow_id += 1
        try:
            with runner.app.app_context():
                settings = runner.app.extensions["flowexec"].settings
                ref = service.register_flow(definition, {}, flow_id=flow_id, limits=settings.flow_limits)
                t3 = time.perf_counter()
                submitted, _actions = service.submit_execution(
                    service.ExecutionRequest(flow_id=flow_id, version=ref.version, user=USER),
                    runner.app.extensions["flowexec"].settings,
                )
                t4 = time.perf_counter()
        except Exception as exc:  # a flow too big to persist is a finding, not the end of the run
            row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
            continue
        runner.cancel(submitted.task_id)  # nothing of it was dispatched; settle it
        t5 = time.perf_counter()
        total = (t4 - t2) * 1000
        row.update(
            {
                "register": figure((t3 - t2) * 1000, "ms", note="validate + hash + insert the version"),
                "submit": figure(
                    (t4 - t3) * 1000, "ms", note="load + validate + plan + insert task and node rows"
                ),
                "total": figure(total, "ms", note="register + submit"),
                "per_node": figure(total * 1000 / n, "us/node"),
                "cancel": figure((t5 - t4) * 1000, "ms"),
            }
        )
    done = sorted(n for n in options.sizes.dag if "total" in rows[str(n)])
    largest_n = max(options.sizes.dag)
    target_s = 5.0 * largest_n / 10000
    out: dict[str, Any] = {"sizes": rows}
    largest = rows[str(largest_n)]
    if "total" in largest:
        largest_s = largest["total"]["value"] / 1000
        out["largest"] = figure(
            largest_s,
            "s",
            ref=target_s,
            ref_name=f"target {target_s:g} s",
            target=f"< {target_s:g} s for {largest_n} nodes",
            met=largest_s < target_s,
            nodes=largest_n,
        )
    else:
        out["largest"] = figure(
            0.0,
            "s",
            target=f"< {target_s:g} s for {largest_n} nodes",
            met=False,
            nodes=largest_n,
            error=largest["error"],
        )
    if len(done) >= 2:
        small, big = rows[str(done[0])], rows[str(done[-1])]
        growth = big["per_node"]["value"] / small["per_node"]["value"]
        out["flatness"] = figure(
            growth,
            "x",
            ref=1.0,
            ref_name=f"per-node cost at {done[0]} nodes",
            target=f"per-node cost at {done[-1]} <= 2x at {done[0]}",
            met=growth <= 2.0,
            sizes=done,
        )
    return out
