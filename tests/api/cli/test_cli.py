"""``flowexec run`` on the embedded default, as a newcomer runs it: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES


def flowexec(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOWEXEC_HOME": str(home)}
    for name in ("FLOWEXEC_DATABASE_URL", "FLOWEXEC_BROKER_URL", "FLOWEXEC_LINKIS_URL"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def run_json(name: str, home: Path) -> tuple[int, dict[str, Any]]:
    result = flowexec("run", str(EXAMPLES / name), "--json", home=home)
    assert result.stdout.count("\n") == 1, result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def assert_parents_first(result: dict[str, Any], edges: list[tuple[str, str]]) -> None:
    nodes = {n["id"]: n for n in result["nodes"]}
    for parent, child in edges:
        assert nodes[child]["startedAt"] >= nodes[parent]["finishedAt"], (parent, child)


def test_diamond_succeeds_with_exit_0_and_json(tmp_path: Path) -> None:
    code, result = run_json("diamond.json", tmp_path)
    assert code == 0
    assert set(result) == {"execID", "taskID", "status", "nodes", "logTails"}
    assert result["status"] == "Succeed" and isinstance(result["taskID"], int)
    assert [n["status"] for n in result["nodes"]] == ["Succeed"] * 4
    for node in result["nodes"]:
        assert set(node) == {"id", "title", "status", "startedAt", "finishedAt", "error"}
        assert node["error"] is None
    assert_parents_first(
        result,
        [
            ("extract_sh", "agg_sh"),
            ("extract_sh", "report_sh"),
            ("agg_sh", "join_end"),
            ("report_sh", "join_end"),
        ],
    )


def test_n_shape_orders_every_node_after_its_parents(tmp_path: Path) -> None:
    code, result = run_json("n_shape.json", tmp_path)
    assert code == 0
    assert_parents_first(result, [("a", "c"), ("b", "c"), ("b", "d")])


def test_python_node_runs(tmp_path: Path) -> None:
    code, result = run_json("python.json", tmp_path)
    assert code == 0 and result["status"] == "Succeed"


def test_failing_middle_node_exits_1_and_cancels_the_rest(tmp_path: Path) -> None:
    code, result = run_json("failing.json", tmp_path)
    assert code == 1 and result["status"] == "Failed"
    states = {n["id"]: n["status"] for n in result["nodes"]}
    assert states == {"start": "Succeed", "broken": "Failed", "never": "Cancelled"}
    broken = next(n for n in result["nodes"] if n["id"] == "broken")
    assert "table not found" in broken["error"]
    never = next(n for n in result["nodes"] if n["id"] == "never")
    assert never["startedAt"] is None


def test_summary_table_without_json(tmp_path: Path) -> None:
    result = flowexec("run", str(EXAMPLES / "diamond.json"), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Succeed" in result.stdout and "extract_sh" in result.stdout


def _node(key: str, **extra: Any) -> dict[str, Any]:
    return {"id": key, "title": key, "jobType": "linkis.shell.sh", "jobContent": {"code": "echo hi"}, **extra}


BAD_FLOWS: dict[str, tuple[Any, str]] = {
    "cycle": (
        {
            "nodes": [_node("a"), _node("b"), _node("c")],
            "edges": [
                {"source": "a", "target": "b"},
                {"source": "b", "target": "c"},
                {"source": "c", "target": "a"},
            ],
        },
        "cycle: ",
    ),
    "missing_node": (
        {"nodes": [_node("a")], "edges": [{"source": "a", "target": "ghost"}]},
        "'ghost' names no node",
    ),
    "duplicate": ({"nodes": [_node("a"), _node("a")], "edges": []}, "duplicate node id 'a'"),
    "job_type": (
        {"nodes": [_node("a", jobType="linkis.cobol")], "edges": []},
        "unknown jobType 'linkis.cobol'",
    ),
    "empty_script": (
        {"nodes": [_node("a", jobContent={"script": "empty.sh"})], "edges": []},
        "script 'empty.sh' is empty",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FLOWS))
def test_bad_flow_exits_2_with_one_line_and_writes_nothing(case: str, tmp_path: Path) -> None:
    doc, expected = BAD_FLOWS[case]
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(doc))
    (tmp_path / "empty.sh").write_text("  \n")
    home = tmp_path / "home"
    result = flowexec("run", str(flow), home=home)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flowexec: error: ") and expected in lines[0], (
        result.stderr
    )
    assert not home.exists()


def test_cycle_error_names_the_path(tmp_path: Path) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(BAD_FLOWS["cycle"][0]))
    result = flowexec("run", str(flow), home=tmp_path / "home")
    path = result.stderr.strip().split("cycle: ", 1)[1].split(" -> ")
    assert path[0] == path[-1] and set(path) == {"a", "b", "c"} and len(path) == 4


def test_malformed_json_and_missing_file_exit_2(tmp_path: Path) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text('{"nodes": [')
    result = flowexec("run", str(flow), home=tmp_path / "home")
    assert result.returncode == 2 and "not valid JSON" in result.stderr
    result = flowexec("run", str(tmp_path / "absent.json"), home=tmp_path / "home")
    assert result.returncode == 2 and "no such flow file" in result.stderr
    assert not (tmp_path / "home").exists()
