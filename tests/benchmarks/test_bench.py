"""``flowexec bench`` at tiny sizes: the whole run against MariaDB, Redis, workers and the gateway.

Only the shape of the result is checked, never a timing.
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from api.cli import main
from benchmarks import cli as bench_cli
from benchmarks import config
from benchmarks import workloads
from flowexec.graph import parse_flow


def test_random_dag_is_a_valid_dag_of_the_asked_size() -> None:
    doc = workloads.random_dag(300, seed=3)
    flow = parse_flow(doc, {})
    assert len(flow.nodes) == 300
    assert doc["edges"] and all(a < b for a, b in ((e["source"], e["target"]) for e in doc["edges"]))


def test_figure_carries_unit_ratio_and_target() -> None:
    fig = config.figure(6.0, "ms/node", ref=2.0, ref_name="limit", target="<= 3x", met=True, nodes=5)
    assert fig == {
        "value": 6.0,
        "unit": "ms/node",
        "ratio": 3.0,
        "ratio_to": "limit",
        "higher_is_better": False,
        "target": "<= 3x",
        "met": True,
        "nodes": 5,
    }
    assert config.figure(1.0, "s")["ratio"] is None


def _figures(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict) and "value" in node and "unit" in node:
        return [node]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _figures(value)]
    return []


@pytest.mark.integration
def test_tiny_bench_writes_one_object_of_positive_figures(
    mysql_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run's own database and Redis db, named after this test run's (FLOWEXEC_TEST_*): the bench
    # drops flowexec's tables there and flushes the Redis db, so no other run's may be shared.
    test_url = sa.engine.make_url(mysql_url)
    database = test_url.set(database=f"{test_url.database}_bench")
    broker = redis_url
    out = tmp_path / "bench.json"
    monkeypatch.setattr(bench_cli, "QUICK", config.TINY)  # --quick at the smallest sizes
    code = main(
        [
            "bench",
            "--quick",
            "--json",
            str(out),
            "--home",
            str(tmp_path / "home"),
            "--database-url",
            database.render_as_string(hide_password=False),
            "--broker-url",
            broker,
            "--workers",
            "1",
            "--concurrency",
            "2",
        ]
    )
    assert code in (0, 1)  # 1 only says a target was missed: timings are not asserted here
    result = json.loads(out.read_text())
    assert {
        "machine",
        "limit",
        "chain",
        "fanout",
        "plan",
        "long_jobs",
        "polling",
        "api",
        "embedded",
        "targets",
    } <= set(result)
    assert result["machine"]["nproc"] >= 1 and result["machine"]["cpu"]
    assert set(result["limit"]) == {"celery_hop", "db_transaction", "serial_node", "fanout"}
    assert set(result["plan"]["sizes"]) == {"10", "20"}
    figures = _figures(result)
    assert len(figures) > 20
    for fig in figures:
        assert isinstance(fig["value"], numbers.Real) and fig["value"] >= 0, fig
        assert fig["unit"]
        if fig["ratio"] is not None:
            assert fig["ratio"] > 0 and fig["ratio_to"]
    for name in ("celery_hop", "db_transaction", "serial_node", "fanout"):
        assert result["limit"][name]["value"] > 0
    assert result["chain"]["control"]["value"] > 0 and result["chain"]["control"]["ratio_to"]
    assert result["fanout"]["control"]["value"] > 0
    assert result["api"]["execute"]["value"] > 0 and result["api"]["status"]["value"] > 0
    assert set(result["targets"]) == {
        "chain_overhead_le_2x_limit",
        "shell_chain_le_60ms_per_node",
        "fanout_ge_0_8x_limit",
        "shell_fanout_500_le_5s",
        "largest_dag_planned_and_persisted",
        "plan_cost_flat_within_2x",
        "polls_per_node_10s_job_le_12",
        "polling_never_delays_dispatch_1s",
        "polling_seen_done_within_2x_poll_max",
        "api_status_ge_half_bare",
        "api_execute_ge_0_15x_bare",
        "embedded_one_node_run_le_1s",
        "embedded_shell_chain_le_60ms_per_node",
    }
    # the limits were measured between the workload's rounds: three of each
    assert len(result["limit"]["celery_hop"]["rounds_ms"]) == 3
    assert len(result["chain"]["control"]["rounds_ms"]) == 3
    assert len(result["fanout"]["control"]["rounds"]) == 3
    assert result["api"]["status"]["ratio_to"] == "api.bare" and result["api"]["bare"]["value"] > 0
    assert result["long_jobs"]["polls_per_node"]["value"] >= 1
    assert result["polling"]["seen_done_late_max"]["jobs"] == 3
    assert result["embedded"]["one_node_run"]["value"] > 0
    assert {"load_before", "load_after"} <= set(result["machine"])
