"""``python -m benchmarks.peers``: the same graphs for every peer, the per-task and median
arithmetic, the table, the venv cache, and one real run of the Celery canvas peer.

No peer virtualenv is made here, and no test asserts a time.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pytest

from benchmarks.peers import cli
from benchmarks.peers import specs
from benchmarks.peers import table
from benchmarks.peers import venvs
from benchmarks.peers.runners import peer_common
from benchmarks.peers.systems import CanvasPeer
from benchmarks.peers.systems import recorded_seconds
from benchmarks.workloads import random_dag
from flowexec.graph import parse_flow

TINY = specs.Sizes(chain=3, fanout=4, dag=8)


def _spec(tmp_path: Path, sizes: specs.Sizes) -> tuple[list[specs.Workload], list[peer_common.Workload]]:
    """The workloads as the harness builds them, and as every peer runner reads them back."""
    workloads = specs.workloads(sizes)
    path = specs.write_spec(tmp_path / "workloads.json", workloads)
    return workloads, peer_common.load(str(path))


def test_every_peer_reads_the_graphs_flowexec_runs(tmp_path: Path) -> None:
    workloads, read = _spec(tmp_path, specs.FULL)
    assert [w["name"] for w in read] == ["one", "chain", "fanout", "dag"]
    shapes = {w["name"]: (len(w["nodes"]), len(w["edges"])) for w in read}
    assert shapes["one"] == (1, 0)
    assert shapes["chain"] == (100, 99)
    assert shapes["fanout"] == (501, 500)
    seeded = random_dag(200, seed=specs.SEED)
    assert shapes["dag"] == (200, len(seeded["edges"]))
    for workload, peer in zip(workloads, read, strict=True):
        flow = parse_flow(workload.flow_doc(), {})  # what flowexec runs
        assert sorted(n.key for n in flow.nodes) == sorted(peer["nodes"])
        flowexec_edges = sorted((p, child) for child, ups in flow.parents.items() for p in ups)
        assert sorted(tuple(e) for e in peer["edges"]) == flowexec_edges
    dag = next(w for w in read if w["name"] == "dag")
    assert sorted(tuple(e) for e in dag["edges"]) == sorted(
        (e["source"], e["target"]) for e in seeded["edges"]
    )


def test_the_random_dag_is_the_seeded_one_every_time() -> None:
    first, again = specs.workloads(specs.FULL)[3], specs.workloads(specs.FULL)[3]
    assert first == again
    other = random_dag(200, seed=specs.SEED + 1)
    assert sorted(first.edges) != sorted((e["source"], e["target"]) for e in other["edges"])


def test_levels_put_every_parent_before_its_children(tmp_path: Path) -> None:
    _, read = _spec(tmp_path, specs.FULL)
    by_name = {w["name"]: w for w in read}
    assert [len(level) for level in peer_common.levels(by_name["fanout"])] == [500, 1]
    assert [len(level) for level in peer_common.levels(by_name["chain"])] == [1] * 100
    for workload in read:
        depth = {k: i for i, level in enumerate(peer_common.levels(workload)) for k in level}
        assert sorted(depth) == sorted(workload["nodes"])
        assert all(depth[a] < depth[b] for a, b in workload["edges"])
        order = peer_common.topological(workload)
        position = {k: i for i, k in enumerate(order)}
        assert all(position[a] < position[b] for a, b in workload["edges"])


def test_a_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="not a DAG"):
        peer_common.levels({"name": "loop", "nodes": ["a", "b"], "edges": [["a", "b"], ["b", "a"]]})


def _round(one: float, chain: float, fanout: float, dag: float, startup: float) -> dict[str, object]:
    return {"seconds": {"one": one, "chain": chain, "fanout": fanout, "dag": dag}, "startup_s": startup}


def test_per_task_subtracts_the_one_task_run_and_takes_medians() -> None:
    workloads = specs.workloads(TINY)  # chain 3, fan-out 4 + join = 5, DAG 8 tasks
    rounds = [
        {"dagster": _round(1.0, 1.3, 2.0, 1.8, 3.0)},
        {"dagster": _round(1.0, 1.6, 1.5, 1.4, 5.0)},
        {"dagster": _round(2.0, 2.9, 3.0, 2.8, 4.0), "celery": _round(0.1, 0.4, 0.6, 0.9, 1.0)},
    ]
    summary = table.summarize(rounds, workloads)
    assert set(summary) == {"dagster", "celery"}  # only the systems that ran
    dagster = summary["dagster"]
    assert dagster["rounds"] == 3
    # chain per round: 0.3/3, 0.6/3, 0.9/3 s -> median 200 ms; fan-out: 1.0/5, 0.5/5, 1.0/5 -> 200 ms
    assert dagster["per_task_ms"] == {"chain": 200.0, "fanout": 200.0, "dag": 100.0}
    assert dagster["total_s"]["chain"] == 1.6
    assert dagster["startup_s"] == 4.0
    assert summary["celery"]["per_task_ms"]["fanout"] == 100.0


def test_verdict_compares_flowexec_with_each_peer() -> None:
    workloads = specs.workloads(TINY)
    summary = {
        "embedded": {"per_task_ms": {"chain": 3.0, "fanout": 3.0, "dag": 9.0}},
        "celery": {"per_task_ms": {"chain": 2.0, "fanout": 1.0, "dag": 6.0}},
        "dagster": {"per_task_ms": {"chain": 10.0, "fanout": 2.0, "dag": 9.5}},
    }
    out = table.verdict(summary, workloads)
    assert set(out) == {"embedded"}
    assert out["embedded"]["chain"] == {
        "below_dagster": True,
        "canvas_ratio": 1.5,
        "within_1_5x_canvas": True,
    }
    assert out["embedded"]["fanout"]["below_dagster"] is False
    assert out["embedded"]["fanout"]["within_1_5x_canvas"] is False


def test_table_rows_and_rst() -> None:
    workloads = specs.workloads(TINY)
    summary = table.summarize([{"embedded": _round(1.0, 1.3, 2.0, 1.8, 3.0)}], workloads)
    heading, body = table.rows(summary, workloads)
    assert heading == ["per task (median)", "flowexec embedded"]
    assert body[0] == ["chain of 3, no-op", "100 ms (1.30 s)"]
    assert body[-1] == ["start-up (1-node flow, whole process)", "3.00 s"]
    text = table.rst(heading, body).splitlines()
    assert text[0] == text[2] == text[-1]
    assert len(text) == len(body) + 4


def test_only_names_columns_and_flowexec_means_both() -> None:
    assert cli.chosen(None) == list(table.COLUMNS)
    assert cli.chosen("airflow,flowexec") == ["embedded", "production", "airflow"]
    with pytest.raises(SystemExit, match="unknown system 'luigi'"):
        cli.chosen("luigi")


@pytest.mark.parametrize("name", sorted(venvs.PEERS))
def test_each_peer_is_pinned_by_its_shipped_constraints(name: str) -> None:
    peer = venvs.PEERS[name]
    pins = (venvs.CONSTRAINTS / f"{name}.txt").read_text().splitlines()
    package = peer.requirement.split("[")[0].split("==")[0]
    assert f"{package}=={peer.version}" in pins


def test_a_venv_with_a_matching_marker_is_reused(tmp_path: Path) -> None:
    peer = venvs.PEERS["dagster"]
    venv = venvs.venv_dir(tmp_path, peer)
    venv.mkdir(parents=True)
    digest = venvs.hashlib.sha256((venvs.CONSTRAINTS / "dagster.txt").read_bytes()).hexdigest()[:16]
    marker = {"requirement": peer.requirement, "pins": digest, "constraints": "pinned here"}
    (venv / venvs.MARKER).write_text(json.dumps(marker))
    said: list[str] = []
    python, source = venvs.ensure(peer, tmp_path, said.append)
    assert python == venv / "bin" / "python"
    assert source == "pinned here"
    assert said == []  # nothing installed


@pytest.mark.integration
def test_the_canvas_peer_runs_every_workload_on_redis(redis_url: str, tmp_path: Path) -> None:
    workloads, _ = _spec(tmp_path, TINY)
    spec = tmp_path / "workloads.json"
    peer = CanvasPeer(Path(sys.executable), spec, tmp_path / "canvas", redis_url, workers=1, threads=2)
    peer.start()
    try:
        seconds = peer.run(workloads)
        startup = peer.startup()
    finally:
        peer.stop()
    assert sorted(seconds) == ["chain", "dag", "fanout", "one"]
    assert all(value > 0 for value in seconds.values())
    assert startup > 0
    assert peer.versions()["celery"]


def test_recorded_seconds_reads_a_runs_own_span(tmp_path: Path) -> None:
    database = tmp_path / "runs.db"
    with closing(sqlite3.connect(database)) as db:
        db.execute("CREATE TABLE run (id INTEGER, started TEXT, finished TEXT)")
        db.execute("INSERT INTO run VALUES (1, '2026-01-01 10:00:00.250000', '2026-01-01 10:00:02.000000')")
        db.execute("INSERT INTO run VALUES (2, '2026-01-01 10:00:00', NULL)")
        db.commit()
    sql = "SELECT started, finished FROM run WHERE id = ?"
    assert recorded_seconds(database, sql, 1) == 1.75
    with pytest.raises(RuntimeError, match="no finished run 2"):
        recorded_seconds(database, sql, 2)


def test_a_runner_that_times_its_own_tasks_is_taken_at_its_word() -> None:
    workload: peer_common.Workload = {"name": "one", "nodes": ["a"], "edges": []}
    assert peer_common.timed(lambda w: 1234.5, workload) == 1234.5  # Prefect's span inside its flow
    measured = peer_common.timed(lambda w: None, workload)  # everyone else: the call, from outside
    assert 0 <= measured != 1234.5
