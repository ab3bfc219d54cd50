"""Linkis jobs that run for a while: polls per node, how late a finished job is seen, and how
long another flow's ready node waits while 1,000 jobs are polled."""

from __future__ import annotations

import sqlite3
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.cluster import wait
from benchmarks.config import Options
from benchmarks.config import figure
from benchmarks.limits import load_average
from benchmarks.workloads import Runner
from benchmarks.workloads import control_node
from benchmarks.workloads import doc
from benchmarks.workloads import shell_node
from benchmarks.workloads import wide_doc

TERMINAL_NODES = "('Succeed', 'Failed', 'Cancelled', 'Timeout', 'Skipped')"
RUNNING_OR_ENDED = "('Running', 'Succeed', 'Failed', 'Cancelled', 'Timeout', 'Skipped')"


def _nodes(runner: Runner, task_id: int) -> list[Any]:
    import sqlalchemy as sa

    with runner.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT linkis_task_id, polls, finished_at FROM flowexec_node_run WHERE task_id = :t"
                ),
                {"t": task_id},
            )
        )


def _lateness_s(runner: Runner, task_id: int, home: Path) -> list[float]:
    """Per node: when flowexec recorded the end, minus when the gateway's job ended (its history)."""
    rows = _nodes(runner, task_id)
    history = sqlite3.connect(f"file:{home / 'gateway' / 'history.db'}?mode=ro", uri=True)
    try:
        ends = dict(history.execute("SELECT task_id, updated FROM task WHERE status = 'Succeed'").fetchall())
    finally:
        history.close()
    late = []
    for linkis_task_id, _polls, finished_at in rows:
        if linkis_task_id in ends and finished_at is not None:
            late.append(max(0.0, finished_at.timestamp() - ends[linkis_task_id] / 1000))
    return late


def measure_long_jobs(runner: Runner, options: Options, poll_max: float) -> dict[str, Any]:
    """A few jobs of ``long_job`` seconds side by side: polls per node, and how late each is seen."""
    sizes = options.sizes
    n, seconds = sizes.long_jobs, sizes.long_job
    code = f"sleep {seconds:g}"
    _wall, task_id = runner.run(wide_doc(n, lambda k: shell_node(k, code)), 60 + seconds * 3)
    # ``polls`` counts the polls that found the job running; one more found it done
    polls = [row.polls + 1 for row in _nodes(runner, task_id)]
    per_node = statistics.mean(polls)
    late = _lateness_s(runner, task_id, Path(runner.app.extensions["flowexec"].settings.home))
    return {
        "polls_per_node": figure(
            per_node,
            "polls",
            target=f"<= 12 for a {seconds:g} s job" if seconds >= 10 else None,
            met=per_node <= 12 if seconds >= 10 else None,
            nodes=n,
            job_s=seconds,
            polls=polls,
        ),
        "seen_late_max": figure(
            max(late) if late else 0.0,
            "s",
            ref=poll_max,
            ref_name="FLOWEXEC_POLL_MAX",
            job_s=seconds,
            p50_s=round(statistics.median(late), 3) if late else None,
            note="flowexec's end of the node minus the job's end in the gateway's history",
        ),
    }


def measure_polling(runner: Runner, options: Options, poll_max: float) -> dict[str, Any]:
    """Many jobs running at once on the gateway; meanwhile, how late does another flow's node
    start? Then every job ends: how late is each seen done?"""
    sizes = options.sizes
    n = sizes.polling
    job = f"sleep {sizes.polling_job:g}"
    flow_id, version = runner.register(wide_doc(n, lambda k: shell_node(k, job)))
    probe_flow, probe_version = runner.register(doc([control_node("probe")], []))
    task_id = runner.submit(flow_id, version)
    all_ended = False
    t0 = time.monotonic()
    count = "SELECT COUNT(*) FROM flowexec_node_run WHERE task_id = :t AND state = 'Running'"
    ended = f"SELECT COUNT(*) FROM flowexec_node_run WHERE task_id = :t AND state IN {TERMINAL_NODES}"
    submitted = f"SELECT COUNT(*) FROM flowexec_node_run WHERE task_id = :t AND state IN {RUNNING_OR_ENDED}"
    try:
        # every job submitted (a slow ramp may see the first ones end: they are counted as well)
        wait(
            lambda: runner.scalar(submitted, t=task_id) >= n,
            120 + n * 0.2,
            f"{n} submitted nodes",
            interval=0.2,
        )
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
        load = load_average()
        wait(
            lambda: runner.scalar(ended, t=task_id) >= n,
            sizes.polling_job + 4 * poll_max + 60,
            f"{n} jobs to end",
            interval=0.5,
        )
        all_ended = True
    finally:
        if not all_ended:
            runner.cancel(task_id)
    late = _lateness_s(runner, task_id, Path(runner.app.extensions["flowexec"].settings.home))
    worst = max(dispatch_ms)
    seen = max(late) if late else float("inf")
    return {
        "running_nodes": figure(float(still), "nodes", nodes=n, ramp_s=round(ramp, 3), load=load),
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
        "seen_done_late_max": figure(
            seen,
            "s",
            ref=2 * poll_max,
            ref_name="2 x FLOWEXEC_POLL_MAX",
            target="<= 2 x FLOWEXEC_POLL_MAX",
            met=seen <= 2 * poll_max,
            jobs=len(late),
            p50_s=round(statistics.median(late), 3) if late else None,
            note=f"{n} jobs ({job}) ending together; flowexec's end of each node minus its job's end",
        ),
    }
