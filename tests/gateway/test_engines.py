"""The local engines: which engine runs a job, and the SQL runner file run as the gateway runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.engines import SQL_RUNNER
from gateway.engines import engine_kind
from gateway.files import read_result
from tests.gateway.support import Api


def run_sql(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    code_file = tmp_path / "code.sql"
    code_file.write_text(code, encoding="utf-8")
    argv = [sys.executable, str(SQL_RUNNER), str(tmp_path / "w.db"), str(tmp_path / "out"), str(code_file)]
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=30)


def test_sql_runner_writes_one_result_set_per_row_returning_statement(tmp_path: Path) -> None:
    code = (
        "create table t (a integer, b text, c real, d blob);\n"
        "insert into t values (1, 'x;y', 1.5, x'ff'), (2, null, null, null);\n"
        "select a, b from t order by a;\n"
        "select c, d, a + 0.5 as e from t order by a"
    )
    done = run_sql(tmp_path, code)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "OK, 0 row(s) affected",
        "OK, 2 row(s) affected",
        "Fetched 2 row(s) into result set 0",
        "Fetched 2 row(s) into result set 1",
    ]
    first = read_result(tmp_path / "out" / "_0.dolphin")
    assert first["type"] == "2"
    assert [(m["columnName"], m["dataType"]) for m in first["metadata"]] == [("a", "bigint"), ("b", "string")]
    assert first["rows"] == [["1", "x;y"], ["2", None]]
    second = read_result(tmp_path / "out" / "_1.dolphin")
    assert [m["dataType"] for m in second["metadata"]] == ["double", "binary", "double"]
    assert second["rows"] == [["1.5", "ff", "1.5"], [None, None, "2.5"]]


def test_sql_runner_error_goes_to_stderr_with_exit_code_1(tmp_path: Path) -> None:
    done = run_sql(tmp_path, "select * from no_such_table;")

    assert done.returncode == 1
    assert done.stderr == "OperationalError: no such table: no_such_table\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("engine", "run_type", "kind"),
    [
        ("shell", "sh", "shell"),
        ("shell", "SHELL", "shell"),
        ("python", "py3", "python"),
        ("hive", "hql", "sql"),
        ("sqlite", "sql", "sql"),
        ("jdbc", "jdbc", "sql"),
        ("spark", "python", None),
        ("python", "sql", None),
        ("nebula", "ngql", None),
    ],
)
def test_engine_kind_pairs_engine_and_run_type(engine: str, run_type: str, kind: str | None) -> None:
    assert engine_kind(engine, run_type) == kind


def test_sql_error_fails_the_job(api: Api) -> None:
    body = {
        "executionContent": {"code": "select * from no_such_table;", "runType": "sql"},
        "labels": {"engineType": "jdbc-4", "userCreator": "hadoop-nodeexecution"},
    }
    task = api.finish(api.data("POST", "entrance/submit", json=body)["taskID"])

    assert task["status"] == "Failed" and "no such table" in task["errDesc"]
