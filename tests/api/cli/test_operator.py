"""An operator's first hour: misconfiguration refuses with one line and the fix; Ctrl-C and a
killed ``flowexec run`` leave no execution Running; tables fit 80 columns."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rich.console import Console

from tests.conftest import EXAMPLES

SLOW = {
    "nodes": [
        {"id": "first", "title": "first", "jobType": "linkis.shell.sh", "jobContent": {"code": "echo go"}},
        {
            "id": "slow",
            "title": "slow",
            "jobType": "linkis.shell.sh",
            "jobContent": {"code": "echo sleeping; sleep 60"},
        },
    ],
    "edges": [{"source": "first", "target": "slow"}],
    "props": [],
}


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "FLOWEXEC_HOME": str(home), **extra}
    for name in ("FLOWEXEC_DATABASE_URL", "FLOWEXEC_BROKER_URL", "FLOWEXEC_LINKIS_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)


def _flowexec(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "api.cli", *args], env, timeout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def empty_schema(mysql_url: str) -> str:
    """A database that exists but has no tables (nobody ran the migrations)."""
    base, parent = mysql_url.rsplit("/", 1)
    name = f"{parent}_empty"
    engine = sa.create_engine(mysql_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return f"{base}/{name}"


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.integration
def test_every_process_refuses_an_empty_schema_with_the_upgrade_hint(
    empty_schema: str, redis_url: str, tmp_path: Path
) -> None:
    env = _env(
        tmp_path, FLOWEXEC_DATABASE_URL=empty_schema, FLOWEXEC_BROKER_URL=redis_url, FLOWEXEC_TOKEN="t"
    )
    cli = _flowexec("history", env=env)
    assert cli.returncode == 3
    assert "flowexec db upgrade" in _one_line(cli)
    for what in ("api.wsgi", "api.worker"):
        started = _run([sys.executable, "-c", f"import {what}"], env, 60)
        assert started.returncode == 3, started.stderr
        assert "flowexec db upgrade" in _one_line(started)
    worker = _run([sys.executable, "-m", "celery", "-A", "api.worker", "worker"], env, 60)
    assert worker.returncode == 3 and "flowexec db upgrade" in worker.stderr
    assert "Traceback" not in worker.stderr
    doctor = _flowexec("doctor", env=env)
    assert doctor.returncode == 3
    assert "[FAIL] schema: empty (no migrations applied)" in doctor.stdout
    assert "[ok  ] broker" in doctor.stdout
    upgraded = _flowexec("db", "upgrade", env=env)
    assert upgraded.returncode == 0 and "upgraded: at revision" in upgraded.stdout
    assert "setup plugin" not in upgraded.stdout + upgraded.stderr
    assert _flowexec("history", env=env).returncode == 0


@pytest.mark.integration
def test_a_wrong_database_port_is_one_line_with_the_password_masked(tmp_path: Path) -> None:
    url = f"mysql+pymysql://root:secret@127.0.0.1:{_free_port()}/nowhere"
    result = _flowexec("history", env=_env(tmp_path, FLOWEXEC_DATABASE_URL=url))
    assert result.returncode == 3
    line = _one_line(result)
    assert "not reachable" in line and "root:***@127.0.0.1" in line and "secret" not in line


def test_run_says_at_once_that_its_linkis_cannot_be_reached(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    result = _flowexec("run", str(EXAMPLES / "diamond.json"), env=_env(tmp_path, FLOWEXEC_LINKIS_URL=url))
    assert result.returncode == 3
    assert url in _one_line(result) and "FLOWEXEC_LINKIS_URL" in result.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "flowexec.db").exists()  # nothing was written


def test_rerun_failed_takes_the_flow_path_after_it(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert _flowexec("run", str(EXAMPLES / "failing.json"), "--json", env=env).returncode == 1
    rerun = _flowexec("run", "--rerun-failed", str(EXAMPLES / "failing.json"), "--json", env=env)
    assert rerun.returncode == 1, rerun.stderr
    nodes = {n["id"]: n for n in json.loads(rerun.stdout)["nodes"]}
    assert nodes["start"]["status"] == "Skipped" and nodes["broken"]["status"] == "Failed"


def test_a_failed_run_shows_the_tail_of_the_node_log_and_the_fail_fast_reason(tmp_path: Path) -> None:
    result = _flowexec("run", str(EXAMPLES / "failing.json"), "--json", env=_env(tmp_path))
    out = json.loads(result.stdout)
    assert any("table not found" in line for line in out["logTails"]["broken"])
    plain = _flowexec("run", str(EXAMPLES / "failing.json"), env=_env(tmp_path))
    assert "table not found" in plain.stdout and "last lines of its log" in plain.stdout


def _start_slow_run(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    flow = tmp_path / "slow.json"
    flow.write_text(json.dumps(SLOW), encoding="utf-8")
    out = tmp_path / "run.out"
    with open(out, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "run", str(flow), "--json"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return process, out


def _wait_running(env: dict[str, str], process: subprocess.Popen[bytes], out: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, out.read_text()
        shown = _flowexec("history", "--json", env=env)
        rows = json.loads(shown.stdout) if shown.returncode == 0 and shown.stdout.strip() else []
        if rows and rows[0]["status"] == "Running":
            detail = json.loads(_flowexec("show", str(rows[0]["taskID"]), "--json", env=env).stdout)
            if any(n["id"] == "slow" and n["status"] == "Running" for n in detail["nodes"]):
                return
        time.sleep(0.5)
    raise AssertionError("the slow node never ran\n" + out.read_text())


def _node(detail: dict[str, Any], key: str) -> dict[str, Any]:
    return next(n for n in detail["nodes"] if n["id"] == key)


@pytest.mark.integration
def test_sigint_cancels_the_run_kills_its_job_and_exits_130(tmp_path: Path, gateway: Any) -> None:
    env = _env(tmp_path, FLOWEXEC_LINKIS_URL=gateway.url)
    process, out = _start_slow_run(tmp_path, env)
    try:
        _wait_running(env, process, out)
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 130, out.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    text = out.read_text()
    assert "Traceback" not in text and "interrupted; execution" in text
    detail = json.loads(_flowexec("show", "1", "--json", env=env).stdout)
    assert detail["status"] == "Cancelled"
    slow = _node(detail, "slow")
    assert slow["status"] == "Cancelled" and slow["error"] == "killed: flowexec run was interrupted"
    from flowexec.linkis.client import LinkisClient

    with LinkisClient(gateway.url, user=os.environ.get("USER") or "root", retries=1) as linkis:
        info = linkis.history(int(slow["linkisTaskID"]))
    assert info.status == "Cancelled"


def test_a_killed_run_is_finalized_by_the_next_command(tmp_path: Path) -> None:
    env = _env(tmp_path)
    process, out = _start_slow_run(tmp_path, env)
    try:
        _wait_running(env, process, out)
    finally:
        process.kill()
        process.wait(30)
    after = _flowexec("history", "--json", env=env)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)[0]["status"] == "Cancelled"
    assert "lost its flowexec run process" in after.stderr
    detail = json.loads(_flowexec("show", "1", "--json", env=env).stdout)
    assert "died" in _node(detail, "slow")["error"]
    assert not list((tmp_path / "runs").glob("*.lease"))


# ---------------------------------------------------------------- terminal


def _render(table: Any) -> list[str]:
    console = Console(width=80, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(table)
    return console.export_text().splitlines()


LONG_EXEC = "exec_id018040flowexecutionhost-with-a-long-name:8080flowexecution_alice_flowexecution_123456"


def test_the_run_summary_fits_80_columns_without_breaking_words() -> None:
    from api.cli.run import summary_table

    result = {
        "execID": LONG_EXEC,
        "taskID": 123456,
        "status": "Failed",
        "nodes": [
            {
                "id": "n",
                "title": "a_node_with_a_rather_long_title_indeed",
                "status": "Cancelled",
                "startedAt": "2026-11-26T10:11:12.123456",
                "finishedAt": "2026-11-26T10:11:14.623456",
                "error": "cancelled: fail-fast after extract_customers_from_the_warehouse failed " * 2,
            }
        ],
    }
    lines = _render(summary_table(result))
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    for word in ("10:11:12", "2.50s", "Cancelled", "(task 123456): Failed"):
        assert word in text


def test_history_fits_80_columns() -> None:
    from api.cli import inspect

    row = {
        "taskID": 1234567,
        "flowId": 4242,
        "version": "v000001",
        "status": "Cancelled",
        "user": "a_rather_long_user_name",
        "createdTime": "2026-11-26T10:11:12.123456",
        "durationSeconds": 12345.678,
    }
    lines = _render(inspect.history_table([row], 1))
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    for word in ("1234567", "4242", "v000001", "Cancelled", "2026-11-26 10:11", "12345.68s"):
        assert word in text
    assert inspect._clock("2026-11-26T10:11:12.5") == "10:11:12"


def test_every_option_has_help_and_version_prints() -> None:
    import argparse

    from api.cli import parser

    def walk(p: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
        found = []
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if name != "bench":
                        found += walk(sub)
            elif not isinstance(action, argparse._HelpAction):
                found.append((p.prog, action))
        return found

    missing = [f"{prog} {a.dest}" for prog, a in walk(parser()) if not a.help]
    assert missing == []
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.startswith("flowexec ")


def test_bench_help_states_what_it_destroys() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "bench", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "drops" in result.stdout.lower() and "flush" in result.stdout.lower()
