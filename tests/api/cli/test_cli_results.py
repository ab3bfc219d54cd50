"""A flow with shell, SQL and Python nodes on the embedded default; its result set and logs read back."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.cli.test_cli import flowexec
from tests.conftest import EXAMPLES


def test_mixed_flow_result_set_and_logs_read_back(tmp_path: Path) -> None:
    run = flowexec("run", str(EXAMPLES / "mixed.json"), "--json", home=tmp_path)
    assert run.returncode == 0, run.stderr
    task_id = str(json.loads(run.stdout)["taskID"])

    result = flowexec("result", task_id, "sales_sql", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    sets = json.loads(result.stdout)["resultSets"]
    assert [(s["columns"], s["rows"]) for s in sets] == [(["dt", "total"], [["20250301", "100"]])]

    text = flowexec("result", task_id, "report_py", "--json", home=tmp_path)
    assert json.loads(text.stdout)["resultSets"][0]["rows"] == [["report ready for 20250301"]]

    shell = flowexec("result", task_id, "load_sh", "--json", home=tmp_path)
    assert json.loads(shell.stdout)["resultSets"][0]["rows"] == [["loading sales for 20250301"]]

    logs = flowexec("logs", task_id, "load_sh", home=tmp_path)
    assert logs.returncode == 0, logs.stderr
    assert "Your job is Running now." in logs.stdout
    assert "Your job completed with status Success." in logs.stdout
