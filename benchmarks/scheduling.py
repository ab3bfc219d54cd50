"""flowexec's own figures: chains, fan-out, planning random DAGs, dispatch under polling load."""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from typing import Any

from benchmarks.cluster import wait
from benchmarks.config import USER
from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.workloads import Runner
from benchmarks.workloads import chain_doc
from benchmarks.workloads import control_node
from benchmarks.workloads import doc
from benchmarks.workloads import random_dag
from benchmarks.workloads import shell_node
from benchmarks.workloads import wide_doc


def measure_chains(runner: Runner, options: Options, limits: dict[str, Any]) -> dict[str, Any]:
    sizes = options.sizes
    serial = limits["serial_node"]["value"]
    wall, _ = runner.run(chain_doc(sizes.chain, control_node), 60 + sizes.chain * 0.2)
    per_node = wall * 1000 / sizes.chain
    out = {
        "control": figure(
            per_node,
            "ms/node",
            ref=serial,
            ref_name="limit.serial_node",
            target="<= 3x limit.serial_node",
            met=per_node <= 3 * serial,
            nodes=sizes.chain,
            wall_s=round(wall, 3),
        )
    }
    if sizes.shell_chain and "shell" not in options.skip:
        wall, _ = runner.run(
            chain_doc(sizes.shell_chain, lambda k: shell_node(k, "true")), 60 + sizes.shell_chain * 10
        )
        per_node = wall * 1000 / sizes.shell_chain
        out["shell"] = figure(
            per_node,
            "ms/node",
            ref=serial,
            ref_name="limit.serial_node",
            nodes=sizes.shell_chain,
            wall_s=round(wall, 3),
            note="instant shell jobs on the gateway; includes the first poll delay (poll_first)",
        )
    return out


def measure_fanout(runner: Runner, options: Options, limits: dict[str, Any]) -> dict[str, Any]:
    sizes = options.sizes
    limit = limits["fanout"]["value"]
    wall, task_id = runner.run(wide_doc(sizes.fanout, control_node), 60 + sizes.fanout * 0.1)
    rate = sizes.fanout / wall
    return {
        "control": figure(
            rate,
            "nodes/s",
            ref=limit,
            ref_name="limit.fanout",
            higher_is_better=True,
            target=">= 0.5x limit.fanout",
            met=rate >= 0.5 * limit,
            nodes=sizes.fanout,
            wall_s=round(wall, 3),
        )
    }


def measure_planning(runner: Runner, options: Options) -> dict[str, Any]:
    """Validate, plan and persist random DAGs of growing size; the per-node cost must stay flat."""
    from flowexec import planner
    from flowexec import service
    from flowexec.graph import parse_flow

    rows: dict[str, Any] = {}
    for n in options.sizes.dag:
        definition = random_dag(n)
        t0 = time.perf_counter()
        flow = parse_flow(definition, {})
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
                ref = service.register_flow(definition, {}, flow_id=flow_id)
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


def measure_polling(runner: Runner, options: Options) -> dict[str, Any]:
    """Many nodes running at once on the gateway; meanwhile, how late does another flow's node start?"""
    sizes = options.sizes
    n = sizes.polling
    flow_id, version = runner.register(wide_doc(n, lambda k: shell_node(k, "sleep 600")))
    probe_flow, probe_version = runner.register(doc([control_node("probe")], []))
    task_id = runner.submit(flow_id, version)
    t0 = time.monotonic()
    count = "SELECT COUNT(*) FROM flowexec_node_run WHERE task_id = :t AND state = 'Running'"
    try:
        wait(lambda: runner.scalar(count, t=task_id) >= n, 120 + n * 0.2, f"{n} running nodes", interval=0.2)
        ramp = time.monotonic() - t0
        polls = "SELECT COALESCE(SUM(polls), 0) FROM flowexec_node_run WHERE task_id = :t"
        polls_before, w0 = int(runner.scalar(polls, t=task_id)), time.monotonic()
        dispatch_ms: list[float] = []
        done_ms: list[float] = []
        while time.monotonic() - w0 < sizes.polling_window:
            at = datetime.now()
            probe = runner.submit(probe_flow, probe_version)
            start = time.monotonic()
            _status, end = runner.wait_terminal(probe, 60)
            done_ms.append((end - start) * 1000)
            started = runner.scalar("SELECT started_at FROM flowexec_node_run WHERE task_id = :t", t=probe)
            dispatch_ms.append(max(0.0, (started - at).total_seconds() * 1000))
            time.sleep(0.25)
        window = time.monotonic() - w0
        polls_rate = (int(runner.scalar(polls, t=task_id)) - polls_before) / window
        still = runner.scalar(count, t=task_id)
    finally:
        runner.cancel(task_id)
    worst = max(dispatch_ms)
    return {
        "running_nodes": figure(float(still), "nodes", nodes=n, ramp_s=round(ramp, 3)),
        "polls": figure(polls_rate, "polls/s"),
        "probe_dispatch_max": figure(
            worst,
            "ms",
            ref=1000.0,
            ref_name="target 1000 ms",
            target="< 1000 ms while the nodes are polled",
            met=worst < 1000,
            probes=len(dispatch_ms),
            p50_ms=round(statistics.median(dispatch_ms), 3),
        ),
        "probe_end_to_end_max": figure(max(done_ms), "ms", p50_ms=round(statistics.median(done_ms), 3)),
    }
