"""Local engines: which one runs a job, and the command that runs it (runners are real files)."""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.jobs import Job

#: Runs SQL statements in order on a SQLite file; each row-returning one becomes ``_<n>.dolphin``.
SQL_RUNNER = Path(__file__).resolve().with_name("sql_runner.py")

HANG_CODE = "import time\nwhile True:\n    time.sleep(60)\n"


def engine_kind(engine: str, run_type: str) -> str | None:
    """Pick the local engine for an engine name and runType; None means "no engine available"."""
    run_type = run_type.lower()
    if engine == "shell" and run_type in ("shell", "sh"):
        return "shell"
    if engine == "python" and run_type in ("python", "py", "py3"):
        return "python"
    if engine in ("jdbc", "hive", "spark", "sqlite") and run_type in ("sql", "hql", "jdbc"):
        return "sql"
    return None


#: errCode of Linkis's "Cannot find the path of engineConn" (linkis-engineconn-plugin-core).
ERR_NO_ENGINE_CONN = 20001


def simulated(simulate: frozenset[str], engine: str, run_type: str) -> bool:
    """True when ``engine`` or ``engine.runType`` (or a prefix of it) is in the simulate list."""
    full = f"{engine}.{run_type}".lower()
    return any(full == name or full.startswith(name + ".") for name in simulate)


def missing_engine(engine: str, version: str, run_type: str) -> str:
    """Linkis's answer for an engine it has no plugin for, with how to simulate it here."""
    return (
        f"Cannot find the path of engineConn with specified version: {version} and engineConnType: "
        f"{engine}(找不到版本为：{version} engineConnType 为:{engine}的engineConn路径). The local gateway "
        f"runs no {engine}.{run_type} jobs: simulate them with FLOWEXEC_GATEWAY_SIMULATE={engine} "
        f"(or {engine}.{run_type}), or flowexec run --simulate {engine}"
    )


def command(job: Job) -> list[str] | None:
    """Build the command of a job; code goes to a file in its own working directory."""
    kind = engine_kind(job.engine, job.run_type)
    job.workdir.mkdir(parents=True, exist_ok=True)
    if job.fault == "hang":
        return [sys.executable, "-c", HANG_CODE]
    if kind == "shell":  # a file, not ``bash -c``: no argument-size limit, not visible in ``ps``
        script = job.workdir / "script.sh"
        script.write_text(job.code, encoding="utf-8")
        return ["bash", str(script)]
    if kind == "python":
        script = job.workdir / "script.py"
        script.write_text(job.code, encoding="utf-8")
        return [sys.executable, str(script)]
    if kind == "sql":
        code_file = job.workdir / "code.sql"
        code_file.write_text(job.code, encoding="utf-8")
        return [sys.executable, str(SQL_RUNNER), job.sqlite_path, str(job.result_dir), str(code_file)]
    return None
