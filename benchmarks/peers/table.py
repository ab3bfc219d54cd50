"""Medians over the rounds, per-task overhead, the verdict and the table (rich, or RST)."""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.peers.specs import ONE
from benchmarks.peers.specs import Workload

#: The table's columns, in order, and their headings.
COLUMNS = {
    "embedded": "flowexec embedded",
    "production": "flowexec production",
    "celery": "Celery canvas (no durability)",
    "dagster": "Dagster in-process",
    "prefect": "Prefect",
    "airflow": "Airflow dags test",
}
FLOWEXEC = ("embedded", "production")
DURABLE_PEERS = ("dagster", "prefect", "airflow")
#: flowexec's per-task overhead may be this many times plain canvas's.
CANVAS_FACTOR = 1.5


def per_task_ms(seconds: dict[str, float], workloads: list[Workload]) -> dict[str, float]:
    """(T_workload − T_1task) / tasks, in ms, for every workload but the 1-task run."""
    one = seconds[ONE]
    return {w.name: (seconds[w.name] - one) * 1000 / w.tasks for w in workloads if w.name != ONE}


def summarize(rounds: list[dict[str, Any]], workloads: list[Workload]) -> dict[str, dict[str, Any]]:
    """Per system: the medians over its rounds of each per-task figure, total and start-up."""
    out: dict[str, dict[str, Any]] = {}
    for key in COLUMNS:
        done = [r[key] for r in rounds if key in r and "seconds" in r[key]]
        if not done:
            continue
        per_round = [per_task_ms(r["seconds"], workloads) for r in done]
        out[key] = {
            "rounds": len(done),
            "per_task_ms": {
                w.name: round(statistics.median(p[w.name] for p in per_round), 3)
                for w in workloads
                if w.name != ONE
            },
            "total_s": {
                w.name: round(statistics.median(r["seconds"][w.name] for r in done), 4) for w in workloads
            },
            "startup_s": round(statistics.median(r["startup_s"] for r in done), 3),
        }
    return out


def verdict(summary: dict[str, dict[str, Any]], workloads: list[Workload]) -> dict[str, Any]:
    """For each flowexec column and workload: below every durable peer? within 1.5× of canvas?"""
    out: dict[str, Any] = {}
    for key in FLOWEXEC:
        if key not in summary:
            continue
        mine = summary[key]["per_task_ms"]
        checks: dict[str, Any] = {}
        for w in workloads:
            if w.name == ONE:
                continue
            row: dict[str, Any] = {}
            for peer in DURABLE_PEERS:
                if peer in summary:
                    row[f"below_{peer}"] = mine[w.name] < summary[peer]["per_task_ms"][w.name]
            if "celery" in summary:
                canvas = summary["celery"]["per_task_ms"][w.name]
                row["canvas_ratio"] = round(mine[w.name] / canvas, 2) if canvas > 0 else None
                row["within_1_5x_canvas"] = mine[w.name] <= CANVAS_FACTOR * canvas
            checks[w.name] = row
        out[key] = checks
    return out


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if abs(value) < 100 else f"{value:,.0f} ms"


def rows(summary: dict[str, dict[str, Any]], workloads: list[Workload]) -> tuple[list[str], list[list[str]]]:
    """The heading and the rows: per task (and the workload's median total), the 1-task run, start-up."""
    keys = [k for k in COLUMNS if k in summary]
    heading = ["per task (median)", *(COLUMNS[k] for k in keys)]
    body: list[list[str]] = []
    for w in workloads:
        if w.name == ONE:
            continue
        cells = [
            f"{_ms(summary[k]['per_task_ms'][w.name])} ({summary[k]['total_s'][w.name]:.2f} s)" for k in keys
        ]
        body.append([f"{w.label}, no-op", *cells])
    body.append(["1-task run (subtracted)", *(f"{summary[k]['total_s'][ONE]:.2f} s" for k in keys)])
    body.append(
        ["start-up (1-node flow, whole process)", *(f"{summary[k]['startup_s']:.2f} s" for k in keys)]
    )
    return heading, body


def rst(heading: list[str], body: list[list[str]]) -> str:
    """An RST simple table of the rows."""
    table = [heading, *body]
    widths = [max(len(row[i]) for row in table) for i in range(len(heading))]
    rule = "  ".join("=" * w for w in widths)
    line = lambda row: "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([rule, line(heading), rule, *(line(r) for r in body), rule])


def print_table(result: dict[str, Any], workloads: list[Workload], console: Any) -> None:
    from rich.table import Table

    heading, body = rows(result["summary"], workloads)
    table = Table(title=f"flowexec and its peers: medians of {result['rounds_asked']} interleaved rounds")
    for i, name in enumerate(heading):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in body:
        table.add_row(*row)
    console.print(table)
    for key, system in result["systems"].items():
        versions = ", ".join(f"{k} {v}" for k, v in system.get("versions", {}).items())
        console.print(
            f"{COLUMNS[key]}: {versions}" + (f"; ERROR {system['error']}" if "error" in system else "")
        )
    load = result["load"]
    during = load["during"]
    span = f"{min(during):.2f}–{max(during):.2f}" if during else "n/a"
    console.print(f"load average before {load['before']}, during {span} (1 min), after {load['after']}")
    for key, checks in result["verdict"].items():
        for name, row in checks.items():
            console.print(f"{COLUMNS[key]}, {name}: {row}")
