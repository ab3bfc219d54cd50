"""The result object's machine and targets, and the table printed at the end."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from benchmarks.config import figure


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    db_version = None
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_before": [round(x, 2) for x in load],
        "database": db_version,
    }


def targets(result: dict[str, Any]) -> dict[str, bool | None]:
    def met(*path: str) -> bool | None:
        node: Any = result
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node.get("met") if isinstance(node, dict) else None

    return {
        "chain_overhead_le_2x_limit": met("chain", "control"),
        "shell_chain_le_60ms_per_node": met("chain", "shell"),
        "fanout_ge_0_8x_limit": met("fanout", "control"),
        "shell_fanout_500_le_5s": met("fanout", "shell"),
        "largest_dag_planned_and_persisted": met("plan", "largest"),
        "plan_cost_flat_within_2x": met("plan", "flatness"),
        "polls_per_node_10s_job_le_12": met("long_jobs", "polls_per_node"),
        "polling_never_delays_dispatch_1s": met("polling", "probe_dispatch_max"),
        "polling_seen_done_within_2x_poll_max": met("polling", "seen_done_late_max"),
        "api_status_ge_half_bare": met("api", "status"),
        "api_execute_ge_0_15x_bare": met("api", "execute"),
        "embedded_one_node_run_le_1s": met("embedded", "one_node_run"),
        "embedded_shell_chain_le_60ms_per_node": met("embedded", "shell_chain"),
    }


def rows(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, figure) pairs in reading order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, fig in result.get("limit", {}).items():
        out.append((f"limit: {name}", fig))
    for name, fig in result.get("chain", {}).items():
        out.append((f"chain {fig.get('nodes')} {name} nodes: per node", fig))
    for name, fig in result.get("fanout", {}).items():
        out.append((f"fan-out {fig.get('nodes')} {name} nodes", fig))
    plan = result.get("plan", {})
    for size, row in plan.get("sizes", {}).items():
        out.append(
            (
                f"DAG {size} nodes: validate + plan (in memory)",
                figure(row["validate"]["value"] + row["plan"]["value"], "ms"),
            )
        )
        if "total" in row:
            out.append((f"DAG {size} nodes: register + submit", row["total"]))
            out.append((f"DAG {size} nodes: per node", row["per_node"]))
    if plan:
        out.append(("DAG largest: planned and persisted", plan["largest"]))
    if "flatness" in plan:
        out.append(("DAG per-node growth, smallest to largest", plan["flatness"]))
    for name, fig in result.get("long_jobs", {}).items():
        out.append((f"{fig.get('job_s')} s jobs: {name}", fig))
    for name, fig in result.get("polling", {}).items():
        out.append((f"polling: {name}", fig))
    for name, fig in result.get("api", {}).items():
        out.append((f"API {name}", fig))
    for name, fig in result.get("embedded", {}).items():
        out.append((f"embedded: {name}", fig))
    return out


def print_table(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    m = result["machine"]
    table = Table(title=f"flowexec bench — {m['nproc']} × {m['cpu']}, {m.get('database')}")
    for column in ("figure", "value", "unit", "ratio", "to", "target", "met"):
        table.add_column(column, justify="right" if column in ("value", "ratio") else "left")
    for label, fig in rows(result):
        ratio = "" if fig.get("ratio") is None else f"{fig['ratio']:.2f}"
        met = {True: "yes", False: "NO", None: ""}[fig.get("met")]
        table.add_row(
            label,
            f"{fig['value']:,.3f}",
            fig["unit"],
            ratio,
            fig.get("ratio_to") or "",
            fig.get("target") or "",
            met,
        )
    console.print(table)
    for size, row in result.get("plan", {}).get("sizes", {}).items():
        if "error" in row:
            console.print(f"DAG {size} nodes could not be persisted: {row['error']}")
    console.print(
        f"load average before {m['load_before']}, after {m.get('load_after')}; took {result['duration_s']} s"
    )
