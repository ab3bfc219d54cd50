"""``flowexec run`` strategies on the command line, with history kept in ``$FLOWEXEC_HOME``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.api.cli.test_cli import flowexec
from tests.conftest import EXAMPLES


def _states(result_stdout: str) -> dict[str, str]:
    return {n["id"]: n["status"] for n in json.loads(result_stdout)["nodes"]}


def _executions(home: Path) -> int:
    with sqlite3.connect(home / "flowexec.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM dss_workflow_task").fetchone()[0])


def test_rerun_failed_after_a_failed_run_skips_what_succeeded(tmp_path: Path) -> None:
    first = flowexec("run", str(EXAMPLES / "failing.json"), "--json", home=tmp_path)
    assert first.returncode == 1
    task_id = json.loads(first.stdout)["taskID"]
    again = flowexec("run", str(EXAMPLES / "failing.json"), "--json", "--rerun-failed", home=tmp_path)
    assert again.returncode == 1
    assert _states(again.stdout) == {"start": "Skipped", "broken": "Failed", "never": "Cancelled"}
    by_id = flowexec(
        "run", str(EXAMPLES / "failing.json"), "--json", "--rerun-failed", str(task_id), home=tmp_path
    )
    assert _states(by_id.stdout) == {"start": "Skipped", "broken": "Failed", "never": "Cancelled"}


def test_selected_from_and_to(tmp_path: Path) -> None:
    diamond = str(EXAMPLES / "diamond.json")
    selected = flowexec("run", diamond, "--json", "--selected", "extract_sh,join_end", home=tmp_path)
    assert selected.returncode == 0
    assert _states(selected.stdout) == {
        "extract_sh": "Succeed",
        "agg_sh": "Skipped",
        "report_sh": "Skipped",
        "join_end": "Succeed",
    }
    after = flowexec("run", diamond, "--json", "--from", "agg_sh", home=tmp_path)
    assert _states(after.stdout) == {
        "extract_sh": "Skipped",
        "agg_sh": "Succeed",
        "report_sh": "Skipped",
        "join_end": "Succeed",
    }
    before = flowexec("run", diamond, "--json", "--to", "report_sh", home=tmp_path)
    assert _states(before.stdout) == {
        "extract_sh": "Succeed",
        "agg_sh": "Skipped",
        "report_sh": "Succeed",
        "join_end": "Skipped",
    }


def test_bad_strategy_arguments_exit_2_and_write_nothing(tmp_path: Path) -> None:
    diamond = str(EXAMPLES / "diamond.json")
    assert flowexec("run", diamond, "--json", home=tmp_path).returncode == 0
    count = _executions(tmp_path)
    cases = [
        (["--selected", "extract_sh,ghost"], "unknown node id(s): ghost"),
        (["--selected", "extract_sh", "--to", "agg_sh"], "choose one of"),
        (["--rerun-failed"], "nothing to rerun"),
        (["--from", "nowhere"], "unknown node id(s): nowhere"),
        (["--retries", "-1"], "must not be negative"),
    ]
    for args, message in cases:
        result = flowexec("run", diamond, *args, home=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    assert _executions(tmp_path) == count
    fresh = tmp_path / "fresh"
    result = flowexec("run", diamond, "--selected", "ghost", home=fresh)
    assert result.returncode == 2 and not fresh.exists()


def test_continue_policy_from_the_command_line(tmp_path: Path) -> None:
    result = flowexec(
        "run", str(EXAMPLES / "failing.json"), "--json", "--failure-policy", "continue", home=tmp_path
    )
    assert result.returncode == 1
    nodes = {n["id"]: n for n in json.loads(result.stdout)["nodes"]}
    assert nodes["never"]["status"] == "Skipped" and "upstream failed" in nodes["never"]["error"]
